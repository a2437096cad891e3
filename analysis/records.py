"""Stored analysis records: privacy audits, fairness reports, anything a model card cites.

A record is what makes a result reproducible and citable: the inputs' content hashes, the
model revision, the parameters and seed, the library versions, a timestamp and the full
result. Records live in ``<LOUPE_HOME>/records.sqlite3`` and are written in one INSERT, so a
crash never leaves half a record.

Records are content-addressed and chained (see docs/records.md):

- a record's id is ``<kind>-<first 16 hex of its digest>``, where the digest is the SHA-256 of
  the record's canonical JSON (sorted keys, no whitespace) without its id, so a cited id pins
  its numbers;
- each record's ``previous`` is the digest of the record written before it (:data:`GENESIS`
  for the first), so :meth:`RecordStore.check_chain` finds an edited, deleted or reordered one.

Records written before chaining (random ids ``<kind>-<12 hex>``, no ``previous``) are kept as
they are, since model cards cite their ids: they are *legacy*, reported by the check and never
re-identified.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices
from analysis.paths import loupe_home
from analysis.sqlite_store import connect_database

RECORD_KINDS = ("privacy", "fairness", "performance")  # the analyses that store records (performance: cards)
GENESIS = "0" * 64  # the ``previous`` of the first chained record
ID_DIGEST_CHARS = 16  # hex characters of the digest in a record id (64 bits)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY, kind TEXT NOT NULL, model_id TEXT, revision TEXT,
    created_at TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER);
CREATE INDEX IF NOT EXISTS records_by_model ON records (kind, model_id, created_at);
CREATE TABLE IF NOT EXISTS bundles (
    sha256 TEXT PRIMARY KEY, record_id TEXT NOT NULL, file_name TEXT NOT NULL,
    public_key TEXT NOT NULL, noted_at TEXT NOT NULL);
"""
_SEQ_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records (seq)"


