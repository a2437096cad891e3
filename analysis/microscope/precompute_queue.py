"""The persistent precompute queue: every unit of every layer, rendered in the background.

Registering a model queues, per layer with units, one **examples** job (the dataset-examples pass
and the unit pages' thumbnails) and one **render** job per unit (the channel objective with the
CLI's defaults, so pages and ``render`` share cache entries). Workers (``python -m analysis
worker``, one or several, on machines sharing the Loupe home) drain it.

The queue is a SQLite table in the Loupe home (``precompute.sqlite3``), so it survives restarts.
A worker *claims* jobs in one ``BEGIN IMMEDIATE`` transaction and holds them under a **lease**
that it renews while it works; a killed worker's lease expires and its jobs are claimed again.
Results live in the result store, which writes atomically, so a killed worker leaves nothing
partial. Order: a visitor's unit first (priority 100); then, for layers that make new features
(convolutions, dense, merges), the examples passes (10) and the renders (2); then, for
pass-through layers (pooling, normalization, activation, reshaping, dropout), whose units mostly
look like the layer before, the examples passes (1) and the renders (0). Ties go
first-queued-first, i.e. in the model's layer order. A claim batches render jobs of one layer and
one priority, so a visitor's unit is rendered alone, not with 31 others.

A model re-registered with new weights gets a new revision: its old revision's queued jobs are
dropped when the new ones are queued, and a worker skips (drops) any job whose revision is no
longer the model's current one.

Pure: no streamlit, no TensorFlow.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRecord
from analysis.models.summary import ModelSummary
from analysis.paths import loupe_home
from analysis.sqlite_store import connect_database

PRIORITY_VISITOR = 100
PRIORITY_EXAMPLES = 10
PRIORITY_BACKGROUND = 2  # renders of layers that make new features
PRIORITY_PASS_THROUGH_EXAMPLES = 1  # pooling, normalization, activation, reshaping, dropout
PRIORITY_PASS_THROUGH = 0
# Layer kinds (Keras class names) whose units mostly repeat their input's: rendered last.
PASS_THROUGH_KINDS = frozenset(
    {
        "Activation",
        "ReLU",
        "LeakyReLU",
        "ELU",
        "PReLU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Dropout",
        "SpatialDropout2D",
        "GaussianNoise",
        "GaussianDropout",
        "Flatten",
        "Reshape",
        "Rescaling",
        "Normalization",
        "ZeroPadding2D",
        "Cropping2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "MaxPooling1D",
        "AveragePooling1D",
        "GlobalAveragePooling1D",
        "GlobalMaxPooling1D",
    }
)
DEFAULT_LEASE_SECONDS = 600.0
MAX_ATTEMPTS = 3  # a job whose worker died this many times is marked failed, not retried forever
NO_UNIT = -1  # the ``unit`` of a layer-level (examples) job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id TEXT NOT NULL,
    revision TEXT NOT NULL,
    layer TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    lease_expires REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    enqueued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    seconds REAL,
    error TEXT,
    UNIQUE (revision, layer, kind, unit)
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (state, priority DESC, id);
CREATE INDEX IF NOT EXISTS jobs_layer ON jobs (model_id, revision, layer, state);
"""


class JobKind(StrEnum):
    EXAMPLES = "examples"  # the layer's dataset-examples pass and its unit pages
    RENDER = "render"  # one unit's feature visualization (channel objective, CLI defaults)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    DROPPED = "dropped"  # its model was replaced by a new revision


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerWork:
    """What to queue for one layer: its name, its units, and which kinds of job apply."""

    layer: str
    units: int
    render: bool  # feature visualization applies (an image model)
    examples: bool  # a data set is linked
    pass_through: bool = False  # rendered after the layers that make new features


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """Jobs one worker holds under a lease: all of one kind, revision and layer."""

    job_ids: tuple[int, ...]
    model_id: str
    revision: str
    layer: str
    kind: JobKind
    units: tuple[int, ...]  # empty for an examples job
    priority: int
    owner: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStatus:
    """Counts of jobs for a model (or one layer) and an ETA from measured throughput.

    ``seconds_per_unit`` is the mean over recently finished render jobs (a batch's time divided
    over its units); ``eta_seconds`` is None until something has finished.
    """

    done: int
    queued: int
    running: int
    failed: int
    seconds_per_unit: float | None
    workers: int

    @property
    def pending(self) -> int:
        return self.queued + self.running

    @property
    def eta_seconds(self) -> float | None:
        if self.seconds_per_unit is None or not self.pending:
            return None if self.pending else 0.0
        return self.pending * self.seconds_per_unit / max(self.workers, 1)


