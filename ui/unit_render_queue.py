"""A unit page whose rendering is not in the cache yet: the visitor's unit jumps the background queue.

A writer's visit moves the unit to the front of the precompute queue (the worker renders it alone,
not in a batch); the page polls the result store and shows the image as soon as it lands. A
writer may also render it in this server process instead (through the admission gate).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from analysis.microscope.featurevis import ObjectiveKind, RenderSpec, UnitRendering, load_cached_rendering
from analysis.microscope.precompute_queue import PrecomputeQueue
from analysis.microscope.unit_links import UnitLink
from ui.access import can_write

POLL_SECONDS = 3.0


def show_queued_unit(
    link: UnitLink,
    spec: RenderSpec,
    *,
    show: Callable[[UnitRendering], None],
    render_here: Callable[[RenderSpec], UnitRendering | None],
) -> None:
    """Queue ``spec``'s unit first (writers) and show its rendering when the worker has stored it."""
    if spec.objective is not ObjectiveKind.CHANNEL or link.unit is None:  # not what the worker precomputes
        rendering = render_here(spec)
        if rendering is not None:
            show(rendering)
        return
    queue = PrecomputeQueue()
    if can_write():
        queue.request_unit(link.model.model_id, link.revision.revision, link.layer.name, link.unit)
    if can_write() and st.button("Render it now in this server instead", key="render-here"):  # writers only
        rendering = render_here(spec)
        if rendering is not None:
            show(rendering)
        return
    st.fragment(run_every=POLL_SECONDS)(_poll)(link, spec, show)


def _poll(link: UnitLink, spec: RenderSpec, show: Callable[[UnitRendering], None]) -> None:
    rendering = load_cached_rendering(spec)
    if rendering is not None:
        show(rendering)
        return
    status = PrecomputeQueue().status(link.model.model_id, link.revision.revision, link.layer.name)
    pace = f" (about {status.seconds_per_unit:.0f} s per unit)" if status.seconds_per_unit else ""
    st.info(
        "Not rendered yet: it is first in the background worker's queue"
        f"{pace}; it appears here when done. No worker running? Start one with `python -m analysis worker` "
        "(`make run` starts one)."
        if can_write()
        else "Not rendered yet: it is queued for the background worker and appears here when done."
    )
