"""``python -m analysis records verify RECORD_ID [--file HASH=PATH]...``: re-run a record and compare.

The record's input hashes name its files; each is taken from ``--file``, or else found through
the registry (a model revision's file, a linked data set) or the path the record names, and its
content is hashed again before use. The analysis runs in this process with a fresh result cache
(so a model's outputs are computed, not read back), from the record's own parameters, and every
field of the result is compared: equal, or within the tolerance its capability declares
(``TOLERANCES`` in ``analysis/<capability>/rerun.py``, listed in docs/records.md).

Exit codes: 0 reproduced; 3 a field differs; 2 bad input (unknown id, a file that is missing or
holds other content, a record that cannot be re-run).
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from analysis.cli.main import EXIT_GATE_FAILED
from analysis.cli.output import emit, progress
from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness.rerun import TOLERANCES as FAIRNESS_TOLERANCES
from analysis.fairness.rerun import comparable as fairness_comparable
from analysis.fairness.rerun import rerun_fairness_record
from analysis.hashing import sha256_path
from analysis.model_card.rerun import TOLERANCES as PERFORMANCE_TOLERANCES
from analysis.model_card.rerun import rerun_performance_record
from analysis.privacy.rerun import TOLERANCES as PRIVACY_TOLERANCES
from analysis.privacy.rerun import rerun_privacy_record
from analysis.records import AnalysisRecord, FieldTolerance, RecordStore

MAX_SHOWN = 20  # differing fields printed; the JSON lists them all
COMPARED = ("model", "revision", "inputs", "result")


@dataclass(frozen=True, slots=True)
class Rerun:
    """How a record kind is re-run: its capability's function, tolerances and result normaliser."""

    run: Callable[[AnalysisRecord, Mapping[str, Path]], dict[str, Any]]
    tolerances: tuple[FieldTolerance, ...]
    comparable: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict


RERUNS: dict[str, Rerun] = {  # one row per record kind; the capabilities own what is in each
    "privacy": Rerun(rerun_privacy_record, PRIVACY_TOLERANCES),
    "fairness": Rerun(rerun_fairness_record, FAIRNESS_TOLERANCES, fairness_comparable),
    "performance": Rerun(rerun_performance_record, PERFORMANCE_TOLERANCES),
}


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str
    recorded: Any
    rerun: Any
    tolerance: FieldTolerance | None
    new: bool = False  # in the re-run only: a field a later version of the analysis added

    def describe(self) -> str:
        allowed = "" if self.tolerance is None else f" (tolerance {_tolerance_text(self.tolerance)})"
        return f"{self.field}: recorded {_short(self.recorded)}, re-run {_short(self.rerun)}{allowed}"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "recorded": self.recorded, "rerun": self.rerun}


