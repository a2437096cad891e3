"""Reference-model attacks on the demo models: wall time (local worker processes vs a local Ray
instance), peak memory, and TPR at low FPR of LiRA and RMIA against the best classic attack.

    python bench/bench_reference_attacks.py                       # K=16, both models, both engines
    python bench/bench_reference_attacks.py --references 4        # a lighter run on a shared machine

Each (model, engine) runs in a fresh process with an empty result store, so every reference is
trained (none comes from the cache); a second run of the same configuration then reads all K
from the cache (the "cached" column). Peak memory is the driver's max RSS plus its largest worker
process (local engine); Ray's workers are not children of the driver, so for Ray only the driver's
is counted. Figures are printed and written to ``bench/results/reference_attacks.json``; the
machine's load average is printed too: compare figures from the same run only.
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

RECIPES = {  # lighter than the demo's own training (300 epochs for the memorizer): references x K on 2 cores
    "shapes-cnn-memorizer": {"epochs": 15, "batch_size": 32, "learning_rate": 0.002},
    "credit-mlp": {"epochs": 6, "batch_size": 128, "learning_rate": 0.003},
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


def run(model: str, engine: str, references: int, cache: str) -> dict:
    env = dict(os.environ, LOUPE_CACHE_DIR=cache, RAY_USAGE_STATS_ENABLED="0")
    output = subprocess.run(
        [sys.executable, __file__, "--child", model, engine, str(references)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


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
                f"wall {first['wall_s']:7.1f} s (all cached: {second['wall_s']:.1f} s) peak {first['peak_rss_mb']} MB "
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
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
