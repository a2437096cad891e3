"""Feature-visualization throughput on shapes-cnn: one at a time vs batched, FLOP/s, a whole layer.

    .venv/bin/python bench/bench_featurevis.py [--steps 512] [--rounds 3] [--units 32] [--layer conv4]
                                               [--precompute-steps 512] [--skip-precompute]

Prints, from one run on this machine:
1. units/minute for ``--units`` units rendered one at a time (batch 1) vs batched (batch = units),
   same model, steps and seeds (compilation excluded from both; each path is warmed up first),
   lucid's recipe alone (``restart_dead_units=False``, so both paths do the same optimisations);
2. the achieved FLOP/s of the compiled step (forward FLOPs counted by TF's profiler, times 2
   for the gradient with respect to the input) against this machine's dense-matmul FLOP/s;
3. the time to precompute a whole layer of shapes-cnn with the CLI's defaults (512 steps,
   batch 32, dead units restarted from dataset examples), and before it the dataset-examples
   pass for that layer (which the restart reads).
It uses a throwaway Loupe home and result store; the demo build itself is shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def matmul_flops(size: int = 1024, repeats: int = 20) -> float:
    """Best-of-3 FLOP/s of a float32 ``size x size`` matmul through a compiled tf.function."""
    import tensorflow as tf

    a = tf.random.normal((size, size))

    @tf.function
    def product():
        return tf.matmul(a, a)

    product().numpy()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            result = product()
        result.numpy()
        best = min(best, (time.perf_counter() - started) / repeats)
    return 2 * size**3 / best


def forward_flops(model, layer: str, batch: int, hw: tuple[int, int]) -> int:
    """FLOPs of one forward pass of ``batch`` images up to ``layer`` (TF's profiler, registered op stats)."""
    import keras
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    extractor = keras.Model(model.inputs, model.get_layer(layer).output)
    graph = (
        tf.function(lambda x: extractor(x, training=False))
        .get_concrete_function(tf.TensorSpec([batch, *hw, 3], tf.float32))
        .graph
    )
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(graph, options=options).total_float_ops)


