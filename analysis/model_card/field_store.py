"""Qualitative card fields, persisted per model and revision.

Stored in ``<LOUPE_HOME>/model_card_fields.sqlite3`` (SQLite, WAL: safe from Streamlit's
threads and from the CLI at once). Drafts are stored as typed, problems and all, so a form
can save as you go; validation happens when a card is built. Loading for a revision that
has no fields of its own returns the model's most recently saved fields (from an earlier
revision), so a card can be regenerated for a new revision without retyping.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analysis.model_card.fields import ModelCardFields, parse_fields
from analysis.paths import loupe_home
from analysis.sqlite_store import connect_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS card_fields (
    model_id TEXT NOT NULL, revision TEXT NOT NULL, body TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (model_id, revision));
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFields:
    """Fields as loaded: ``revision`` is the one they were saved for (may be an earlier one)."""

    fields: ModelCardFields
    model_id: str
    revision: str
    updated_at: str

    def inherited_for(self, revision: str) -> bool:
        """True when these fields were saved for another revision than ``revision``."""
        return self.revision != revision


class CardFieldStore:
    """The card-fields database under a Loupe home folder (default :func:`loupe_home`)."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home is not None else loupe_home()
        self.home.mkdir(parents=True, exist_ok=True)
        self.database = self.home / "model_card_fields.sqlite3"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect_database(self.database)

    def save(self, model_id: str, revision: str, fields: ModelCardFields) -> None:
        """Store (or replace) the fields of ``model_id`` at ``revision``, in one statement."""
        body = json.dumps(fields.to_dict(), sort_keys=True, ensure_ascii=False)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO card_fields VALUES (?,?,?,?) ON CONFLICT(model_id, revision) DO UPDATE SET "
                "body=excluded.body, updated_at=excluded.updated_at",
                (model_id, revision, body, now),
            )

    def load(self, model_id: str, revision: str) -> StoredFields | None:
        """The fields for ``revision``, else the model's latest saved ones, else None."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT revision, body, updated_at FROM card_fields WHERE model_id=? "
                "ORDER BY revision = ? DESC, updated_at DESC, rowid DESC LIMIT 1",
                (model_id, revision),
            ).fetchone()
        if row is None:
            return None
        stored_revision, body, updated_at = row
        fields = parse_fields(json.loads(body), source="stored card fields")
        return StoredFields(fields=fields, model_id=model_id, revision=stored_revision, updated_at=updated_at)
