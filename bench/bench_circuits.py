"""Circuits at real size: expanded weights and attribution between two layers of a 224 px network.

    .venv/bin/python bench/bench_circuits.py [--application MobileNetV2] [--source L] [--target L]
                                             [--batch 32] [--examples 8] [--demo-home HOME]

The network is a ``keras.applications`` model built with ``weights=None`` (random weights: the cost
does not depend on them, and nothing is downloaded). Each phase runs in its own child process, so
its peak memory is its own: the child reports its peak resident set size (``ru_maxrss``) after
building the model and after the phase; the difference is what the phase added.

Phases:

- ``reference``: one forward and backward pass of the whole model on one image (the gradient of
  one output with respect to the input), the yardstick the other times are divided by;
- ``unit``: the expanded weights of one target unit (the linearised clone, one backward pass);
- ``pair``: the expanded weights of every target unit of the layer pair, in batched passes of
  ``--batch`` rows (what the app caches per layer pair);
- ``attribution``: gradient x activation over ``--examples`` random images for every target unit.

With ``--demo-home`` (a Loupe home with the demo models, e.g. ``.loupe``) it also times
shapes-cnn's conv3 -> conv4 pair both ways through ``compute_connections`` with a fresh cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

# MobileNetV2 at 224 px: block_5_add [28, 28, 32] -> block_7_expand_relu [14, 14, 384] crosses a 1x1
# expansion, ReLU6, a stride-2 depthwise 3x3, batch norms and a 1x1 projection (a bottleneck).
DEFAULTS = {"application": "MobileNetV2", "source": "block_5_add", "target": "block_7_expand_relu"}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(args: argparse.Namespace) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from analysis.microscope import circuit_gradients

    model = getattr(keras.applications, args.application)(weights=None, input_shape=(224, 224, 3))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (max(args.examples, 1), 224, 224, 3)).astype(np.float32)
    model(x[:1], training=False)  # build and trace once: not part of any phase
    before = _peak_mb()
    started = time.perf_counter()
    extra: dict = {}
    if args.phase == "reference":
        image = tf.constant(x[:1])
        for _ in range(2):  # the second pass is timed (the first traces)
            started = time.perf_counter()
            with tf.GradientTape() as tape:
                tape.watch(image)
                score = model(image, training=False)[0, 0]
            tape.gradient(score, image).numpy()
    elif args.phase == "unit":
        cut = circuit_gradients.LayerCut(model, args.source, args.target, linearise=True)
        extra["clone_s"] = time.perf_counter() - started
        extra["clean_cut"] = cut.clean
        gradient, _ = cut.gradients(
            np.array([0]),
            source=np.zeros((1, *cut.source_shape), np.float32),
            inputs=np.zeros((1, *cut.input_shape), np.float32),
            centre=True,
        )
        extra["shapes"] = {"source": list(cut.source_shape), "target": list(cut.target_shape)}
        extra["window"] = list(circuit_gradients_window(gradient))
    elif args.phase == "pair":
        gradients = circuit_gradients.expanded_weights(model, args.source, args.target, batch_size=args.batch)
        extra["units"] = int(gradients.shape[0])
    elif args.phase == "attribution":
        totals = circuit_gradients.attribution(model, args.source, args.target, x, batch_size=args.batch)
        extra["units"] = int(totals.shape[0])
        extra["examples"] = len(x)
    seconds = time.perf_counter() - started
    after = _peak_mb()
    return {"phase": args.phase, "seconds": seconds, "peak_mb": after, "added_mb": max(after - before, 0.0), **extra}


def circuit_gradients_window(gradient) -> tuple[int, int]:
    import numpy as np

    reach = np.abs(gradient).max(axis=(0, 3)) > 0
    return int(reach.any(axis=1).sum()), int(reach.any(axis=0).sum())


def demo_pair(home: Path) -> list[dict]:
    """shapes-cnn conv3 -> conv4, both methods, through compute_connections with a fresh cache."""
    os.environ["LOUPE_HOME"] = str(home)
    os.environ["LOUPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-circuits-")
    from analysis.microscope.circuits import ConnectionMethod, ConnectionsSpec, compute_connections
    from analysis.models.loading import load_revision
    from analysis.models.registry import ModelRegistry

    started = time.perf_counter()
    model = load_revision(ModelRegistry().get("shapes-cnn").current)  # TensorFlow import and loading: not timed
    rows = [
        {
            "phase": "shapes-cnn load (imports TensorFlow)",
            "seconds": time.perf_counter() - started,
            "kernels": [],
            "peak_mb": _peak_mb(),
        }
    ]
    for method in ConnectionMethod:
        started = time.perf_counter()
        result = compute_connections(
            ConnectionsSpec(model_id="shapes-cnn", layer="conv4", from_layer="conv3", method=method), model=model
        )
        rows.append(
            {
                "phase": f"shapes-cnn conv3->conv4 {method.value}",
                "seconds": time.perf_counter() - started,
                "kernels": list(result.kernels.shape),
                "peak_mb": _peak_mb(),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--application", default=DEFAULTS["application"])
    parser.add_argument("--source", default=DEFAULTS["source"])
    parser.add_argument("--target", default=DEFAULTS["target"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--phases", default="reference,unit,pair,attribution")
    parser.add_argument("--demo-home", type=Path)
    parser.add_argument("--phase", help=argparse.SUPPRESS)  # in a child process
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(child(args)))
        return
    print(f"{args.application} (weights=None, 224x224): {args.source} -> {args.target}, batch {args.batch}")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    results = {}
    for phase in [p for p in args.phases.split(",") if p]:
        command = [sys.executable, __file__, "--phase", phase, *sys.argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            sys.exit(f"{phase} failed:\n{done.stderr[-3000:]}")
        results[phase] = json.loads(done.stdout.strip().splitlines()[-1])
    reference = results.get("reference", {}).get("seconds")
    for phase, row in results.items():
        ratio = f" = {row['seconds'] / reference:6.1f} x reference" if reference and phase != "reference" else ""
        details = {k: v for k, v in row.items() if k not in ("phase", "seconds", "peak_mb", "added_mb")}
        print(
            f"{phase:12s} {row['seconds']:8.2f} s{ratio}; peak RSS {row['peak_mb']:7.0f} MB "
            f"(+{row['added_mb']:.0f} MB over the built model) {json.dumps(details) if details else ''}"
        )
    if args.demo_home:
        for row in demo_pair(args.demo_home):
            print(f"{row['phase']}: {row['seconds']:.2f} s, kernels {row['kernels']}, peak RSS {row['peak_mb']:.0f} MB")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
