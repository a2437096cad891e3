"""One admission gate for expensive work started from the web UI.

Layer renders, on-demand unit renders, dataset examples, privacy audits, fairness runs, SHAP runs
and model registration all pass through :func:`admitted` (or :func:`admit` for background
threads). A job starts only when its visitor is a writer, runs fewer than
``LOUPE_MAX_JOBS_PER_VISITOR`` jobs (default 1) and the server runs fewer than ``LOUPE_MAX_JOBS``
(default: the number of CPU cores). Otherwise nothing starts and the visitor is told what is
running and about when a slot frees up.

:class:`AdmissionGate` is the pure core (no Streamlit; tests drive it with a fake clock).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from analysis.errors import AnalysisInputError

MAX_JOBS_ENV = "LOUPE_MAX_JOBS"
MAX_PER_VISITOR_ENV = "LOUPE_MAX_JOBS_PER_VISITOR"
# First guesses of a job's length in seconds, replaced by the running mean of finished jobs.
DEFAULT_SECONDS = {"render": 90.0, "audit": 120.0, "shap": 60.0, "fairness": 30.0, "examples": 30.0, "register": 20.0}


class JobRefused(AnalysisInputError):
    """A job that was not started: over a cap, or asked for by a viewer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    per_visitor: int
    total: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Limits:
        environ = os.environ if environ is None else environ
        return cls(
            per_visitor=_positive(environ, MAX_PER_VISITOR_ENV, 1),
            total=_positive(environ, MAX_JOBS_ENV, os.cpu_count() or 1),
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdecimal() or int(text) < 1:
        raise AnalysisInputError(f"{name} {text!r} must be a whole number of jobs, at least 1")
    return int(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """One admitted job."""

    number: int
    visitor: str
    kind: str
    label: str
    started: float


class AdmissionGate:
    """Running jobs per visitor and in total; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[int, Ticket] = {}
        self._seconds = dict(DEFAULT_SECONDS)
        self._next = 0

    def admit(self, visitor: str, *, kind: str, label: str, limits: Limits) -> Ticket:
        """A ticket for a new job, or JobRefused saying what runs and when to come back."""
        with self._lock:
            now = self._clock()
            mine = [t for t in self._running.values() if t.visitor == visitor]
            if len(mine) >= limits.per_visitor:
                raise JobRefused(
                    f"Nothing was started: you already run {_describe(mine, now)}, and each visitor may run "
                    f"{_jobs(limits.per_visitor)} at a time. Try again in {self._wait(mine, now)}, when "
                    f"{'it' if len(mine) == 1 else 'one'} has finished."
                )
            if len(self._running) >= limits.total:
                jobs = list(self._running.values())
                raise JobRefused(
                    f"Nothing was started: the server is busy with {_jobs(len(jobs))} ({_describe(jobs, now)}), "
                    f"its limit is {limits.total} at a time. Try again in {self._wait(jobs, now)}."
                )
            self._next += 1
            ticket = Ticket(number=self._next, visitor=visitor, kind=kind, label=label, started=now)
            self._running[ticket.number] = ticket
            return ticket

    def release(self, ticket: Ticket, *, finished: bool = True) -> None:
        """End a job; a finished one teaches the gate how long its kind takes."""
        with self._lock:
            if self._running.pop(ticket.number, None) is not None and finished:
                elapsed = self._clock() - ticket.started
                self._seconds[ticket.kind] = 0.7 * self._seconds.get(ticket.kind, elapsed) + 0.3 * elapsed

    def running(self) -> list[Ticket]:
        with self._lock:
            return sorted(self._running.values(), key=lambda t: t.number)

    def _wait(self, jobs: list[Ticket], now: float) -> str:
        remaining = min(max(self._seconds.get(t.kind, 60.0) - (now - t.started), 5.0) for t in jobs)
        return _duration(remaining)


def _jobs(count: int) -> str:
    return f"{count} job" + ("" if count == 1 else "s")


def _describe(jobs: list[Ticket], now: float) -> str:
    shown = [f"{t.label}, started {_duration(now - t.started)} ago" for t in jobs[:3]]
    return "; ".join(shown) + (f"; and {len(jobs) - 3} more" if len(jobs) > 3 else "")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    return f"about {round(seconds / 60):.0f} min"


# -- Streamlit glue -----------------------------------------------------------------------------

_GATE = AdmissionGate()


def gate() -> AdmissionGate:
    """The server's one gate (module state: shared by every session of this process)."""
    return _GATE


def admit(kind: str, label: str) -> Ticket:
    """A ticket for a job the current visitor asks for; JobRefused for viewers and over-cap requests.

    The caller must :meth:`AdmissionGate.release` the ticket when the job ends (a background thread's
    ``finally``); synchronous work uses :func:`admitted`.
    """
    from ui.access import can_write, sign_in_hint, visitor_key

    if not can_write():
        raise JobRefused(f"Nothing was started: {label} needs a writer. {sign_in_hint()}")
    return _GATE.admit(visitor_key(), kind=kind, label=label, limits=Limits.from_environ())


@contextmanager
def admitted(kind: str, label: str) -> Iterator[Ticket]:
    """Run the ``with`` body as one admitted job of the current visitor."""
    ticket = admit(kind, label)
    finished = False
    try:
        yield ticket
        finished = True
    finally:
        _GATE.release(ticket, finished=finished)
