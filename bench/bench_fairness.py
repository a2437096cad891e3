"""Fairness slices at scale: Loupe's vectorised bootstrap against fairlearn's MetricFrame(n_boot=...).

Data: N rows (default 1 000 000), three sensitive columns (sex: 2, age_band: 4, region: 5 values)
and their full intersection (40 cells), scores from a noisy logistic model, 9 thresholds
(0.1 .. 0.9), every metric, B bootstrap resamples (default 1000).

Prints: Loupe's wall time and peak memory (RSS) for the whole analysis (point estimates from
fairlearn, intervals for every metric, comparison and disparity, the stored record); then
fairlearn's own bootstrap on the same data and metrics, timed without resampling and with a
small n_boot (one grouping by default: a fairlearn resample takes minutes on a million rows)
to separate the per-resample cost from the fixed cost, extrapolated to B resamples x 9
thresholds x 4 groupings (fairlearn needs one MetricFrame per threshold), and the ratio.
Run: ``.venv/bin/python bench/bench_fairness.py [--rows N] [--bootstrap B]``.
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
    from analysis.fairness import FairnessSpec, compute_fairness_slices, save_fairness_record

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
    record_id = save_fairness_record(result)  # timed too, as the command line does both
    elapsed = time.perf_counter() - start
    print(
        f"  slices reported: {len(result.slices)} (slice x threshold), too small: {len(result.too_small)}, "
        f"record {record_id}"
    )
    return elapsed


def fairlearn_frame_time(frame: pd.DataFrame, grouping: tuple[str, ...], threshold: float, n_boot: int | None) -> float:
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
        ci_quantiles=[0.025, 0.975] if n_boot else None,
        random_state=0,
    )
    # AUC (threshold-free) needs the scores: a second frame, as a fairlearn user would write it.
    MetricFrame(
        metrics={"auc": auc},
        y_true=frame["label"].to_numpy(),
        y_pred=frame["score"].to_numpy(),
        sensitive_features=frame[list(grouping)],
        n_boot=n_boot,
        ci_quantiles=[0.025, 0.975] if n_boot else None,
        random_state=0,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--fairlearn-boots", type=int, default=1, help="small n_boot to time fairlearn at")
    parser.add_argument(
        "--fairlearn-groupings", default="sex", help="groupings to time fairlearn on (comma-separated, or 'all')"
    )
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

    # fairlearn needs one MetricFrame (plus one for AUC) per grouping and threshold. Timed at n_boot=0 (point
    # estimates) and n_boot=N on the groupings asked for; the other groupings are assumed to cost the same per
    # resample (each resample redraws and regroups all rows, whatever the grouping) -- said in the output.
    groupings = [(c,) for c in SENSITIVE] + [SENSITIVE]
    timed = (
        groupings
        if args.fairlearn_groupings == "all"
        else [g for g in groupings if "*".join(g) in args.fairlearn_groupings.split(",")]
    )
    fixed_costs, per_resample_costs = [], []
    for grouping in timed:
        fixed = fairlearn_frame_time(frame, grouping, 0.5, None)
        with_boot = fairlearn_frame_time(frame, grouping, 0.5, args.fairlearn_boots)
        per_resample = max(with_boot - fixed, 0.0) / args.fairlearn_boots
        fixed_costs.append(fixed)
        per_resample_costs.append(per_resample)
        print(
            f"  fairlearn {'*'.join(grouping)} at one threshold: {fixed:.1f} s point estimates, "
            f"{per_resample:.1f} s per resample (n_boot={args.fairlearn_boots} measured)"
        )
    fixed, per_resample = float(np.mean(fixed_costs)), float(np.mean(per_resample_costs))
    total = len(groupings) * len(THRESHOLDS) * (fixed + args.bootstrap * per_resample)
    print(
        f"fairlearn MetricFrame(n_boot={args.bootstrap}) for {len(groupings)} groupings x {len(THRESHOLDS)} "
        f"thresholds, extrapolated from n_boot={args.fairlearn_boots} on {', '.join('*'.join(g) for g in timed)}: "
        f"{total:,.0f} s ({total / 3600:.1f} h)"
    )
    print(
        f"ratio: Loupe is {total / loupe_seconds:,.0f}x faster at equal n_boot "
        f"(point estimates alone: fairlearn {len(groupings) * len(THRESHOLDS) * fixed:.0f} s, "
        f"Loupe {loupe_points:.1f} s)"
    )


if __name__ == "__main__":
    main()
