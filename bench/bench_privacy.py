"""Privacy-audit benchmarks: Loupe against a direct tensorflow-privacy call, and scale.

    python bench/bench_privacy.py                 # both parts (a few minutes on 2 cores)
    python bench/bench_privacy.py --part compare  # or --part scale

1. **compare**: 10 000 members + 10 000 non-members (10 classes), threshold + entropy + LR on
   every built-in slice (entire, 10 classes, 10 loss percentiles, 2 correctness = 23 slices),
   in one run: a direct ``run_attacks`` call (as is, then limited to one BLAS thread, which is
   how Loupe runs trained attacks), Loupe's audit with 2 workers cold (a fresh process, as a
   CLI run: at this size it keeps trained attacks in-process, as starting workers would cost
   more than they save) and warm (worker processes already running, as on the /privacy page),
   and Loupe with 1 worker (no parallelism); interleaved ``--repeats`` times, medians reported.
2. **scale**: 1 000 000 + 1 000 000 with the threshold attacks (loss and entropy) and TPR at
   fixed FPRs, every built-in slice; Loupe and the direct call each in a fresh process, so the
   peak memory (max RSS) of each is its own.

Figures are printed and written to ``bench/results/privacy.json``. Machine load is printed
too: on a shared machine, compare figures from the same run only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.privacy import (  # noqa: E402
    AttackKind,
    MembershipAuditSpec,
    ModelOutputs,
    OutputArraysSource,
    SlicingOptions,
    run_membership_audit,
)
from analysis.privacy.library import AttackInputData, SlicingSpec, run_attacks  # noqa: E402
from analysis.privacy.tasks import start_worker_pool  # noqa: E402

ALL_SLICES = SlicingOptions(by_class=True, by_percentile=True, by_correctness=True)
COMPARE_ATTACKS = ("threshold", "entropy", "lr")
LIBRARY_SLICES = SlicingSpec(
    entire_dataset=True, by_class=True, by_percentiles=True, by_classification_correctness=True
)


def make_source(n: int, *, classes: int = 10, seed: int = 0) -> OutputArraysSource:
    """A leaky classifier's logits: members' true class 3.0 above noise, non-members' 2.0."""
    rng = np.random.default_rng(seed)

    def side(name: str, margin: float) -> ModelOutputs:
        labels = rng.integers(0, classes, n)
        logits = rng.normal(size=(n, classes)).astype(np.float32)
        logits[np.arange(n), labels] += margin
        return ModelOutputs(name=name, outputs=logits, kind="logits", labels=labels)

    return OutputArraysSource(members=side("members", 3.0), nonmembers=side("non-members", 2.0))


def direct_call(source: OutputArraysSource, attacks: tuple[str, ...], seed: int):
    """What a tensorflow-privacy user writes: one run_attacks over every slice."""
    data = AttackInputData(
        logits_train=source.members.outputs,
        logits_test=source.nonmembers.outputs,
        labels_train=source.members.labels,
        labels_test=source.nonmembers.labels,
    )
    np.random.seed(seed)
    with np.errstate(all="ignore"):
        return run_attacks(data, LIBRARY_SLICES, [AttackKind(a).library_type for a in attacks])


def timed(function):
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


def loupe_audit(source: OutputArraysSource, attacks: tuple[str, ...], workers: int):
    spec = MembershipAuditSpec(source=source, attacks=attacks, slicing=ALL_SLICES, seed=0, workers=workers)
    return run_membership_audit(spec)


def cold_child(n: int) -> None:
    """One audit in a fresh process, as a CLI run is: the worker server starts from nothing."""
    source = make_source(n)
    _, seconds = timed(lambda: loupe_audit(source, COMPARE_ATTACKS, workers=2))
    print(json.dumps({"seconds": seconds}))


