"""``--engine ray``: fan a spec's batches out over a Ray cluster, all writing into one shared result store.

Every worker must see the same Loupe home (registry and model files, at the same paths), the
same result store and the same project checkout. Each task's runtime environment carries the
driver's ``LOUPE_HOME``, ``LOUPE_CACHE_DIR`` (and ``LOUPE_CACHE_SIZE_LIMIT``, if set) and puts the
project root on ``PYTHONPATH``: Ray itself only adds the driver's working directory to its workers'
``sys.path``, which is not the project when the command runs from elsewhere.

``RAY_ADDRESS`` picks the cluster; unset, Ray joins a cluster started with ``ray start`` on this
machine or starts a local instance, which is shut down when the render is done. A Ray session
this process already initialised (``ray.init`` by the caller) is used as it is.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis.cached import ResolvedRender, read_rendering, resolve_render
from analysis.microscope.featurevis.spec import CODE_VERSION, RenderSpec, UnitRendering
from analysis.progress import Progress

RAY_MISSING = (
    "--engine ray needs the 'ray' package, which is missing from this Python environment; "
    "install the pinned requirements ('pip install -r requirements.txt', or 'make test'), or use --engine local"
)


def _render_chunk(spec_fields: dict[str, Any], units: list[int | None]) -> dict[int | None, str]:
    """On a worker: render ``units`` of the spec into the shared store; returns each unit's cache key."""
    from analysis.microscope.featurevis.render import render_units

    spec = RenderSpec(**(spec_fields | {"units": tuple(u for u in units if u is not None)}))
    return {r.unit: r.cache_key for r in render_units(spec)}


def worker_runtime_env() -> dict[str, Any]:
    """The Ray ``runtime_env`` of every task: the driver's Loupe paths and the project on ``PYTHONPATH``.

    ``${PYTHONPATH}`` is expanded by Ray on the worker, so a cluster's own ``PYTHONPATH`` is kept.
    """
    from analysis.paths import PROJECT_ROOT, cache_dir, loupe_home

    env = {"LOUPE_HOME": str(loupe_home()), "LOUPE_CACHE_DIR": str(cache_dir())}
    if os.environ.get("LOUPE_CACHE_SIZE_LIMIT"):
        env["LOUPE_CACHE_SIZE_LIMIT"] = os.environ["LOUPE_CACHE_SIZE_LIMIT"]
    env["PYTHONPATH"] = f"{PROJECT_ROOT}{os.pathsep}${{PYTHONPATH}}"
    return {"env_vars": env}


def _start_ray(ray: Any) -> bool:
    """Connect to (or start) a Ray cluster unless this process already has; True if we did."""
    if ray.is_initialized():
        return False
    # A local instance started here must not report usage statistics over the network.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=address, include_dashboard=False)
    except (ConnectionError, TimeoutError) as error:
        where = f"the Ray cluster at RAY_ADDRESS={address!r}" if address else "a local Ray instance"
        raise AnalysisInputError(
            f"could not connect to {where} ({str(error).splitlines()[0] if str(error) else type(error).__name__}); "
            "start the cluster with 'ray start --head' on its head node, or unset RAY_ADDRESS to start a local "
            "instance, or use --engine local"
        ) from error
    return True


def _wait_for(ray: Any, pending: list[Any], progress: Progress | None) -> dict[int | None, str]:
    """Every task's {unit: cache key}; a worker's AnalysisInputError becomes one line, anything else surfaces."""
    total, keys = len(pending), {}
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        try:
            keys.update(ray.get(ready[0]))
        except ray.exceptions.RayTaskError as error:
            for ref in pending:
                ray.cancel(ref)
            if isinstance(error.cause, AnalysisInputError):  # e.g. the model file is not there on that machine
                raise AnalysisInputError(f"on a Ray worker: {error.cause}") from error
            raise
        if progress is not None:
            done = total - len(pending)
            progress(done / total, f"{done}/{total} Ray task(s) finished")
    return keys


def render_units_on_ray(spec: RenderSpec, *, progress: Progress | None = None) -> list[UnitRendering]:
    """Like :func:`~analysis.microscope.featurevis.render.render_units`, one Ray task per batch of missing units.

    Units already in the store are read, not rendered, and start no task; ``cached`` is true for them.
    """
    try:
        import ray
    except ImportError as error:
        raise AnalysisInputError(RAY_MISSING) from error
    from analysis.paths import open_result_store

    resolved = resolve_render(spec)
    store = open_result_store()
    before = {t for t in spec.targets() if read_rendering(store, resolved, t) is not None}
    missing = [t for t in spec.targets() if t not in before]
    chunks = [list(group) for group in spec.render_groups(missing, resolved.layer.units)]
    if progress is not None:
        progress(0.0, f"{len(before)} cached, {len(missing)} to render in {len(chunks)} Ray task(s)")
    if chunks:
        started = _start_ray(ray)
        try:
            task = ray.remote(_render_chunk).options(runtime_env=worker_runtime_env())
            # The full revision hash: a worker must not pick up a revision registered meanwhile.
            fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
            fields["revision"] = resolved.revision.revision
            worker_keys = _wait_for(ray, [task.remote(fields, chunk) for chunk in chunks], progress)
        finally:
            if started:
                ray.shutdown()
        _check_worker_keys(resolved, worker_keys)
    elif progress is not None:
        progress(1.0, "done")
    renderings = []
    for target in spec.targets():
        rendering = read_rendering(store, resolved, target)
        if rendering is None:
            raise AnalysisInputError(
                f"a Ray worker rendered unit {target} but it is not in the result store at {store.directory}; "
                "every Ray node must see the same LOUPE_CACHE_DIR at the same path"
            )
        renderings.append(dataclasses.replace(rendering, cached=target in before))
    return renderings


def _check_worker_keys(resolved: ResolvedRender, worker_keys: dict[int | None, str]) -> None:
    """Refuse results stored under other keys: that worker runs other Loupe code (e.g. another CODE_VERSION)."""
    for unit, key in worker_keys.items():
        if key != resolved.key(unit):
            raise AnalysisInputError(
                f"a Ray worker stored unit {unit} under cache key {key!r}, but this machine expects "
                f"{resolved.key(unit)!r}; every Ray node must run the same Loupe checkout (featurevis "
                f"code version {CODE_VERSION!r} here)"
            )
