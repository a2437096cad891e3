"""A registered revision of a model (one content hash) and the check that its file still holds it.

Kept apart from the registry so that loading a revision (``analysis.models.loading``) and the
registry itself both depend on this module, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.hashing import sha256_path
from analysis.models.summary import ModelSummary


@dataclass(frozen=True, slots=True, kw_only=True)
class RevisionRecord:
    """One registered content of a model: its hash, file, format and summary."""

    model_id: str
    revision: str
    path: str
    registered_at: str
    trusted: bool
    summary: ModelSummary
    size_bytes: int
    mtime_ns: int

    @property
    def short(self) -> str:
        return self.revision[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "path": self.path,
            "registered_at": self.registered_at,
            "trusted": self.trusted,
            **self.summary.to_dict(),
        }


def check_revision_available(revision: RevisionRecord) -> None:
    """Raise AnalysisInputError if the revision's file is gone or no longer holds it."""
    path = Path(revision.path)
    if not path.exists():
        raise AnalysisInputError(
            f"revision {revision.short} of {revision.model_id!r} is no longer available: "
            f"its file {revision.path!r} is gone"
        )
    stat = path.stat()
    if path.is_file() and (stat.st_size, stat.st_mtime_ns) == (revision.size_bytes, revision.mtime_ns):
        return
    if sha256_path(path) != revision.revision:
        raise AnalysisInputError(
            f"revision {revision.short} of {revision.model_id!r} is no longer available: "
            f"its file {revision.path!r} now holds different content"
        )
