"""Privacy audits that train reference models, run in a background thread of the server.

A reference audit trains K models for minutes. It runs as one admitted job (:func:`ui.admission.admit`:
writers only, within the per-visitor and per-server caps) in a thread of its own, so the visitor's
page stays live, other visitors are not held up, and leaving the page does not stop the run. The page
moves to ``/privacy?running=<job>`` and polls; the job stores its audit record (as the CLI does:
only a finished audit is stored) and the page then moves on to ``?audit=<record id>``.

The jobs live in this server process (a restart forgets running ones; the references already
trained stay in the cache, so starting again resumes).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.privacy.audit_records import save_audit
from analysis.privacy.engine import run_membership_audit
from analysis.privacy.spec import MembershipAuditSpec
from ui.admission import admit, gate
from ui.shared import redact_paths

POLL_SECONDS = 2.0
_KEEP_FINISHED = 32


@dataclass(slots=True)
class AuditJob:
    """One background audit: its progress, then its record id or its error (written by the job's thread)."""

    job_id: str
    model_id: str
    started: float = field(default_factory=time.monotonic)
    fraction: float = 0.0
    message: str = "starting"
    record_id: str | None = None
    user_error: str | None = None
    bug: Exception | None = None
    finished: float | None = None
    timed: bool = False  # a message has given the time left (the first reference has trained)


_JOBS: dict[str, AuditJob] = {}
_LOCK = threading.Lock()


def start_audit_job(spec: MembershipAuditSpec, model_id: str) -> str:
    """Admit the audit and start it in a thread; its job id. JobRefused when the gate says no."""
    ticket = admit("audit", f"a reference-model privacy audit of {model_id}")
    job = AuditJob(job_id=secrets.token_hex(6), model_id=model_id)
    with _LOCK:
        finished = [j for j in _JOBS.values() if j.finished is not None]
        for old in sorted(finished, key=lambda j: j.finished or 0.0)[: max(0, len(finished) - _KEEP_FINISHED)]:
            del _JOBS[old.job_id]
        _JOBS[job.job_id] = job

    def report(fraction: float, message: str) -> None:
        job.fraction, job.message = max(job.fraction, min(1.0, fraction)), message
        job.timed = job.timed or "left)" in message

    def run() -> None:
        completed = False
        try:
            job.record_id = save_audit(run_membership_audit(spec, progress=report)).record_id
            completed = True
        except AnalysisInputError as error:
            job.user_error = redact_paths(str(error))
        except Exception as error:  # noqa: BLE001 - a bug: re-raised on the page that polls the job
            job.bug = error
        finally:
            job.finished = time.monotonic()
            gate().release(ticket, finished=completed)

    threading.Thread(target=run, name=f"audit-{job.job_id}", daemon=True).start()
    return job.job_id


def show_running_audits(model_id: str) -> None:
    """A link to each reference audit of ``model_id`` running on this server, whoever started it (a
    reload opens a new session, and a second visitor should see that the audit is already under way)."""
    with _LOCK:
        jobs = [j for j in _JOBS.values() if j.model_id == model_id and j.finished is None]
    for job in sorted(jobs, key=lambda j: j.started):
        st.page_link(
            "ui/pages/privacy.py",
            label=f"A reference audit of {model_id} is running ({job.fraction:.0%}, started "
            f"{_duration(time.monotonic() - job.started)} ago): follow it",
            icon=":material/hourglass_top:",
            query_params={"running": job.job_id},
        )


def audit_job(job_id: str) -> AuditJob:
    """The job ``job_id``; AnalysisInputError when this server runs no such job."""
    with _LOCK:
        job = _JOBS.get(job_id)
    if job is None:
        raise AnalysisInputError(
            f"no running audit {job_id!r} on this server (it may have finished before a restart); "
            "its model's past audits are listed on /privacy?model=<id>"
        )
    return job


def show_audit_job(job_id: str) -> None:
    """The job's progress, refreshed every few seconds; on success the page moves to its audit."""
    st.fragment(run_every=POLL_SECONDS)(_poll)(job_id)


def _poll(job_id: str) -> None:
    job = audit_job(job_id)
    if job.bug is not None:
        raise job.bug
    if job.user_error is not None:
        st.error(job.user_error, icon=":material/error:")
        st.caption("Nothing was stored.")
        return
    if job.record_id is not None:
        st.query_params.clear()
        st.query_params["audit"] = job.record_id
        st.rerun()
    st.progress(job.fraction, text=job.message)
    st.caption(
        f"Running for {_duration(time.monotonic() - job.started)}. "
        + (
            ""  # the reference stage's messages carry the time left
            if job.timed
            else "The time left shows once the first reference model has trained (training the references "
            "takes most of the audit; the classic attacks and the model's outputs come first). "
        )
        + "You may leave this page: the audit goes on, and this link shows it until it is stored."
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"
