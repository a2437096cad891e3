"""The model registry: which models Loupe knows, their revisions and linked datasets.

State lives in ``<LOUPE_HOME>/registry.sqlite3`` (SQLite in WAL mode: many concurrent
readers, one writer at a time, each call in its own connection, so it is safe from
Streamlit's threads and from several processes). A model's identity is the SHA-256 of its
file (or SavedModel folder); registering changed content under the same id adds a
revision and makes it current. Old revisions stay addressable by hash prefix while the
file they were registered from still holds that content.

Listing and reading the registry never imports TensorFlow; only ``register`` does.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.data_forms import CONVERTED_SUFFIXES, ConversionPolicy, DataForm, DataSourceSpec, convert_dataset
from analysis.datasets import DatasetInfo, DatasetRole, inspect_dataset
from analysis.errors import AnalysisInputError, describe_choices
from analysis.hashing import sha256_path
from analysis.models.files import detect_format
from analysis.models.loading import describe_model, load_keras_model
from analysis.models.revisions import RevisionRecord, check_revision_available
from analysis.models.summary import ModelSummary
from analysis.paths import loupe_home
from analysis.sqlite_store import connect_database

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY, current_revision TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revisions (
    model_id TEXT NOT NULL, revision TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, trusted INTEGER NOT NULL,
    summary TEXT NOT NULL, registered_at TEXT NOT NULL, PRIMARY KEY (model_id, revision));
CREATE TABLE IF NOT EXISTS datasets (
    model_id TEXT NOT NULL, role TEXT NOT NULL, info TEXT NOT NULL, linked_at TEXT NOT NULL,
    PRIMARY KEY (model_id, role));
CREATE TABLE IF NOT EXISTS training_privacy (
    model_id TEXT NOT NULL, revision TEXT NOT NULL, guarantee TEXT NOT NULL, PRIMARY KEY (model_id, revision));
CREATE TABLE IF NOT EXISTS training_recipe (
    model_id TEXT NOT NULL, revision TEXT NOT NULL, recipe TEXT NOT NULL, PRIMARY KEY (model_id, revision));
"""

