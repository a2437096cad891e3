"""Reference-model attacks on the demo models: wall time (local worker processes vs a local Ray
instance), peak memory, and TPR at low FPR of LiRA and RMIA against the best classic attack.

    python bench/bench_reference_attacks.py                       # K=16, both models, both engines
    python bench/bench_reference_attacks.py --references 4        # a lighter run on a shared machine

Each (model, engine) runs in a fresh process with an empty result store, so every reference is
trained (none comes from the cache); a second run of the same configuration then reads all K
from the cache (the "cached" column). Peak memory is the largest sum, sampled every half second, of the
resident memory of the audit's whole process tree (the driver, its worker processes, and for Ray
the raylet, GCS and Ray workers it started). Figures are printed and written to
``bench/results/reference_attacks.json``; the machine's load average is printed too: compare
figures from the same run only.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The targets' own recipes (analysis/demo/train.py: optimizer, learning rate, batch size). The
# memorizer trained 300 epochs on its 250 members, 7,800 optimizer steps; each reference trains on
# half of the 2,250-example population (1,125), so 67 epochs give it the same number of steps
# (300 epochs would cost 4.5 times the target's training per reference, 90 minutes for 16 here).
RECIPES = {
    "shapes-cnn-memorizer": {"epochs": 67, "batch_size": 32, "learning_rate": 0.002},
    "credit-mlp": {"epochs": 12, "batch_size": 128, "learning_rate": 0.003},
}
CLASSIC = ("threshold", "entropy", "lr")
REFERENCE = ("lira", "rmia")


def child(model: str, engine: str, references: int) -> dict:
    """Run one audit in this process; returns its figures."""
    from analysis.privacy import MembershipAuditSpec, ModelSource, SlicingOptions, run_membership_audit
    from analysis.privacy.reference_spec import ReferenceOptions, TrainingRecipe

    spec = MembershipAuditSpec(
        source=ModelSource(model_id=model),
        attacks=CLASSIC + REFERENCE,
        slicing=SlicingOptions.parse("none"),
        workers=2,
        reference=ReferenceOptions(n_references=references, recipe=TrainingRecipe(**RECIPES[model]), engine=engine),
    )
    started = time.perf_counter()
    result = run_membership_audit(spec)
    wall = time.perf_counter() - started
    rows = {row.attack.value: row for row in result.rows}
    classic = max(CLASSIC, key=lambda a: (rows[a].tpr_at_fpr.get(0.01) or 0.0, rows[a].auc))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "model": model,
        "engine": engine,
        "references": references,
        "trained": result.reference.trained,
        "from_cache": result.reference.from_cache,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss / 1024),
        "n_members": result.n_members,
        "n_nonmembers": result.n_nonmembers,
        "best_classic": classic,
        "attacks": {
            name: {
                "auc": round(rows[name].auc, 4),
                **{
                    f"tpr@{f}": None if rows[name].tpr_at_fpr[f] is None else round(rows[name].tpr_at_fpr[f], 4)
                    for f in (0.001, 0.01)
                },
                **{f"ci@{f}": rows[name].tpr_ci.get(f) for f in (0.001, 0.01)},
            }
            for name in (classic, *REFERENCE)
        },
    }


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (Ray's raylet and workers included), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    pages = 0
    for pid in tree:
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(model: str, engine: str, references: int, cache: str) -> dict:
    env = dict(os.environ, LOUPE_CACHE_DIR=cache, RAY_USAGE_STATS_ENABLED="0")
    with tempfile.TemporaryFile("w+") as stdout:
        child_process = subprocess.Popen(
            [sys.executable, __file__, "--child", model, engine, str(references)], env=env, stdout=stdout, text=True
        )
        peak = 0.0
        while child_process.poll() is None:  # sampled every half second: the whole process tree's memory
            peak = max(peak, tree_rss_mb(child_process.pid))
            time.sleep(0.5)
        if child_process.returncode:
            raise SystemExit(f"the {model}/{engine} audit failed (exit {child_process.returncode})")
        stdout.seek(0)
        result = json.loads(stdout.read().strip().splitlines()[-1])
    result["peak_tree_rss_mb"] = round(peak)
    return result


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or not b else f"{a / b:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--references", type=int, default=16)
    parser.add_argument("--models", default="shapes-cnn-memorizer,credit-mlp")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "ENGINE", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model, engine, k = args.child
        print(json.dumps(child(model, engine, int(k))))
        return
    results = []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; K={args.references}")
    for model in args.models.split(","):
        for engine in args.engines.split(","):
            with tempfile.TemporaryDirectory(prefix="bench-ref-cache-") as cache:
                first = run(model, engine, args.references, cache)
                second = run(model, engine, args.references, cache)
            first["cached_wall_s"] = second["wall_s"]
            first["load_after"] = round(os.getloadavg()[0], 1)
            results.append(first)
            attacks = first["attacks"]
            classic = attacks[first["best_classic"]]
            print(
                f"{model:22s} {engine:5s} K={first['references']:2d} trained {first['trained']:2d} "
                f"wall {first['wall_s']:7.1f} s (all cached: {second['wall_s']:.1f} s) "
                f"peak {first['peak_tree_rss_mb']} MB (all processes) "
                f"load {first['load_after']}"
            )
            for name in REFERENCE:
                print(
                    f"    {name:5s} AUC {attacks[name]['auc']:.3f}  TPR@0.1% {attacks[name]['tpr@0.001']} "
                    f"({ratio(attacks[name]['tpr@0.001'], classic['tpr@0.001'])} {first['best_classic']})  "
                    f"TPR@1% {attacks[name]['tpr@0.01']} ({ratio(attacks[name]['tpr@0.01'], classic['tpr@0.01'])})"
                )
            print(
                f"    best classic {first['best_classic']}: AUC {classic['auc']:.3f} TPR@0.1% {classic['tpr@0.001']} "
                f"TPR@1% {classic['tpr@0.01']}"
            )
    out = ROOT / "bench" / "results" / "reference_attacks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(out.read_text()) if out.exists() else []  # other (model, engine) pairs from earlier runs
    ran = {(r["model"], r["engine"]) for r in results}
    kept = [r for r in kept if (r.get("model"), r.get("engine")) not in ran and r.get("references") == args.references]
    out.write_text(json.dumps(kept + results, indent=2))


if __name__ == "__main__":
    main()
