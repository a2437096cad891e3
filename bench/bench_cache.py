"""Result cache: hit latency for typical payloads, against recomputing them, in one run.

Prints median seconds of a write, a cache hit (read, checksum, decode) and key derivation for a
64x64 PNG rendering, a 1 MB NPZ and a JSON record. What a hit saves is measured by the
analysis benchmarks (bench_featurevis.py, bench_microscope_page.py).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from cache import JSON, NPZ, PNG, ResultStore, make_key


def median_seconds(function, repeats: int = 50) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    payloads = {
        "png 64x64 rendering": (PNG, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)),
        "npz 1 MB activations": (NPZ, {"a": rng.normal(size=(128, 1024)).astype(np.float64)}),
        "json audit record": (
            JSON,
            {"results": [{"auc": float(v), "slice": i} for i, v in enumerate(rng.uniform(size=500))]},
        ),
    }
    with tempfile.TemporaryDirectory() as folder:
        store = ResultStore(Path(folder))
        print(f"{'payload':<24} {'encode+put s':>13} {'hit s':>10} {'key s':>10}")
        for name, (codec, value) in payloads.items():
            key = make_key(revision="r" * 64, analysis="bench", params={"name": name}, code_version="1")
            params = {"name": name, "units": list(range(64))}
            put = median_seconds(lambda k=key, c=codec, v=value: store.put(k, v, c), repeats=10)
            hit = median_seconds(lambda k=key, c=codec, v=value: store.get_or_compute(k, lambda: v, c))
            keying = median_seconds(
                lambda p=params: make_key(revision="r" * 64, analysis="bench", params=p, code_version="1")
            )
            print(f"{name:<24} {put:>13.6f} {hit:>10.6f} {keying:>10.6f}")


if __name__ == "__main__":
    main()