def part_compare(n: int, repeats: int) -> dict:
    source = make_source(n)
    start_worker_pool(2)  # what the /privacy page does when it opens: later audits find the workers running
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {}
    for _ in range(repeats):  # interleaved, so a change in machine load hits every variant alike
        direct, seconds = timed(lambda: direct_call(source, COMPARE_ATTACKS, seed=0))
        times.setdefault("direct run_attacks", []).append(seconds)
        with threadpool_limits(limits=1):  # the direct call without BLAS threads (Loupe's trained tasks use 1)
            _, seconds = timed(lambda: direct_call(source, COMPARE_ATTACKS, seed=0))
        times.setdefault("direct, 1 BLAS thread", []).append(seconds)
        child = subprocess.run(
            [sys.executable, __file__, "--cold-child", "--n", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        times.setdefault("Loupe, 2 workers, cold", []).append(json.loads(child.stdout.splitlines()[-1])["seconds"])
        result, seconds = timed(lambda: loupe_audit(source, COMPARE_ATTACKS, workers=2))
        times.setdefault("Loupe, 2 workers, warm", []).append(seconds)
        _, seconds = timed(lambda: loupe_audit(source, COMPARE_ATTACKS, workers=1))
        times.setdefault("Loupe, 1 worker", []).append(seconds)
    threshold_rows = [r for r in result.rows if not r.attack.is_trained]
    direct_rows = [r for r in direct.single_attack_results if not r.attack_type.is_trained_attack]
    same = [(r.auc, r.attacker_advantage, r.ppv) for r in threshold_rows] == [
        (float(r.get_auc()), float(r.get_attacker_advantage()), float(r.get_ppv())) for r in direct_rows
    ]
    medians = {label: float(np.median(values)) for label, values in times.items()}
    print(
        f"compare  {n:,} + {n:,}, {', '.join(COMPARE_ATTACKS)}, 23 slices ({len(result.rows)} attack runs), "
        f"median of {repeats} interleaved repeats"
    )
    for label, values in times.items():
        print(f"  {label:<26} {medians[label]:7.2f} s   (runs: {', '.join(f'{v:.2f}' for v in values)})")
    print(f"  threshold/entropy numbers identical to the direct call: {same}")
    print(f"  load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; {os.cpu_count()} cpus")
    return {
        "members": n,
        "nonmembers": n,
        "attacks": list(COMPARE_ATTACKS),
        "slices": 23,
        "tasks": len(result.rows),
        "repeats": repeats,
        "median_seconds": {k: round(v, 2) for k, v in medians.items()},
        "all_seconds": {k: [round(v, 2) for v in values] for k, values in times.items()},
        "threshold_numbers_identical_to_direct": same,
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def scale_child(which: str, n: int) -> None:
    """Run one scale measurement in this (fresh) process and print its figures as JSON."""
    source, make_s = timed(lambda: make_source(n))
    attacks = ("threshold", "entropy")
    if which == "loupe":
        spec = MembershipAuditSpec(source=source, attacks=attacks, slicing=ALL_SLICES, workers=2)
        result, seconds = timed(lambda: run_membership_audit(spec))
        entire = {r.attack.value: r.tpr_at_fpr for r in result.rows if r.slice.kind.value == "entire_dataset"}
        extra = {
            "tpr_at_fpr_entire": {a: {str(f): t for f, t in v.items()} for a, v in entire.items()},
            "tasks": len(result.rows),
        }
    else:
        _, seconds = timed(lambda: direct_call(source, attacks, seed=0))
        extra = {}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "which": which,
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(peak_mib),
                "data_generation_s": round(make_s, 2),
                **extra,
            }
        )
    )


def part_scale(n: int) -> dict:
    figures = {
        "members": n,
        "nonmembers": n,
        "attacks": ["threshold", "entropy"],
        "slices": 23,
        "load_average_1min_before": round(os.getloadavg()[0], 2),
    }
    print(f"scale    {n:,} + {n:,}, threshold + entropy with TPR at 0.1% and 1% FPR, 23 slices (fresh processes)")
    for which in ("loupe", "direct"):
        child = subprocess.run(
            [sys.executable, __file__, "--scale-child", which, "--n", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        figures[which] = measured
        label = "Loupe audit (2 workers)" if which == "loupe" else "direct run_attacks"
        print(
            f"  {label:<27} {measured['seconds']:7.2f} s, peak RSS {measured['peak_rss_mib']:,} MiB "
            f"(incl. {n:,}x10 float32 logits per side and the interpreter)"
        )
    print(f"  TPR at FPR (entire data set): {figures['loupe']['tpr_at_fpr_entire']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("compare", "scale", "all"), default="all")
    parser.add_argument("--n-compare", type=int, default=10_000)
    parser.add_argument("--n-scale", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale-child", choices=("loupe", "direct"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        scale_child(args.scale_child, args.n)
        return
    if args.cold_child:
        cold_child(args.n)
        return
    figures = {}
    if args.part in ("compare", "all"):
        figures["compare"] = part_compare(args.n_compare, args.repeats)
    if args.part in ("scale", "all"):
        figures["scale"] = part_scale(args.n_scale)
    out = ROOT / "bench" / "results" / "privacy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
