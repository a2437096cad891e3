"""Stored analysis records: privacy audits, fairness reports, anything a model card cites.

A record is what makes a result reproducible and citable: the inputs' content hashes, the
model revision, the parameters and seed, the library versions, a timestamp and the full
result. Records live in ``<LOUPE_HOME>/records.sqlite3`` and are written in one INSERT, so a
crash never leaves half a record. Record ids are ``<kind>-<12 hex>``, stable in URLs.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices
from analysis.paths import loupe_home
from analysis.sqlite_store import connect_database

RECORD_KINDS = ("privacy", "fairness")  # the analyses that store records

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY, kind TEXT NOT NULL, model_id TEXT, revision TEXT,
    created_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_by_model ON records (kind, model_id, created_at);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRecord:
    """One stored analysis. ``result`` is the analysis's own ``to_dict()`` output."""

    record_id: str
    kind: str  # "privacy", "fairness", ...
    model_id: str | None
    revision: str | None
    created_at: str
    inputs: Mapping[str, str]  # name -> content hash (sha256 hex)
    parameters: Mapping[str, Any]
    versions: Mapping[str, str]
    result: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "kind": self.kind,
            "model": self.model_id,
            "revision": self.revision,
            "created_at": self.created_at,
            "inputs": dict(self.inputs),
            "parameters": dict(self.parameters),
            "versions": dict(self.versions),
            "result": dict(self.result),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisRecord:
        return cls(
            record_id=data["record_id"],
            kind=data["kind"],
            model_id=data["model"],
            revision=data["revision"],
            created_at=data["created_at"],
            inputs=data["inputs"],
            parameters=data["parameters"],
            versions=data["versions"],
            result=data["result"],
            extra=data.get("extra", {}),
        )


def library_versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (plus Python's), for a record's provenance."""
    import platform

    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


class RecordStore:
    """Records under a Loupe home folder; safe for concurrent readers (SQLite WAL)."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home is not None else loupe_home()
        self.database = self.home / "records.sqlite3"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect_database(self.database)

    def save(
        self,
        *,
        kind: str,
        model_id: str | None,
        revision: str | None,
        inputs: Mapping[str, str],
        parameters: Mapping[str, Any],
        versions: Mapping[str, str],
        result: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> AnalysisRecord:
        """Store a new record atomically and return it with its id."""
        record = AnalysisRecord(
            record_id=f"{kind}-{secrets.token_hex(6)}",
            kind=kind,
            model_id=model_id,
            revision=revision,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            inputs=dict(inputs),
            parameters=dict(parameters),
            versions=dict(versions),
            result=dict(result),
            extra=dict(extra or {}),
        )
        body = json.dumps(record.to_dict(), allow_nan=False, sort_keys=True)
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO records VALUES (?,?,?,?,?,?)",
                (record.record_id, kind, model_id, revision, record.created_at, body),
            )
        return record

    def get(self, record_id: str) -> AnalysisRecord:
        with self._connect() as connection:
            row = connection.execute("SELECT body FROM records WHERE record_id=?", (record_id,)).fetchone()
        if row is None:
            raise AnalysisInputError(
                f"no stored record {record_id!r}; list them with 'python -m analysis records list'"
            )
        return AnalysisRecord.from_dict(json.loads(row[0]))

    def list(self, *, kind: str | None = None, model_id: str | None = None) -> list[AnalysisRecord]:
        """Records, newest first, optionally only of one kind and/or one model."""
        if kind is not None and kind not in RECORD_KINDS:
            raise AnalysisInputError(f"unknown record kind {kind!r}; kinds are {describe_choices(RECORD_KINDS)}")
        query, args = "SELECT body FROM records WHERE 1=1", []
        if kind is not None:
            query, args = query + " AND kind=?", [*args, kind]
        if model_id is not None:
            query, args = query + " AND model_id=?", [*args, model_id]
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY created_at DESC, rowid DESC", args).fetchall()
        return [AnalysisRecord.from_dict(json.loads(body)) for (body,) in rows]