ANY_REVISION = "any"
ID_TAKEN = (
    "model id {model_id!r} is taken (current revision {short}, registered {registered_at}); "
    "confirm that the new file replaces it, or choose another id"
)
ID_CHANGED = (
    "model {model_id!r} changed while you were confirming (current revision now {short}, registered "
    "{registered_at}); check what you replace and confirm again"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterModelSpec:
    """What to register: a model file, a short id, and optionally datasets to link.

    ``datasets`` maps a role to a ``.npz`` path, an image folder, a CSV/Parquet table, or a
    :class:`DataSourceSpec` naming a table's columns (converted to the model's input; docs/models_beyond_demo.md);
    ``input_range`` overrides the value range
    Loupe infers from the model; ``trust_model_code`` allows Lambda layers and custom objects.
    ``input_name`` and ``input_size`` pick a frozen GraphDef's input placeholder and image size.
    ``notes`` are added to the model's summary notes (shown on the model pages), e.g. how a demo
    model was built. ``replaces`` guards an existing id: :data:`ANY_REVISION` (the CLI, run by the operator) replaces
    whatever is there; None requires the id to be new; a revision hash requires that revision to
    still be the current one (the web UI's confirmed replacement), checked in the same transaction.
    ``training_privacy`` is the (epsilon, delta) guarantee of a DP-SGD run that produced this file
    (``analysis.training.accounting.DPGuarantee.to_dict()``), stored per revision in its own table
    (stores from before it get the empty table) and read with :meth:`ModelRegistry.training_privacy`.
    ``training_recipe`` is how this file was trained (epochs, batch_size, optimizer, learning_rate,
    augmentation: the fields of ``analysis.privacy.reference_spec.TrainingRecipe``), the recipe reference-model
    attacks train their references with unless the audit gives one; stored as a plain mapping per revision in its
    own table and read with :meth:`ModelRegistry.training_recipe`. The models tier does not check the fields (it
    must not import privacy): the CLI checks them before registering, and an audit checks them again on use.
    """

    path: Path
    model_id: str
    datasets: Mapping[DatasetRole, Path | DataSourceSpec] = field(default_factory=dict)
    trust_model_code: bool = False
    input_range: tuple[float, float] | None = None
    input_name: str | None = None
    input_size: int | None = None
    replaces: str | None = ANY_REVISION
    notes: tuple[str, ...] = ()
    training_privacy: Mapping[str, Any] | None = None
    training_recipe: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not _SLUG.match(self.model_id):
            raise AnalysisInputError(
                f"model id {self.model_id!r} is not valid: use 1-63 lowercase letters, digits, '.', '_' or '-', "
                "starting with a letter or digit (e.g. 'shapes-cnn')"
            )
        if self.input_range is not None and not self.input_range[0] < self.input_range[1]:
            raise AnalysisInputError(f"input range {self.input_range!r} must be LO,HI with LO < HI")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRecord:
    """A registered model: its current revision, all revisions (newest first), datasets, and the
    training recipe registered with the current revision (None: none registered)."""

    model_id: str
    current: RevisionRecord
    revisions: tuple[RevisionRecord, ...]
    datasets: tuple[DatasetInfo, ...]
    training_recipe: Mapping[str, Any] | None = None

    def dataset(self, role: DatasetRole) -> DatasetInfo | None:
        return next((d for d in self.datasets if d.role is role), None)

    def to_dict(self) -> dict[str, Any]:
        """The ``models list`` JSON entry documented in docs/cli.md."""
        current = self.current.to_dict()
        return {
            "id": self.model_id,
            **current,
            "revisions": [
                {"revision": r.revision, "registered_at": r.registered_at, "path": r.path} for r in self.revisions
            ],
            "datasets": [d.to_dict() for d in self.datasets],
            "training_recipe": None if self.training_recipe is None else dict(self.training_recipe),
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelRegistry:
    """The registry under a Loupe home folder (default: :func:`analysis.paths.loupe_home`)."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home is not None else loupe_home()
        self.home.mkdir(parents=True, exist_ok=True)
        self.database = self.home / "registry.sqlite3"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect_database(self.database)

    # -- writing -----------------------------------------------------------------------
    def register(self, spec: RegisterModelSpec) -> ModelRecord:
        """Register ``spec.path`` under ``spec.model_id`` (a new revision if its content changed)."""

        path = Path(spec.path).expanduser().resolve()
        model_format = detect_format(path)
        model = load_keras_model(
            path, trust_model_code=spec.trust_model_code, input_name=spec.input_name, input_size=spec.input_size
        )
        summary = describe_model(model, model_format)
        if spec.input_range is not None:
            summary = ModelSummary.from_dict(
                {**summary.to_dict(), "input_range": list(spec.input_range), "input_range_source": "set by the user"}
            )
        if spec.notes:
            summary = replace(summary, notes=(*summary.notes, *spec.notes))
        infos = [self._inspect(p, role, summary) for role, p in spec.datasets.items()]
        revision = sha256_path(path)
        stat = path.stat()
        now = _now()
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            self._check_replaces(connection, spec)
            connection.execute(
                "INSERT INTO revisions VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(model_id, revision) DO UPDATE SET "
                "path=excluded.path, size_bytes=excluded.size_bytes, mtime_ns=excluded.mtime_ns, "
                "trusted=excluded.trusted, summary=excluded.summary",
                (
                    spec.model_id,
                    revision,
                    str(path),
                    model_format.value,
                    stat.st_size,
                    stat.st_mtime_ns,
                    int(spec.trust_model_code),
                    json.dumps(summary.to_dict()),
                    now,
                ),
            )
            connection.execute(
                "INSERT INTO models VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "current_revision=excluded.current_revision, updated_at=excluded.updated_at",
                (spec.model_id, revision, now, now),
            )
            for info in infos:
                self._store_dataset(connection, spec.model_id, info)
            if spec.training_privacy is not None:
                connection.execute(
                    "INSERT INTO training_privacy VALUES (?,?,?) ON CONFLICT(model_id, revision) DO UPDATE SET "
                    "guarantee=excluded.guarantee",
                    (spec.model_id, revision, json.dumps(dict(spec.training_privacy), allow_nan=False)),
                )
            if spec.training_recipe is not None:
                connection.execute(
                    "INSERT INTO training_recipe VALUES (?,?,?) ON CONFLICT(model_id, revision) DO UPDATE SET "
                    "recipe=excluded.recipe",
                    (spec.model_id, revision, json.dumps(dict(spec.training_recipe), allow_nan=False)),
                )
            connection.execute("COMMIT")
        return self.get(spec.model_id)

    @staticmethod
    def _check_replaces(connection: sqlite3.Connection, spec: RegisterModelSpec) -> None:
        if spec.replaces == ANY_REVISION:
            return
        row = connection.execute(
            "SELECT m.current_revision, r.registered_at FROM models m JOIN revisions r "
            "ON r.model_id = m.id AND r.revision = m.current_revision WHERE m.id=?",
            (spec.model_id,),
        ).fetchone()
        if row is None and spec.replaces is None:
            return
        if row is not None and row[0] == spec.replaces:
            return
        connection.execute("ROLLBACK")
        current = {
            "model_id": spec.model_id,
            "short": (row or ("(none)",))[0][:12],
            "registered_at": (row or ("", "never"))[1],
        }
        raise AnalysisInputError((ID_TAKEN if spec.replaces is None else ID_CHANGED).format(**current))

    def _inspect(self, path: Path | DataSourceSpec, role: DatasetRole, summary: ModelSummary) -> DatasetInfo:
        """Check a data set against the model; a folder or table is first converted to the model's input
        (streamed into ``<home>/datasets/``), and the info records its source and content hash."""
        if not isinstance(path, DataSourceSpec):
            path = Path(path).expanduser()
            if not (path.is_dir() or path.suffix.lower() in CONVERTED_SUFFIXES):
                return inspect_dataset(path, role, input_shape=summary.input_shape)
            path = DataSourceSpec(path=path)
        if path.form is DataForm.NPZ:
            return inspect_dataset(path.path, role, input_shape=summary.input_shape)
        policy = ConversionPolicy(
            shape=tuple(summary.input_shape), input_range=summary.input_range, n_classes=summary.n_classes
        )
        converted = convert_dataset(path, policy, out_dir=self.home / "datasets")
        info = inspect_dataset(converted.path, role, input_shape=summary.input_shape)
        return replace(info, source=converted.source)

    def converted_data_path(self, model_id: str, data: Path | DataSourceSpec) -> Path:
        """The ``.npz`` an analysis reads for ``data`` given to one command (``privacy --members``,
        ``fairness --data``, ...): an ``.npz`` as it is, a folder or table converted for the model's input."""
        if not isinstance(data, DataSourceSpec):
            data = Path(data).expanduser()
            if not (data.is_dir() or data.suffix.lower() in CONVERTED_SUFFIXES):
                return data
        info = self._inspect(data, DatasetRole.DATA, self.get(model_id).current.summary)
        return Path(info.path)

    def link_dataset(self, model_id: str, role: DatasetRole, path: Path | DataSourceSpec) -> DatasetInfo:
        """Link (or replace) the dataset of ``role`` for a registered model."""
        record = self.get(model_id)
        info = self._inspect(path, role, record.current.summary)
        with self._connect() as connection:
            self._store_dataset(connection, model_id, info)
        return info

    @staticmethod
    def _store_dataset(connection: sqlite3.Connection, model_id: str, info: DatasetInfo) -> None:
        connection.execute(
            "INSERT INTO datasets VALUES (?,?,?,?) ON CONFLICT(model_id, role) DO UPDATE SET "
            "info=excluded.info, linked_at=excluded.linked_at",
            (model_id, info.role.value, json.dumps(info.to_dict()), _now()),
        )

    # -- reading -----------------------------------------------------------------------
    def training_privacy(self, model_id: str, revision: str | None) -> dict[str, Any] | None:
        """The DP-SGD guarantee registered with this revision (None: not trained with DP-SGD, or unknown)."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT guarantee FROM training_privacy WHERE model_id=? AND revision=?", (model_id, revision or "")
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def training_recipe(self, model_id: str, revision: str) -> dict[str, Any] | None:
        """The training recipe registered with this revision (full hash), a plain mapping of
        ``TrainingRecipe`` fields; None when none was registered."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT recipe FROM training_recipe WHERE model_id=? AND revision=?", (model_id, revision)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def ids(self) -> list[str]:
        with self._connect() as connection:
            return [row[0] for row in connection.execute("SELECT id FROM models ORDER BY id")]

    def list(self) -> list[ModelRecord]:
        return [self.get(model_id) for model_id in self.ids()]

    def get(self, model_id: str) -> ModelRecord:
        """The record for ``model_id``; AnalysisInputError naming the known ids otherwise."""
        with self._connect() as connection:
            row = connection.execute("SELECT current_revision FROM models WHERE id=?", (model_id,)).fetchone()
            if row is None:
                raise AnalysisInputError(
                    f"unknown model {model_id!r}; registered models are {describe_choices(self.ids())}"
                )
            revisions = [
                self._revision(model_id, r)
                for r in connection.execute(
                    "SELECT revision, path, registered_at, trusted, summary, size_bytes, mtime_ns FROM revisions "
                    "WHERE model_id=? ORDER BY registered_at DESC, rowid DESC",
                    (model_id,),
                )
            ]
            datasets = [
                DatasetInfo.from_dict(json.loads(info))
                for (info,) in connection.execute(
                    "SELECT info FROM datasets WHERE model_id=? ORDER BY role", (model_id,)
                )
            ]
        current = next(r for r in revisions if r.revision == row[0])
        return ModelRecord(
            model_id=model_id,
            current=current,
            revisions=tuple(revisions),
            datasets=tuple(datasets),
            training_recipe=self.training_recipe(model_id, current.revision),
        )

    @staticmethod
    def _revision(model_id: str, row: tuple) -> RevisionRecord:
        revision, path, registered_at, trusted, summary, size_bytes, mtime_ns = row
        return RevisionRecord(
            model_id=model_id,
            revision=revision,
            path=path,
            registered_at=registered_at,
            trusted=bool(trusted),
            summary=ModelSummary.from_dict(json.loads(summary)),
            size_bytes=size_bytes,
            mtime_ns=mtime_ns,
        )

    def resolve(self, model_id: str, revision_prefix: str | None = None) -> RevisionRecord:
        """The current revision, or the one whose hash starts with ``revision_prefix``.

        Raises AnalysisInputError when the prefix matches none or several revisions, and
        when the revision's file is gone or now holds other content.
        """
        record = self.get(model_id)
        if not revision_prefix:
            return record.current
        prefix = revision_prefix.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
            raise AnalysisInputError(
                f"revision {revision_prefix!r} is not a hash prefix (4-64 hex digits); "
                f"revisions of {model_id!r} are {describe_choices(r.short for r in record.revisions)}"
            )
        matches = [r for r in record.revisions if r.revision.startswith(prefix)]
        if not matches:
            raise AnalysisInputError(
                f"model {model_id!r} has no revision {revision_prefix!r}; "
                f"its revisions are {describe_choices(r.short for r in record.revisions)} "
                f"(current {record.current.short})"
            )
        if len(matches) > 1:
            raise AnalysisInputError(
                f"revision prefix {revision_prefix!r} is ambiguous for {model_id!r}: "
                f"it matches {describe_choices(r.short for r in matches)}"
            )
        check_revision_available(matches[0])
        return matches[0]
