"""Background rendering of a whole layer, shared by every session of this server.

One thread per (revision, layer, objective); a second request for a running job joins it.
A new job passes the admission gate (ui/admission.py) first: writers only, within the caps.
Progress lives in memory; results go to the shared result store as each batch finishes, so a
killed server loses only the batch in flight (and leaves no partial entry).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis import RenderSpec
from ui.admission import admit, gate
from ui.shared import redact_paths


@dataclass
class LayerJob:
    """A running or finished layer render: progress in [0, 1], a message, an error if it failed."""

    fraction: float = 0.0
    message: str = "starting"
    done: bool = False
    error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


@st.cache_resource
def _jobs() -> tuple[dict[str, LayerJob], threading.Lock]:
    return {}, threading.Lock()


def job_key(spec: RenderSpec) -> str:
    return f"{spec.model_id}@{spec.revision}:{spec.layer}:{spec.objective.value}:{spec.steps}:{spec.seed}"


def layer_job(spec: RenderSpec) -> LayerJob | None:
    jobs, _ = _jobs()
    return jobs.get(job_key(spec))


def start_layer_job(spec: RenderSpec) -> LayerJob:
    """Start rendering ``spec`` in a background thread, or return the job already running.

    Raises JobRefused (nothing started) for a viewer or a visitor over the caps.
    """
    jobs, lock = _jobs()
    with lock:
        existing = jobs.get(job_key(spec))
    if existing is not None and not existing.done:
        return existing
    ticket = admit("render", f"rendering layer {spec.layer} of {spec.model_id}")
    with lock:
        existing = jobs.get(job_key(spec))
        if existing is not None and not existing.done:  # started meanwhile by another visitor
            gate().release(ticket, finished=False)
            return existing
        job = LayerJob()
        jobs[job_key(spec)] = job

    def progress(fraction: float, message: str) -> None:
        job.fraction, job.message = fraction, message

    def run() -> None:
        from analysis.microscope.featurevis import render_units

        finished = False
        try:
            render_units(spec, progress=progress)
            job.fraction, job.message = 1.0, "done"
            finished = True
        except AnalysisInputError as error:
            job.error = redact_paths(str(error))
        except Exception as error:  # noqa: BLE001  (reported on the page; the server keeps running)
            job.error = redact_paths(f"rendering failed: {type(error).__name__}: {error}")
        finally:
            job.done = True
            gate().release(ticket, finished=finished)

    job.thread = threading.Thread(target=run, name=f"loupe-render-{spec.layer}", daemon=True)
    job.thread.start()
    return job