def step_seconds(model, layer: str, batch: int, hw: tuple[int, int], repeats: int = 20) -> float:
    """Median wall time of the compiled step alone (no Python bookkeeping around it)."""
    import numpy as np
    import tensorflow as tf

    from analysis.microscope.featurevis.extractor import build_extractor
    from analysis.microscope.featurevis.objectives import channel
    from analysis.microscope.featurevis.optimize import BatchOptimizer
    from analysis.microscope.featurevis.transforms import draw_transforms

    optimizer = BatchOptimizer(
        extractor=build_extractor(model, [layer]),
        objective=channel(layer),
        batch=batch,
        image_hw=hw,
        canvas_hw=hw,
        channels=3,
        input_range=(0.0, 1.0),
        learning_rate=0.05,
    )
    rows = tf.constant(np.stack([draw_transforms(np.random.default_rng(i), 1, hw, hw)[0] for i in range(batch)]))
    units = tf.constant(np.arange(batch) % 8, dtype=tf.int32)
    optimizer.step(rows, units, tf.constant(1.0))
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        optimizer.step(rows, units, tf.constant(float(index + 2))).numpy()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="steps for the one-at-a-time vs batched comparison (default: the pages' and CLI's)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the comparison")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--layer", default="conv4")
    parser.add_argument("--precompute-steps", type=int, default=512)
    parser.add_argument("--skip-precompute", action="store_true")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="loupe-bench-"))
    os.environ["LOUPE_HOME"] = str(home)
    os.environ.setdefault("LOUPE_DEMO_BUILD_DIR", str(PROJECT_ROOT / ".loupe" / "demo-builds"))
    import numpy as np

    from analysis.demo.build import build_demo_models
    from analysis.microscope.featurevis import RenderSpec, render_units
    from analysis.microscope.featurevis.spec import DEFAULT_STEPS, DEFAULT_WARM_START_STEPS

    args.steps = args.steps or DEFAULT_STEPS
    from analysis.models.loading import load_revision
    from analysis.models.registry import ModelRegistry
    from cache import ResultStore

    registry = ModelRegistry(home)
    build_demo_models(registry=registry, report=lambda message: print("demo:", message, file=sys.stderr))
    revision = registry.get("shapes-cnn").current
    model = load_revision(revision)
    layer = revision.summary.layer(args.layer)
    hw = tuple(int(v) for v in revision.summary.input_shape[:2])
    units = tuple(range(min(args.units, layer.units)))
    print(
        f"shapes-cnn {args.layer}: {layer.units} units, input {list(revision.summary.input_shape)}; "
        f"{os.cpu_count()} CPUs"
    )

    def spec(unit_list, batch, steps):
        return RenderSpec(
            model_id="shapes-cnn",
            layer=args.layer,
            units=tuple(unit_list),
            steps=steps,
            batch=batch,
            restart_dead_units=False,
        )

    # Warm up (compile) both paths outside the timings: enough steps to trace the warm-start
    # step and the plain one.
    warm_steps = DEFAULT_WARM_START_STEPS + 1
    render_units(spec(units[:1], 1, warm_steps), model=model, store=ResultStore(home / "warm1"))
    render_units(spec(units, len(units), warm_steps), model=model, store=ResultStore(home / "warm2"))

    # Alternate the two paths over several rounds (fresh stores each time), so a slow spell of
    # this shared machine hits both; report each path's median and the median of the ratios.
    single_times, batched_times, ratios = [], [], []
    for round_index in range(args.rounds):
        single_store = ResultStore(home / f"single{round_index}")
        batched_store = ResultStore(home / f"batched{round_index}")
        started = time.perf_counter()
        singles = [render_units(spec((u,), 1, args.steps), model=model, store=single_store)[0] for u in units]
        single_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        batched = render_units(spec(units, len(units), args.steps), model=model, store=batched_store)
        batched_times.append(time.perf_counter() - started)
        ratios.append(single_times[-1] / batched_times[-1])
    single_seconds, batched_seconds = float(np.median(single_times)), float(np.median(batched_times))
    single_rate, batched_rate = len(units) / single_seconds * 60, len(units) / batched_seconds * 60
    pairs = zip(singles, batched, strict=True)
    differences = [int(np.abs(a.image.astype(int) - b.image.astype(int)).max()) for a, b in pairs]
    print(f"\n1. {len(units)} units x {args.steps} steps, median of {args.rounds} alternating rounds")
    print(f"   one at a time (batch 1): {single_seconds:7.2f} s  = {single_rate:8.1f} units/minute")
    print(f"   batched ({len(units):>2})          : {batched_seconds:7.2f} s  = {batched_rate:8.1f} units/minute")
    print(
        f"   speed-up: {float(np.median(ratios)):.2f}x (rounds: {', '.join(f'{r:.2f}x' for r in ratios)}); "
        f"largest pixel difference batched vs alone: {max(differences)} grey levels"
    )
    print(
        "   (batch 1 and batch N are different render groups, so different cache entries: on CPUs whose "
        "kernels round by batch position, e.g. oneDNN's AVX2 ones, the two may differ; docs/microscope.md)"
    )

    batch = len(units)
    flops = 2 * forward_flops(model, args.layer, batch, hw)
    step = step_seconds(model, args.layer, batch, hw)
    step_one = step_seconds(model, args.layer, 1, hw)
    peak = matmul_flops()
    achieved = flops / step
    print(f"\n2. compiled step, batch {batch}: {step * 1000:.1f} ms (batch 1: {step_one * 1000:.2f} ms)")
    print(f"   FLOPs per step (forward x 2): {flops / 1e9:.2f} GFLOP -> {achieved / 1e9:.1f} GFLOP/s")
    print(f"   dense matmul (1024^2, float32): {peak / 1e9:.1f} GFLOP/s -> the step reaches {achieved / peak:.1%}")
    rendering_rate = flops * args.steps * len(units) / batch / batched_seconds
    print(
        f"   whole batched rendering incl. transforms, FFT and bookkeeping: {rendering_rate / 1e9:.1f} GFLOP/s "
        f"({rendering_rate / peak:.1%})"
    )

    if args.skip_precompute:
        return
    from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples

    store = ResultStore(home / "precompute")
    started = time.perf_counter()
    examples = compute_dataset_examples(
        DatasetExamplesSpec(model_id="shapes-cnn", layer=args.layer), model=model, store=store
    )
    examples_seconds = time.perf_counter() - started
    started = time.perf_counter()
    layer_renderings = render_units(
        RenderSpec(
            model_id="shapes-cnn", layer=args.layer, units=tuple(range(layer.units)), steps=args.precompute_steps
        ),
        model=model,
        store=store,
    )
    layer_seconds = time.perf_counter() - started
    restarted = sum(any("dataset example" in note for note in r.notes) for r in layer_renderings)
    fired = sum(any("optimised from the unit's strongest" in note for note in r.notes) for r in layer_renderings)
    print(
        f"\n3. dataset examples for {args.layer} ({examples.n_examples} examples, one pass): {examples_seconds:.1f} s"
    )
    print(
        f"   precompute {args.layer} ({layer.units} units, {args.precompute_steps} steps, batch 32): "
        f"{layer_seconds:.1f} s = {layer.units / layer_seconds * 60:.1f} units/minute "
        f"({restarted} units left at 0 by lucid's random start were optimised again from a dataset example; "
        f"{fired} of them then fired)"
    )


if __name__ == "__main__":
    main()