def canonical_json(value: Any) -> str:
    """The one text of a JSON value that hashes are taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 hex of a record body's canonical JSON, without its ``record_id``.

    The body is passed through JSON first (tuples become lists, float keys strings), so the
    digest of a record being written equals the digest of the same record read back.
    """
    content = json.loads(json.dumps({k: v for k, v in body.items() if k != "record_id"}, allow_nan=False))
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def record_id_for(kind: str, digest: str) -> str:
    return f"{kind}-{digest[:ID_DIGEST_CHARS]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleFingerprint:
    """A signed bundle of a record (``records export --sign``): its file's sha256, name and signing key.

    Kept beside the records (not in the chain: the bundle itself is signed), so a model card citing
    the record can embed the fingerprint and a reader can match card, record and bundle.
    """

    record_id: str
    sha256: str  # of the bundle file's bytes
    file_name: str  # the bundle's file name (never a path)
    public_key: str  # the Ed25519 public key that signed it, raw, hex
    noted_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "sha256": self.sha256,
            "file_name": self.file_name,
            "public_key": self.public_key,
            "noted_at": self.noted_at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRecord:
    """One stored analysis. ``result`` is the analysis's own ``to_dict()`` output.

    ``previous`` is the digest of the record stored before this one (None for a legacy record).
    """

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
    previous: str | None = None

    @property
    def is_legacy(self) -> bool:
        """True for a record stored before chaining: a random id that pins nothing."""
        return self.previous is None

    def digest(self) -> str:
        """The SHA-256 of this record's canonical content (its id's suffix, for a chained record)."""
        return record_digest(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        data = {
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
        if self.previous is not None:
            data["previous"] = self.previous
        return data

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
            previous=data.get("previous"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """What :meth:`RecordStore.check_chain` found: ``problems`` empty means the chain is intact.

    ``head`` is the digest of the newest record: publish it (or sign a bundle) to pin the whole
    chain, since deleting or re-hashing the newest record is visible only against a known head.
    """

    n_records: int
    n_legacy: int
    head: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.n_records,
            "legacy": self.n_legacy,
            "head": self.head,
            "intact": self.intact,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldTolerance:
    """How far a re-run number may be from the recorded one and still count as reproduced.

    ``pattern`` is an ``fnmatch`` pattern over dotted field paths (list items by index:
    ``result.results.3.auc``); a float matches when ``|a - b| <= absolute + relative * |a|``.
    Capabilities declare these for the fields that cannot be bit-identical across machines;
    every other field must be equal.
    """

    pattern: str
    absolute: float = 0.0
    relative: float = 0.0
    why: str = ""


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
            _add_sequence_column(connection)

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
        """Store a new record atomically, chained to the newest one, and return it with its id."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")  # one writer: the chain's tail cannot move under us
            try:
                tail = connection.execute("SELECT seq, body FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                draft = AnalysisRecord(
                    record_id="",
                    kind=kind,
                    model_id=model_id,
                    revision=revision,
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    inputs=dict(inputs),
                    parameters=dict(parameters),
                    versions=dict(versions),
                    result=dict(result),
                    extra=dict(extra or {}),
                    previous=GENESIS if tail is None else _link_digest(tail[1]),
                )
                body = json.loads(json.dumps(draft.to_dict(), allow_nan=False))  # the stored, JSON form
                body["record_id"] = record_id_for(kind, record_digest(body))
                record = AnalysisRecord.from_dict(body)
                connection.execute(
                    "INSERT INTO records (record_id, kind, model_id, revision, created_at, body, seq) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (
                        record.record_id,
                        kind,
                        model_id,
                        revision,
                        record.created_at,
                        json.dumps(body, allow_nan=False, sort_keys=True),
                        1 if tail is None else tail[0] + 1,
                    ),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return record

    def note_bundle(self, *, record_id: str, sha256: str, file_name: str, public_key: str) -> BundleFingerprint:
        """Remember that ``record_id`` was exported as a signed bundle with this fingerprint (idempotent)."""
        self.get(record_id)  # an unknown id is refused with the usual message
        bundle = BundleFingerprint(
            record_id=record_id,
            sha256=sha256,
            file_name=file_name,
            public_key=public_key,
            noted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO bundles VALUES (?,?,?,?,?) ON CONFLICT(sha256) DO NOTHING",
                (sha256, record_id, file_name, public_key, bundle.noted_at),
            )
        return bundle

    def bundles(self, record_ids: Sequence[str]) -> tuple[BundleFingerprint, ...]:
        """The noted bundles of ``record_ids``, in their order, oldest bundle first for each."""
        found: list[BundleFingerprint] = []
        with self._connect() as connection:
            for record_id in record_ids:
                rows = connection.execute(
                    "SELECT sha256, file_name, public_key, noted_at FROM bundles WHERE record_id=? "
                    "ORDER BY noted_at, rowid",
                    (record_id,),
                ).fetchall()
                found += [
                    BundleFingerprint(
                        record_id=record_id, sha256=row[0], file_name=row[1], public_key=row[2], noted_at=row[3]
                    )
                    for row in rows
                ]
        return tuple(found)

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
            rows = connection.execute(query + " ORDER BY created_at DESC, seq DESC", args).fetchall()
        return [AnalysisRecord.from_dict(json.loads(body)) for (body,) in rows]

    def check_chain(self) -> ChainReport:
        """Walk every record in the order written; report edited, deleted, reordered or inserted ones."""
        with self._connect() as connection:
            rows = connection.execute("SELECT seq, record_id, body FROM records ORDER BY seq").fetchall()
        links: dict[str, str] = {}  # digest -> record id, to tell a reordering from a deletion
        bodies: list[tuple[int, str, dict[str, Any] | None]] = []
        for seq, record_id, text in rows:
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            if isinstance(body, dict):
                links[record_digest(body)] = record_id
            bodies.append((seq, record_id, body if isinstance(body, dict) else None))
        problems: list[str] = []
        legacy, chained = 0, False
        expected, expected_prefix = GENESIS, None  # the link the next record must carry; an edited record's id
        last_seq: int | None = None
        for seq, record_id, body in bodies:
            gap = last_seq is not None and seq != last_seq + 1
            if gap:
                problems.append(
                    f"deleted: {seq - last_seq - 1} record(s) missing between positions {last_seq} and {seq} "
                    f"(before {record_id})"
                )
            last_seq = seq
            if body is None:
                problems.append(f"edited: record {record_id} (position {seq}) is not valid JSON")
                expected, expected_prefix = "", record_id.rpartition("-")[2]
                continue
            digest = record_digest(body)
            if "previous" not in body:
                legacy += 1
                if chained:
                    problems.append(f"inserted: record {record_id} (position {seq}) has no chain link")
                expected, expected_prefix = digest, None
                continue
            chained = True
            edited = record_id_for(str(body.get("kind")), digest) != record_id or body.get("record_id") != record_id
            if edited:
                problems.append(f"edited: record {record_id} (position {seq}): its content no longer hashes to its id")
            previous = str(body.get("previous"))
            linked = previous == expected or (expected_prefix is not None and previous.startswith(expected_prefix))
            if not linked and not gap:
                if previous in links:
                    problems.append(
                        f"reordered: record {record_id} (position {seq}) was written after {links[previous]}, "
                        "not after the record now before it"
                    )
                elif previous == GENESIS:
                    problems.append(f"reordered: record {record_id} (position {seq}) was the first record written")
                else:
                    problems.append(
                        f"deleted or edited: the record written before {record_id} (position {seq}) is not stored "
                        f"as it was (digest {previous[:16]}... matches no stored record)"
                    )
            expected, expected_prefix = digest, (record_id.rpartition("-")[2] if edited else None)
        head = expected if bodies else GENESIS
        return ChainReport(n_records=len(bodies), n_legacy=legacy, head=head, problems=tuple(problems))


def _link_digest(body_text: str) -> str:
    return record_digest(json.loads(body_text))


def _add_sequence_column(connection: sqlite3.Connection) -> None:
    """Give a records table from before chaining its ``seq`` column, numbering old rows in write order."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(records)")}
    if "seq" not in columns:
        connection.execute("BEGIN IMMEDIATE")
        try:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(records)")}
            if "seq" not in columns:  # another process may have migrated while we waited
                connection.execute("ALTER TABLE records ADD COLUMN seq INTEGER")
                connection.execute("UPDATE records SET seq = rowid")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    connection.execute(_SEQ_INDEX)
