"""``--engine ray``: fan a spec's batches out over a Ray cluster, all writing into one shared result store.

Ray is pinned in requirements.txt; should it be missing, this raises AnalysisInputError.
Every worker must see the same Loupe home (registry and model files, at the same paths) and
the same result store: the driver passes its ``LOUPE_HOME`` and ``LOUPE_CACHE_DIR`` to the
workers. ``RAY_ADDRESS`` picks the cluster (unset: a local Ray instance).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.featurevis.cached import read_rendering, resolve_render
from analysis.featurevis.render import Progress
from analysis.featurevis.spec import RenderSpec, UnitRendering

RAY_MISSING = (
    "--engine ray needs the 'ray' package, which is missing from this Python environment; "
    "install the pinned requirements ('pip install -r requirements.txt', or 'make test'), or use --engine local"
)


def _render_chunk(spec_fields: dict[str, Any], units: list[int | None], env: dict[str, str]) -> list[float]:
    """On a worker: render ``units`` of the spec into the shared store; returns each unit's seconds."""
    os.environ.update(env)
    from analysis.featurevis.render import render_units

    spec = RenderSpec(**(spec_fields | {"units": tuple(u for u in units if u is not None)}))
    return [r.seconds or 0.0 for r in render_units(spec)]


def render_units_on_ray(spec: RenderSpec, *, progress: Progress | None = None) -> list[UnitRendering]:
    """Like :func:`~analysis.featurevis.render.render_units`, one Ray task per batch of missing units."""
    try:
        import ray
    except ImportError as error:
        raise AnalysisInputError(RAY_MISSING) from error
    from analysis.paths import cache_dir, loupe_home, open_result_store

    resolved = resolve_render(spec)
    store = open_result_store()
    before = {t for t in spec.targets() if read_rendering(store, resolved, t) is not None}
    missing = [t for t in spec.targets() if t not in before]
    chunks = [missing[i : i + spec.units_per_batch] for i in range(0, len(missing), spec.units_per_batch)]
    env = {"LOUPE_HOME": str(loupe_home()), "LOUPE_CACHE_DIR": str(cache_dir())}
    if progress is not None:
        progress(0.0, f"{len(before)} cached, {len(missing)} to render in {len(chunks)} Ray task(s)")
    if chunks:
        ray.init(address=os.environ.get("RAY_ADDRESS") or None, ignore_reinit_error=True)
        task = ray.remote(_render_chunk)
        fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
        pending = [task.remote(fields, chunk, env) for chunk in chunks]
        done = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            ray.get(ready[0])  # re-raises a worker's error here
            done += 1
            if progress is not None:
                progress(done / len(chunks), f"{done}/{len(chunks)} Ray task(s) finished")
    renderings = []
    for target in spec.targets():
        rendering = read_rendering(store, resolved, target)
        if rendering is None:
            raise RuntimeError(f"a Ray worker finished without storing unit {target}; is the result store shared?")
        renderings.append(dataclasses.replace(rendering, cached=target in before))
    return renderings
