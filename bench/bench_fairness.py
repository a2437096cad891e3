"""Fairness slices at scale: Loupe's vectorised bootstrap against fairlearn's MetricFrame(n_boot=...).

Data: N rows (default 1 000 000), three sensitive columns (sex: 2, age_band: 4, region: 5 values)
and their full intersection (40 cells), scores from a noisy logistic model, 9 thresholds
(0.1 .. 0.9), every metric, B bootstrap resamples (default 1000).

Prints: Loupe's wall time and peak memory (RSS) for the whole analysis (point estimates from
fairlearn, intervals for every metric, comparison and disparity, the stored record); then
fairlearn's own bootstrap on the same data and metrics, timed at two small n_boot values per
grouping and threshold to separate the per-resample cost from the fixed cost, extrapolated
to B resamples x 9 thresholds x 4 groupings (fairlearn needs one MetricFrame per threshold),
and the ratio. Run: ``.venv/bin/python bench/bench_fairness.py [--rows N] [--bootstrap B]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 10))
SENSITIVE = ("sex", "age_band", "region")


def make_data(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n_rows)
    age = rng.choice(["18-25", "25-40", "40-60", "60+"], n_rows, p=[0.2, 0.35, 0.3, 0.15])
    region = rng.choice(["N", "S", "E", "W", "C"], n_rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    signal = rng.normal(0, 1, n_rows) + 0.3 * (sex == "M") - 0.4 * (age == "18-25") - 0.3 * (region == "C")
    label = (signal + rng.normal(0, 1, n_rows) > 0).astype(np.int8)
    score = 1 / (1 + np.exp(-1.5 * signal))
    return pd.DataFrame({"label": label, "score": score, "sex": sex, "age_band": age, "region": region})


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_loupe(frame: pd.DataFrame, n_boot: int) -> float:
    from analysis.fairness import FairnessSpec, compute_fairness_slices

    spec = FairnessSpec(
        predictions=frame,
        label="label",
        score="score",
        sensitive=SENSITIVE,
        intersections=(SENSITIVE,),
        thresholds=THRESHOLDS,
        n_bootstrap=n_boot,
        seed=0,
        min_slice=30,
    )
    start = time.perf_counter()
    result = compute_fairness_slices(spec)
    elapsed = time.perf_counter() - start
    print(
        f"  slices reported: {len(result.slices)} (slice x threshold), too small: {len(result.too_small)}, "
        f"record {result.record_id}"
    )
    return elapsed


def fairlearn_frame_time(frame: pd.DataFrame, grouping: tuple[str, ...], threshold: float, n_boot: int) -> float:
    """Seconds for one fairlearn MetricFrame with the same metrics at one threshold, with n_boot resamples."""
    from fairlearn.metrics import MetricFrame, count

    from analysis.fairness.estimates import FAIRLEARN_METRICS, auc

    predicted = (frame["score"].to_numpy() >= threshold).astype(np.int8)
    start = time.perf_counter()
    MetricFrame(
        metrics={**FAIRLEARN_METRICS, "count": count},
        y_true=frame["label"].to_numpy(),
        y_pred=predicted,
        sensitive_features=frame[list(grouping)],
        n_boot=n_boot,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    # AUC (threshold-free) needs the scores: a second frame, as a fairlearn user would write it.
    MetricFrame(
        metrics={"auc": auc},
        y_true=frame["label"].to_numpy(),
        y_pred=frame["score"].to_numpy(),
        sensitive_features=frame[list(grouping)],
        n_boot=n_boot,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--fairlearn-boots", default="1,3", help="two small n_boot values to time fairlearn at")
    args = parser.parse_args()
    os.environ["LOUPE_HOME"] = tempfile.mkdtemp(prefix="loupe-bench-")

    frame = make_data(args.rows)
    rss_data = peak_rss_mib()
    print(
        f"fairness bench: {args.rows:,} rows, columns {', '.join(SENSITIVE)} + full intersection, "
        f"{len(THRESHOLDS)} thresholds, {args.bootstrap} resamples, {os.cpu_count()} cores"
    )
    loupe_seconds = run_loupe(frame, args.bootstrap)
    print(f"Loupe: {loupe_seconds:.1f} s wall, peak RSS {peak_rss_mib():.0f} MiB (data alone {rss_data:.0f} MiB)")
    loupe_points = run_loupe(frame, 0)
    print(f"Loupe point estimates only (n_bootstrap=0): {loupe_points:.1f} s")

    low, high = (int(v) for v in args.fairlearn_boots.split(","))
    groupings = [(c,) for c in SENSITIVE] + [SENSITIVE]
    total = 0.0
    for grouping in groupings:
        t_low = fairlearn_frame_time(frame, grouping, 0.5, low)
        t_high = fairlearn_frame_time(frame, grouping, 0.5, high)
        per_resample = max((t_high - t_low) / (high - low), 0.0)
        fixed = max(t_low - low * per_resample, 0.0)
        estimate = len(THRESHOLDS) * (fixed + args.bootstrap * per_resample)
        total += estimate
        print(
            f"  fairlearn {'*'.join(grouping)}: {per_resample:.2f} s per resample, {fixed:.2f} s fixed, "
            f"x{len(THRESHOLDS)} thresholds -> {estimate / 60:.1f} min at n_boot={args.bootstrap} (extrapolated)"
        )
    print(
        f"fairlearn MetricFrame(n_boot={args.bootstrap}), extrapolated from n_boot={low} and {high}: "
        f"{total:.0f} s ({total / 3600:.1f} h)"
    )
    print(f"ratio: Loupe is {total / loupe_seconds:.0f}x faster at equal n_boot")


if __name__ == "__main__":
    main()