class PrecomputeQueue:
    """The queue under a Loupe home folder (default: :func:`analysis.paths.loupe_home`)."""

    def __init__(self, home: Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.home = Path(home) if home is not None else loupe_home()
        self.home.mkdir(parents=True, exist_ok=True)
        self.database = self.home / "precompute.sqlite3"
        self._clock = clock
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with connect_database(self.database) as connection:
            yield connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # -- queueing ------------------------------------------------------------------------
    def enqueue_model(self, model_id: str, revision: str, layers: Iterable[LayerWork]) -> int:
        """Queue every layer's work for ``revision``; drops other revisions' pending jobs. Returns jobs added.

        Idempotent: jobs already queued, running or done for this revision are left as they are.
        """
        now = self._clock()
        rows = []
        for work in layers:
            if work.examples:
                examples_priority = PRIORITY_PASS_THROUGH_EXAMPLES if work.pass_through else PRIORITY_EXAMPLES
                rows.append((work.layer, JobKind.EXAMPLES.value, NO_UNIT, examples_priority))
            if work.render:
                priority = PRIORITY_PASS_THROUGH if work.pass_through else PRIORITY_BACKGROUND
                rows.extend((work.layer, JobKind.RENDER.value, unit, priority) for unit in range(work.units))
        with self._transaction() as connection:
            self._drop_other_revisions(connection, model_id, revision)
            before = connection.total_changes
            connection.executemany(
                "INSERT INTO jobs (model_id, revision, layer, kind, unit, priority, state, enqueued_at) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (revision, layer, kind, unit) DO NOTHING",
                [
                    (model_id, revision, layer, kind, unit, prio, JobState.QUEUED.value, now)
                    for layer, kind, unit, prio in rows
                ],
            )
            return connection.total_changes - before

    @staticmethod
    def _drop_other_revisions(connection: sqlite3.Connection, model_id: str, revision: str) -> None:
        connection.execute(
            "UPDATE jobs SET state=?, owner=NULL, lease_expires=NULL WHERE model_id=? AND revision<>? "
            "AND state IN (?, ?)",
            (JobState.DROPPED.value, model_id, revision, JobState.QUEUED.value, JobState.RUNNING.value),
        )

    def request_unit(self, model_id: str, revision: str, layer: str, unit: int) -> None:
        """A visitor wants this unit now: queue it (again, if it failed) at the front."""
        now = self._clock()
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO jobs (model_id, revision, layer, kind, unit, priority, state, enqueued_at) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (revision, layer, kind, unit) DO UPDATE SET "
                "priority=MAX(priority, excluded.priority), "
                "state=CASE WHEN state IN ('failed', 'dropped') THEN 'queued' ELSE state END, "
                "attempts=CASE WHEN state IN ('failed', 'dropped') THEN 0 ELSE attempts END",
                (model_id, revision, layer, JobKind.RENDER.value, unit, PRIORITY_VISITOR, JobState.QUEUED.value, now),
            )

    # -- working -------------------------------------------------------------------------
    def claim(
        self,
        owner: str,
        *,
        max_units: int = 32,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        current_revision: Callable[[str], str | None] | None = None,
    ) -> Claim | None:
        """Take the most urgent claimable jobs (queued, or running under an expired lease), or None.

        ``current_revision(model_id)`` names the model's current revision (None: the model is gone);
        jobs of any other revision are dropped instead of claimed.
        """
        while True:
            now = self._clock()
            with self._transaction() as connection:
                self._fail_exhausted(connection, now)
                claimable = "(state='queued' OR (state='running' AND lease_expires < ?))"
                row = connection.execute(
                    f"SELECT id, model_id, revision, layer, kind, priority FROM jobs WHERE {claimable} "
                    "ORDER BY priority DESC, id LIMIT 1",
                    (now,),
                ).fetchone()
                if row is None:
                    return None
                _, model_id, revision, layer, kind, priority = row
                if current_revision is not None and current_revision(model_id) != revision:
                    connection.execute(
                        "UPDATE jobs SET state=?, owner=NULL, lease_expires=NULL WHERE model_id=? AND revision=? "
                        "AND state IN ('queued', 'running')",
                        (JobState.DROPPED.value, model_id, revision),
                    )
                    continue  # commits the drop, then looks again
                limit = max_units if kind == JobKind.RENDER.value else 1
                rows = connection.execute(
                    f"SELECT id, unit FROM jobs WHERE {claimable} AND revision=? AND layer=? AND kind=? "
                    "AND priority=? ORDER BY id LIMIT ?",
                    (now, revision, layer, kind, priority, limit),
                ).fetchall()
                ids = tuple(r[0] for r in rows)
                connection.execute(
                    f"UPDATE jobs SET state='running', owner=?, lease_expires=?, started_at=?, attempts=attempts+1 "
                    f"WHERE id IN ({','.join('?' * len(ids))})",
                    (owner, now + lease_seconds, now, *ids),
                )
                units = tuple(r[1] for r in rows) if kind == JobKind.RENDER.value else ()
                return Claim(
                    job_ids=ids,
                    model_id=model_id,
                    revision=revision,
                    layer=layer,
                    kind=JobKind(kind),
                    units=units,
                    priority=priority,
                    owner=owner,
                )

    @staticmethod
    def _fail_exhausted(connection: sqlite3.Connection, now: float) -> None:
        """A job whose lease expired MAX_ATTEMPTS times (its worker keeps dying) is failed, not retried."""
        connection.execute(
            "UPDATE jobs SET state='failed', error='its worker stopped before finishing, ' || attempts || ' times' "
            "WHERE state='running' AND lease_expires < ? AND attempts >= ?",
            (now, MAX_ATTEMPTS),
        )

    def renew(self, claim: Claim, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> bool:
        """Extend the lease; False if the claim was lost (expired and taken by another worker, or dropped)."""
        with self._transaction() as connection:
            cursor = connection.execute(
                f"UPDATE jobs SET lease_expires=? WHERE owner=? AND state='running' "
                f"AND id IN ({','.join('?' * len(claim.job_ids))})",
                (self._clock() + lease_seconds, claim.owner, *claim.job_ids),
            )
            return cursor.rowcount == len(claim.job_ids)

    def complete(self, claim: Claim, seconds: float) -> None:
        """Mark the claim's jobs done; ``seconds`` is the whole claim's wall time (split over its jobs)."""
        self._finish(claim, JobState.DONE, seconds=seconds / len(claim.job_ids), error=None)

    def fail(self, claim: Claim, error: str) -> None:
        self._finish(claim, JobState.FAILED, seconds=None, error=error)

    def release(self, claim: Claim) -> None:
        """Give the jobs back unfinished (a worker stopping cleanly)."""
        with self._transaction() as connection:
            connection.execute(
                f"UPDATE jobs SET state='queued', owner=NULL, lease_expires=NULL, attempts=MAX(attempts-1, 0) "
                f"WHERE owner=? AND state='running' AND id IN ({','.join('?' * len(claim.job_ids))})",
                (claim.owner, *claim.job_ids),
            )

    def _finish(self, claim: Claim, state: JobState, *, seconds: float | None, error: str | None) -> None:
        with self._transaction() as connection:
            connection.execute(
                f"UPDATE jobs SET state=?, owner=NULL, lease_expires=NULL, finished_at=?, seconds=?, error=? "
                f"WHERE state='running' AND owner=? AND id IN ({','.join('?' * len(claim.job_ids))})",
                (state.value, self._clock(), seconds, error, claim.owner, *claim.job_ids),
            )

    # -- reading -------------------------------------------------------------------------
    def status(self, model_id: str, revision: str, layer: str | None = None) -> QueueStatus:
        """Render jobs of a model's revision (or one layer): done, queued, running, failed, and the pace."""
        where, params = "model_id=? AND revision=? AND kind='render'", [model_id, revision]
        if layer is not None:
            where += " AND layer=?"
            params.append(layer)
        with self._connect() as connection:
            counts = dict(connection.execute(f"SELECT state, COUNT(*) FROM jobs WHERE {where} GROUP BY state", params))
            pace = connection.execute(
                "SELECT AVG(seconds) FROM (SELECT seconds FROM jobs WHERE kind='render' AND state='done' "
                "AND seconds IS NOT NULL ORDER BY finished_at DESC LIMIT 256)"
            ).fetchone()[0]
            workers = connection.execute(
                "SELECT COUNT(DISTINCT owner) FROM jobs WHERE state='running' AND lease_expires >= ?",
                (self._clock(),),
            ).fetchone()[0]
        return QueueStatus(
            done=counts.get("done", 0),
            queued=counts.get("queued", 0),
            running=counts.get("running", 0),
            failed=counts.get("failed", 0),
            seconds_per_unit=None if pace is None else float(pace),
            workers=int(workers),
        )

    def states(self, revision: str, layer: str, kind: JobKind = JobKind.RENDER) -> dict[int, JobState]:
        """Each unit's job state for one layer (units never queued are absent)."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT unit, state FROM jobs WHERE revision=? AND layer=? AND kind=?", (revision, layer, kind.value)
            ).fetchall()
        return {unit: JobState(state) for unit, state in rows}


def layer_work(summary: ModelSummary, *, has_data: bool) -> list[LayerWork]:
    """The work a model summary calls for: every layer with units; renders only for image inputs."""
    image_input = len(summary.input_shape) == 3
    return [
        LayerWork(
            layer=layer.name,
            units=layer.units,
            render=image_input,
            examples=has_data,
            pass_through=layer.kind in PASS_THROUGH_KINDS,
        )
        for layer in summary.layers
        if layer.units > 0
    ]


def enqueue_record(record: ModelRecord, queue: PrecomputeQueue | None = None) -> int:
    """Queue everything a registered model's current revision needs; returns how many jobs were added."""
    has_data = record.dataset(DatasetRole.DATA) is not None
    queue = queue or PrecomputeQueue()
    return queue.enqueue_model(
        record.model_id, record.current.revision, layer_work(record.current.summary, has_data=has_data)
    )
