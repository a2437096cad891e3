"""Data forms: time and peak memory to register an image folder and a Parquet table and run the
dataset-examples pass on them, against the same data given as an ``.npz`` in the same run.

Generates into a scratch folder under /tmp (removed afterwards): N grey 32x32 PNG images in 10
class subfolders (and the same pixels as an .npz in [-1, 1]) for a Keras-2-style grey model with
inputs in [-1, 1], and an M-row Parquet table of 8 features (and the same as an .npz) for a small
MLP. Each measurement runs in its own process (``models add`` then the dataset-examples pass of
one layer), so its peak resident memory (``ru_maxrss``, TensorFlow included) is its own.

    .venv/bin/python bench/bench_data_forms.py [--images 100000] [--rows 10000000]

The issue's sizes are the defaults; on a shared 2-core machine use --images 10000 --rows 1000000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from analysis.data_forms import DataSourceSpec
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.datasets import DatasetRole
import keras  # TensorFlow's import is not part of what is measured
model, data, layer, meta, range_ = {model!r}, {data!r}, {layer!r}, {meta!r}, {range_!r}
source = Path(data) if data.endswith(".npz") else DataSourceSpec(path=Path(data), meta=tuple(meta))
started = time.perf_counter()
ModelRegistry().register(RegisterModelSpec(path=Path(model), model_id="bench", datasets={{DatasetRole.DATA: source}},
                                           input_range=tuple(range_) if range_ else None))
registered = time.perf_counter()
compute_dataset_examples(DatasetExamplesSpec(model_id="bench", layer=layer, batch_size=1024))
done = time.perf_counter()
print(json.dumps({{"register_s": registered - started, "examples_s": done - registered,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_child(home: Path, *, model: Path, data: Path, layer: str, meta: list[str], range_: list[float] | None) -> dict:
    code = CHILD.format(root=str(ROOT), model=str(model), data=str(data), layer=layer, meta=meta, range_=range_)
    env = {**os.environ, "LOUPE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    shutil.rmtree(home, ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_images(folder: Path, n: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = np.empty((n, SIZE, SIZE), np.uint8)
    labels = np.arange(n) % 10
    for i in range(n):
        image = rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
        pixels[i] = image
        target = folder / "faces" / f"class_{labels[i]}"
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"{i:06d}.png", compress_level=1)
    order = np.argsort(labels, kind="stable")  # the folder reads class by class, files sorted
    npz = folder / "faces.npz"
    np.savez(npz, x=(-1 + pixels[order].astype(np.float32)[..., None] / 127.5), y=labels[order])
    return folder / "faces"


def make_table(folder: Path, rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    path = folder / "table.parquet"
    writer = None
    xs, ys, groups = [], [], []
    chunk = 1_000_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        x = rng.normal(size=(n, 8)).astype(np.float32)
        y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
        group = rng.choice(np.array(["a", "b", "c"]), size=n)
        table = pa.table({**{f"f{j}": x[:, j] for j in range(8)}, "label": y, "group": group})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        xs.append(x), ys.append(y), groups.append(group)
    writer.close()
    np.savez(folder / "table.npz", x=np.concatenate(xs), y=np.concatenate(ys), meta_group=np.concatenate(groups))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.analysis.models.keras2_h5 import write_keras2_h5

    scratch = Path(tempfile.mkdtemp(prefix="bench-data-forms-", dir="/tmp"))
    try:
        started = time.perf_counter()
        folder = make_images(scratch, args.images)
        print(f"generated {args.images:,} PNG images in {time.perf_counter() - started:.1f} s")
        write_keras2_h5(scratch / "grey.h5", size=SIZE, channels=1, classes=10)
        import keras

        keras.utils.set_random_seed(0)
        mlp = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu", name="hidden"),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )
        mlp.save(scratch / "mlp.keras")
        started = time.perf_counter()
        table = make_table(scratch, args.rows)
        print(
            f"generated a {args.rows:,}-row Parquet table ({table.stat().st_size / 2**20:,.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        home = scratch / "home"
        cases = [
            (
                f"{args.images:,} images: .npz (reference)",
                scratch / "grey.h5",
                scratch / "faces.npz",
                "bn2",
                [],
                [-1, 1],
            ),
            (f"{args.images:,} images: class folder", scratch / "grey.h5", folder, "bn2", [], [-1, 1]),
            (f"{args.rows:,} rows: .npz (reference)", scratch / "mlp.keras", scratch / "table.npz", "hidden", [], None),
            (f"{args.rows:,} rows: Parquet", scratch / "mlp.keras", table, "hidden", ["group"], None),
        ]
        print(f"{'data set':<34} {'register s':>11} {'examples s':>11} {'peak MB':>9}")
        reference = None
        for name, model, data, layer, meta, range_ in cases:
            figures = run_child(home, model=model, data=data, layer=layer, meta=meta, range_=range_)
            ratio = ""
            if "reference" in name:
                reference = figures
            elif reference:
                ratio = (
                    f"  (x{figures['register_s'] / reference['register_s']:.1f} register, "
                    f"x{figures['peak_mb'] / reference['peak_mb']:.2f} memory of the .npz)"
                )
            print(
                f"{name:<34} {figures['register_s']:>11.1f} {figures['examples_s']:>11.1f} "
                f"{figures['peak_mb']:>9,.0f}{ratio}",
                flush=True,
            )
        print(f"this process's peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
