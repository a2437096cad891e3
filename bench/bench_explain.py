"""SHAP explanations of the demo models: time per explained example at the default settings, and the cache.

For ``credit-mlp`` (tabular, 8 features: exact Shapley values by default, and the permutation
explainer with 500 evaluations per example that larger tables get; both over a 100-row
background) and ``shapes-cnn`` (images: expected gradients, 200 samples per example, 100-image
background; the predicted class and a conv4 unit), in one run on a fresh result store:

- the first request (model loading and tracing included) and the per-example time measured on a
  second, larger request with the model already loaded (the steady state a server sees);
- the same request again, served from the result store, and the speed-up.

Needs the demo models (``make run`` or ``python -m analysis models build-demo``).
Run: ``.venv/bin/python bench/bench_explain.py [--tabular 200] [--images 10]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(function):
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def bench(model_id: str, target: str, count: int, label: str, explainer: str | None = None) -> None:
    from analysis.explain import ExplanationSpec, compute_attributions
    from analysis.models.loading import load_revision
    from analysis.models.registry import ModelRegistry

    model = load_revision(ModelRegistry().resolve(model_id))
    warm, warm_seconds = timed(
        lambda: compute_attributions(
            ExplanationSpec(model_id=model_id, examples=(count,), target=target, explainer=explainer), model=model
        )
    )
    spec = ExplanationSpec(model_id=model_id, examples=tuple(range(count)), target=target, explainer=explainer)
    result, seconds = timed(lambda: compute_attributions(spec, model=model))
    again, cached_seconds = timed(lambda: compute_attributions(spec))
    assert again.cached and not result.cached and not warm.cached
    errors = np.abs(result.additivity_errors)
    print(
        f"{label}: {result.explainer.value} explainer, target {result.target.label()}, "
        f"background {result.background}, {result.parameters}"
    )
    print(
        f"  first request (1 example; builds and traces the target model, and the run's first imports shap): "
        f"{warm_seconds:.2f} s"
    )
    print(f"  {count} examples: {seconds:.2f} s = {1000 * seconds / count:.1f} ms per example")
    print(
        f"  same request from the result store: {1000 * cached_seconds:.1f} ms "
        f"-> {seconds / cached_seconds:.0f}x faster"
    )
    gaps = np.abs(result.outputs - result.expected_values)
    print(
        f"  |additivity error|: median {np.median(errors):.2g}, max {errors.max():.2g}; relative to "
        f"|output - expected value|: median {np.median(errors / np.maximum(gaps, 1e-12)):.2g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabular", type=int, default=200, help="credit-mlp examples (default 200)")
    parser.add_argument("--images", type=int, default=10, help="shapes-cnn examples (default 10)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["LOUPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-explain-")  # a cold result store
    print(f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    bench("credit-mlp", "predicted", args.tabular, "credit-mlp")
    bench("credit-mlp", "predicted", args.tabular, "credit-mlp (permutation)", explainer="permutation")
    bench("shapes-cnn", "predicted", args.images, "shapes-cnn (predicted class)")
    bench("shapes-cnn", "conv4:12", args.images, "shapes-cnn (unit conv4:12)")


if __name__ == "__main__":
    main()