def run_verify(args: argparse.Namespace) -> int:
    given = parse_files(args.file)
    record = RecordStore().get(args.record_id.strip())
    rerun = RERUNS.get(record.kind)
    if rerun is None:
        raise AnalysisInputError(
            f"record {record.record_id!r} is a {record.kind!r} record; records verify re-runs "
            f"{describe_choices(RERUNS)} records"
        )
    files = locate_inputs(record, given)
    os.environ["LOUPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="loupe-verify-")  # re-run, never read back
    progress(f"re-running {record.record_id} ({record.kind}) ...")
    with registry_for_rerun(record, files):
        payload = rerun.run(record, files)
    recorded = {**record.to_dict(), "result": rerun.comparable(record.result)}
    rerun_payload = {**payload, "result": rerun.comparable(payload["result"])}
    compared = [
        d for key in COMPARED for d in compare_values(key, recorded.get(key), rerun_payload.get(key), rerun.tolerances)
    ]
    differences = [d for d in compared if not d.new]
    new_fields = [d.field for d in compared if d.new]
    versions = {
        name: {"recorded": record.versions.get(name), "rerun": value}
        for name, value in payload.get("versions", {}).items()
        if record.versions.get(name) != value
    }
    lines = (
        ["reproduced"]
        if not differences
        else [f"differs: {len(differences)} field{'s' if len(differences) != 1 else ''}"]
        + [d.describe() for d in differences[:MAX_SHOWN]]
        + (
            [f"... and {len(differences) - MAX_SHOWN} more (all of them with --json PATH)"]
            if len(differences) > MAX_SHOWN
            else []
        )
    )
    if new_fields:
        lines.append(
            f"{len(new_fields)} field{'s' if len(new_fields) != 1 else ''} of the re-run "
            f"{'are' if len(new_fields) != 1 else 'is'} not in the record (added by a later version of Loupe; "
            f"not compared): {', '.join(new_fields[:MAX_SHOWN])}" + (" ..." if len(new_fields) > MAX_SHOWN else "")
        )
    if versions:
        lines.append(
            "library versions differ from the record's: "
            + ", ".join(f"{name} {v['recorded']} -> {v['rerun']}" for name, v in versions.items())
        )
    emit(
        {
            "record_id": record.record_id,
            "reproduced": not differences,
            "differences": [d.to_dict() for d in differences],
            "new_fields": new_fields,
            "versions_differ": versions,
        },
        args.json,
        "\n".join(lines),
    )
    return EXIT_GATE_FAILED if differences else 0


def parse_files(items: Sequence[str]) -> dict[str, Path]:
    """``["HASH=PATH", ...]`` -> {hash: path}; AnalysisInputError naming a malformed item or a missing file."""
    files = {}
    for item in items:
        digest, sep, path = item.partition("=")
        digest = digest.strip().lower()
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not path:
            raise AnalysisInputError(f"--file {item!r} must be HASH=PATH with HASH 64 hex digits (a sha256)")
        if not Path(path).exists():
            raise AnalysisInputError(f"--file {item!r}: {path!r} does not exist")
        files[digest] = Path(path)
    return files


def locate_inputs(record: AnalysisRecord, given: Mapping[str, Path]) -> dict[str, Path]:
    """Input name -> a path whose content has the recorded hash; AnalysisInputError for a missing one."""
    seen = dict(_registry_locations(record))
    for name, value in _recorded_paths(record):
        seen.setdefault(name, value)
    files: dict[str, Path] = {}
    inputs = dict(record.inputs)
    if record.model_id and record.revision and "model" not in inputs:  # a fairness record names it only here
        inputs["model"] = record.revision
    for name, recorded in inputs.items():
        digest = str(recorded).split("[", 1)[0]  # a split of a file: "<sha256>[split=train]"
        if digest in given:
            actual = sha256_path(given[digest])
            if actual != digest:
                raise AnalysisInputError(
                    f"--file {digest}={given[digest]}: that file's sha256 is {actual}, not the recorded {name} hash"
                )
            files[name] = given[digest]
            continue
        candidates = seen.get(digest, [])
        found = next((p for p in candidates if p.exists() and sha256_path(p) == digest), None)
        if found is None:
            where = f"last seen at {candidates[0]}" if candidates else "no location recorded"
            raise AnalysisInputError(
                f"record {record.record_id!r}: input {name!r} (sha256 {digest}) is missing ({where}); "
                f"give it with --file {digest}=PATH"
            )
        files[name] = found
    return files


@contextmanager
def registry_for_rerun(record: AnalysisRecord, files: Mapping[str, Path]) -> Iterator[None]:
    """The registry a model-scored re-run reads: this home's, or a scratch one for moved files.

    The capabilities load a record's model (and its linked data sets) through the registry. When
    the located model file is the one the registry names, nothing changes. When it was found
    elsewhere (``--file``, or the model is not registered in this home), the model is registered
    again in a scratch home from the located files, with the registered revision's trust and
    user-set input range, and ``LOUPE_HOME`` points there for the re-run only: the same content
    hash gives the same revision, and this home's registry is never written.
    """
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    model_file = files.get("model")
    if not record.model_id or model_file is None:
        yield
        return
    registry = ModelRegistry()
    model = registry.get(record.model_id) if record.model_id in registry.ids() else None
    revision = next((r for r in model.revisions if r.revision == record.revision), None) if model else None
    linked = model.datasets if model else ()
    if revision is not None and Path(revision.path).resolve() == Path(model_file).resolve():
        yield
        return
    datasets: dict[DatasetRole, Path] = {}
    for name, value in record.inputs.items():
        digest, split = str(value).split("[", 1)[0], "[" in str(value)
        role = next((d.role for d in linked if d.sha256 == digest), None)
        if role is None and name in files and name != "model":
            role = DatasetRole.DATA if split or name == "data" else DatasetRole(name)
        if role is not None and name in files:
            datasets[role] = files[name]
    user_range = revision is not None and revision.summary.input_range_source == "set by the user"
    scratch = Path(tempfile.mkdtemp(prefix="loupe-verify-home-"))
    ModelRegistry(scratch).register(
        RegisterModelSpec(
            path=Path(model_file),
            model_id=record.model_id,
            datasets=datasets,
            trust_model_code=revision.trusted if revision is not None else False,
            input_range=tuple(revision.summary.input_range) if user_range else None,
            input_name=revision.summary.input_name if revision is not None else None,
        )
    )
    previous = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(scratch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LOUPE_HOME", None)
        else:
            os.environ["LOUPE_HOME"] = previous


def _registry_locations(record: AnalysisRecord) -> Iterator[tuple[str, list[Path]]]:
    """Hash -> paths the registry knows: every revision's file and every linked data set."""
    from analysis.models.registry import ModelRegistry

    found: dict[str, list[Path]] = {}
    for model in ModelRegistry().list():
        for revision in model.revisions:
            found.setdefault(revision.revision, []).append(Path(revision.path))
        for dataset in model.datasets:
            found.setdefault(dataset.sha256, []).append(Path(dataset.path))
    yield from found.items()


def _recorded_paths(record: AnalysisRecord) -> Iterator[tuple[str, list[Path]]]:
    """Hash -> the path the record names for that input (its ``locations``, or a privacy audit's files)."""
    locations = record.extra.get("locations", {})
    for name, path in locations.items() if isinstance(locations, Mapping) else ():
        digest = str(record.inputs.get(name, "")).split("[", 1)[0]
        if path and digest:
            yield digest, [Path(path)]
    source = record.parameters.get("source")
    if isinstance(source, Mapping):
        for name in ("members", "nonmembers"):
            path, digest = source.get(name), str(record.inputs.get(name, "")).split("[", 1)[0]
            if path and digest:
                yield digest, [Path(path)]


def compare_values(
    path: str, recorded: Any, rerun: Any, tolerances: Sequence[FieldTolerance]
) -> Iterator[FieldDifference]:
    """Every leaf where ``recorded`` and ``rerun`` differ beyond the tolerance matching its path."""
    if isinstance(recorded, Mapping) and isinstance(rerun, Mapping):
        for key in sorted(set(recorded) | set(rerun), key=str):
            if key not in recorded:
                yield FieldDifference(f"{path}.{key}", None, rerun[key], None, new=True)
                continue
            yield from compare_values(
                f"{path}.{key}", recorded.get(key, _MISSING), rerun.get(key, _MISSING), tolerances
            )
    elif isinstance(recorded, list | tuple) and isinstance(rerun, list | tuple):
        if len(recorded) != len(rerun):
            yield FieldDifference(f"{path} (length)", len(recorded), len(rerun), None)
            return
        for index, (a, b) in enumerate(zip(recorded, rerun, strict=True)):
            yield from compare_values(f"{path}.{index}", a, b, tolerances)
    elif _is_number(recorded) and _is_number(rerun) and (isinstance(recorded, float) or isinstance(rerun, float)):
        tolerance = next((t for t in tolerances if fnmatchcase(path, t.pattern)), None)
        allowed = 0.0 if tolerance is None else tolerance.absolute + tolerance.relative * abs(recorded)
        if not (recorded == rerun or abs(recorded - rerun) <= allowed):
            yield FieldDifference(path, recorded, rerun, tolerance)
    elif recorded != rerun or (type(recorded) is not type(rerun) and not (_is_number(recorded) and _is_number(rerun))):
        yield FieldDifference(path, _shown(recorded), _shown(rerun), None)


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _tolerance_text(tolerance: FieldTolerance) -> str:
    parts = [
        f"±{tolerance.absolute:g}" if tolerance.absolute else "",
        f"{tolerance.relative:g} relative" if tolerance.relative else "",
    ]
    return " + ".join(p for p in parts if p) or "exact"
