"""The precompute worker: drains :class:`~analysis.microscope.precompute_queue.PrecomputeQueue`.

One claim at a time: an examples job runs the layer's dataset-examples pass and writes its unit
pages (:mod:`analysis.microscope.unit_pages`); a render job renders its units (one batch, channel
objective, the CLI's defaults) locally or, with ``engine="ray"``, on a Ray cluster through the
``--engine ray`` path. The lease is renewed on every progress report, so only a dead worker's
lease expires. Several workers (on machines sharing the Loupe home) may run at once.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from collections.abc import Callable

from analysis.errors import AnalysisInputError
from analysis.microscope.precompute_queue import DEFAULT_LEASE_SECONDS, Claim, JobKind, PrecomputeQueue
from analysis.models.registry import ModelRegistry

ENGINES = ("local", "ray")


def worker_name() -> str:
    """``host:pid``: unique among workers sharing a store."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _current_revision(registry: ModelRegistry) -> Callable[[str], str | None]:
    def current(model_id: str) -> str | None:
        try:
            return registry.get(model_id).current.revision
        except AnalysisInputError:  # the model was removed
            return None

    return current


def execute_claim(claim: Claim, *, engine: str = "local", renew: Callable[[], None] | None = None) -> None:
    """Do a claim's work; results go to the result store (atomically, entry by entry)."""

    def progress(fraction: float, message: str) -> None:
        if renew is not None:
            renew()

    if claim.kind is JobKind.EXAMPLES:
        from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
        from analysis.microscope.unit_pages import compute_unit_pages

        spec = DatasetExamplesSpec(model_id=claim.model_id, layer=claim.layer, revision=claim.revision)
        result = compute_dataset_examples(spec, progress=progress)
        compute_unit_pages(spec, result=result)
        return
    from analysis.microscope.featurevis.spec import RenderSpec

    spec = RenderSpec(model_id=claim.model_id, layer=claim.layer, units=claim.units, revision=claim.revision)
    if engine == "ray":
        from analysis.microscope.featurevis.ray_engine import render_units_on_ray

        render_units_on_ray(spec, progress=progress)
    else:
        from analysis.microscope.featurevis.render import render_units

        render_units(spec, progress=progress)


def run_worker(
    *,
    queue: PrecomputeQueue | None = None,
    engine: str = "local",
    owner: str | None = None,
    max_units: int = 32,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    idle_seconds: float = 2.0,
    until_empty: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> int:
    """Claim and run jobs until ``should_stop()`` (or, with ``until_empty``, the queue is empty); returns claims run."""
    if engine not in ENGINES:
        raise AnalysisInputError(f"unknown engine {engine!r}; valid engines are {', '.join(ENGINES)}")
    queue = queue or PrecomputeQueue()
    owner = owner or worker_name()
    current = _current_revision(ModelRegistry())
    claims = 0
    while not should_stop():
        claim = queue.claim(owner, max_units=max_units, lease_seconds=lease_seconds, current_revision=current)
        if claim is None:
            if until_empty:
                break
            time.sleep(idle_seconds)
            continue
        what = f"{claim.model_id}/{claim.layer} {claim.kind.value}" + (
            f" units {claim.units[0]}-{claim.units[-1]} ({len(claim.units)})" if claim.units else ""
        )
        log(f"worker {owner}: {what}")
        started = time.perf_counter()
        last_renewal = [started]

        def renew(claim: Claim = claim, last: list[float] = last_renewal) -> None:
            now = time.perf_counter()
            if now - last[0] > lease_seconds / 10:
                queue.renew(claim, lease_seconds)
                last[0] = now

        try:
            execute_claim(claim, engine=engine, renew=renew)
        except AnalysisInputError as error:
            queue.fail(claim, str(error))
            log(f"worker {owner}: {what} failed: {error}")
        except KeyboardInterrupt:
            queue.release(claim)
            raise
        except Exception as error:  # noqa: BLE001  (one bad job must not stop the queue; it is recorded)
            queue.fail(claim, f"{type(error).__name__}: {error}")
            log(f"worker {owner}: {what} failed:\n{traceback.format_exc()}")
        else:
            seconds = time.perf_counter() - started
            queue.complete(claim, seconds)
            log(f"worker {owner}: {what} done in {seconds:.1f} s")
        claims += 1
    return claims
