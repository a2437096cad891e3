"""``compute_attributions(spec) -> AttributionResult``: the engine's result, computed once and stored.

A thin wrapper around :mod:`analysis.explain.engine`: the spec is resolved (every check, before
TensorFlow is imported), then the result store (NPZ codec) is read under the resolved spec's
content key, or the engine computes and the result is stored. A cancelled or failed computation
raises before anything is stored, so it leaves no entry behind; concurrent requests for one key
compute once (the store's per-key lock).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.explain.engine import Cancel, compute_explanation, resolve_explanation
from analysis.explain.spec import AttributionResult, ExplanationSpec
from analysis.models.registry import ModelRegistry
from analysis.progress import Progress
from cache import NPZ, ResultStore


def _open(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def load_cached_attributions(
    spec: ExplanationSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> AttributionResult | None:
    """The stored result for ``spec``, or None; never imports TensorFlow."""
    arrays = _open(store).get(resolve_explanation(spec, registry).key(), NPZ)
    return None if arrays is None else AttributionResult.from_npz(arrays, cached=True)


def compute_attributions(
    spec: ExplanationSpec,
    *,
    progress: Progress | None = None,
    cancel: Cancel = None,
    model: Any = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> AttributionResult:
    """SHAP attributions for ``spec``, from the result store or computed (then stored).

    ``progress(fraction, message)`` is called before each example; ``cancel`` (a
    ``threading.Event`` or a callable returning True) stops the computation between examples
    with :class:`~analysis.explain.engine.ExplanationCancelled`, storing nothing. ``model``: an
    already loaded Keras model of the spec's revision (e.g. a server's shared copy).
    """
    resolved = resolve_explanation(spec, registry)

    def compute() -> dict[str, np.ndarray]:
        return compute_explanation(resolved, model=model, progress=progress, cancel=cancel).to_npz()

    fetched = _open(store).get_or_compute(resolved.key(), compute, NPZ)
    return AttributionResult.from_npz(fetched.value, cached=fetched.from_cache)
