"""Which stored records a model card may cite, and which it cites when nobody pinned any.

A card's numbers must not depend on who happened to run what last: a visitor's exploratory run
(another seed, an intersection, fewer resamples) is newer than the demo's or the CLI's standard
run, but is not what the card should silently cite. So every candidate record is described by how
its parameters depart from the standard settings (those of ``python -m analysis fairness`` /
``privacy`` with no options, which the demo uses), and the default is, per kind, the newest
*standard* record of the card's revision (else of another revision of the model). Records that
depart from the standard are cited only when pinned (``--records`` / ``?records=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.records import AnalysisRecord, RecordStore

# The standard settings per kind: the CLI's defaults (tests check them against the specs' defaults).
STANDARD_PARAMETERS: Mapping[str, Mapping[str, Any]] = {
    "fairness": {
        "seed": 0,
        "n_bootstrap": 1000,
        "confidence": 0.95,
        "baseline": "overall",
        "min_slice": 30,
        "intersections": [],
        "missing": "refuse",
    },
    "privacy": {
        "seed": 0,
        "attacks": ["threshold", "entropy", "lr"],
        "slices": ["class", "percentile", "correctness"],
    },
}
DEFAULT_RULE = (
    "Unless records are pinned, the card cites for each kind the newest record made with the standard "
    "settings (those of the command line and the demo: seed 0, 1,000 bootstrap resamples, no intersections, "
    "the overall baseline; the default attacks and slices), preferring this revision. "
    "Exploratory runs are cited only when pinned."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CardCandidate:
    """A record a card may cite: ``departures`` lists its settings that differ from the standard ones."""

    record: AnalysisRecord
    departures: tuple[str, ...]
    same_revision: bool

    @property
    def standard(self) -> bool:
        return not self.departures

    def summary(self) -> str:
        """Its parameters in a few words, e.g. ``seed 0 · 1000 resamples · sensitive age_band, sex``."""
        parameters = self.record.parameters
        if self.record.kind == "fairness":
            parts = [
                f"split {parameters.get('split') or 'all'}",
                "sensitive " + ", ".join(parameters.get("sensitive") or []),
                "intersections " + (", ".join("*".join(c) for c in parameters.get("intersections") or []) or "none"),
                f"seed {parameters.get('seed')}",
                f"{parameters.get('n_bootstrap')} resamples",
            ]
        elif self.record.kind == "privacy":
            parts = [
                "attacks " + ", ".join(parameters.get("attacks") or []),
                "slices " + ", ".join(parameters.get("slices") or []),
                f"seed {parameters.get('seed')}",
            ]
        else:
            parts = [f"{key} {value}" for key, value in sorted(parameters.items())]
        return " · ".join(parts)


def _departures(record: AnalysisRecord) -> tuple[str, ...]:
    standard = STANDARD_PARAMETERS.get(record.kind, {})
    found = []
    for key, expected in standard.items():
        value = record.parameters.get(key, expected)
        if isinstance(expected, list) and isinstance(value, list | tuple):
            same = [list(v) if isinstance(v, list | tuple) else v for v in value] == expected
        else:
            same = value == expected
        if not same:
            found.append(f"{key} {_text(value)} (standard: {_text(expected)})")
    return tuple(found)


def _text(value: Any) -> str:
    """A parameter as a person reads it: ``[['age_band', 'sex']]`` -> ``age_band*sex``, ``[]`` -> ``none``."""
    if isinstance(value, list | tuple):
        return ", ".join("*".join(v) if isinstance(v, list | tuple) else str(v) for v in value) or "none"
    return str(value)


def list_candidates(model_id: str, revision: str, store: RecordStore, kinds: tuple[str, ...]) -> list[CardCandidate]:
    """The model's records of ``kinds``, newest first, each with how it departs from the standard settings."""
    return [
        CardCandidate(record=record, departures=_departures(record), same_revision=record.revision == revision)
        for record in store.list(model_id=model_id)
        if record.kind in kinds
    ]


def default_records(candidates: list[CardCandidate], kinds: tuple[str, ...]) -> list[AnalysisRecord]:
    """Per kind, the newest standard record of the card's revision, else of another revision; never an
    exploratory one (see :data:`DEFAULT_RULE`)."""
    chosen = []
    for kind in kinds:
        standard = [c for c in candidates if c.record.kind == kind and c.standard]
        pick = next((c for c in standard if c.same_revision), None) or next(iter(standard), None)
        if pick is not None:
            chosen.append(pick.record)
    return chosen
