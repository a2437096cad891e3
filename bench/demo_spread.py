"""How much the figures the slow tests assert on move between demo builds that differ like machines do.

Each variant builds the demo models into its own folder under ``--root`` (default
``/tmp/loupe-demo-spread``; ``.loupe/demo-builds`` is not touched) and computes, in the same
process, every figure a test asserts on about a trained demo model (the privacy comparison,
the fairness gaps, the explanations, the Distill check). One subprocess per variant, one at a
time, because oneDNN and the thread pools are read once, when TensorFlow starts.

Variants:
  pinned          the build as ``make run`` makes it (pinned training processes), seed 0;
                  the analyses run with 1 thread and oneDNN off
  threads2-onednn trained in-process with 2 threads, oneDNN on (TensorFlow's defaults on x86-64)
  threads1-onednn trained in-process with 1 thread, oneDNN on
  pinned-seed1    the pinned build with seed 1 (claims must not depend on the seed); analyses
                  with TensorFlow's defaults
  pinned-again    the pinned build once more, from a caller with 2 threads and oneDNN on: are
                  the weights identical? (build only)
  existing        the figures of a finished build folder given with ``--existing DIR`` (e.g. one
                  an earlier builder made), with TensorFlow's defaults; nothing is trained

Usage: PYTHONPATH=. .venv/bin/python bench/demo_spread.py [--variants a,b] [--root DIR]
Prints one JSON line per variant as it finishes, then a table: each figure per variant, min, max.
A variant's figures are kept in ``ROOT/<variant>/result.json`` and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS: dict[str, dict] = {
    "pinned": {"pinned": True, "seed": 0, "threads": 1, "onednn": "0", "figures": True},
    "threads2-onednn": {"pinned": False, "seed": 0, "threads": 2, "onednn": "1", "figures": True},
    "threads1-onednn": {"pinned": False, "seed": 0, "threads": 1, "onednn": "1", "figures": True},
    "pinned-seed1": {"pinned": True, "seed": 1, "threads": 2, "onednn": "1", "figures": True},
    "pinned-again": {"pinned": True, "seed": 0, "threads": 2, "onednn": "1", "figures": False},
    "existing": {"pinned": False, "seed": 0, "threads": 2, "onednn": "1", "figures": True},
}


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def build(name: str, spec: dict, root: Path) -> dict:
    """Train (or reuse) this variant's demo build and register it in its own Loupe home."""
    from analysis.demo.build import DemoConfig, build_demo_models, builder_code_hash, weights_hash
    from analysis.models.registry import ModelRegistry

    home = root / name / "home"
    os.environ["LOUPE_HOME"] = str(home)
    os.environ["LOUPE_DEMO_BUILD_DIR"] = str(root / name / "builds")
    os.environ.pop("LOUPE_CACHE_DIR", None)
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    folder = root / name / "builds" / f"{builder_code_hash()}-seed{spec['seed']}"
    if name == "existing" and not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.symlink_to(Path(os.environ["DEMO_SPREAD_EXISTING"]).resolve())
    if not spec["pinned"]:
        from analysis.demo.train import TRAINERS

        if not (folder / "COMPLETE").exists():
            for model_id, train in TRAINERS.items():
                train(folder / model_id, seed=spec["seed"], config=DemoConfig(), report=lambda message: None)
            (folder / "COMPLETE").write_text("bench\n")
    records = build_demo_models(seed=spec["seed"], registry=ModelRegistry(home), report=lambda message: None)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(cpu_after, cpu_before, strict=True))
    import keras

    hashes = {r.model_id: weights_hash(keras.saving.load_model(r.current.path))[:12] for r in records}
    return {"build_wall_s": round(time.perf_counter() - started, 1), "build_cpu_s": round(cpu, 1), **hashes}


def privacy_figures() -> dict:
    from analysis.privacy import MembershipAuditSpec, ModelSource, SlicingOptions, run_membership_audit

    out = {}
    for key, model_id in (("mem", "shapes-cnn-memorizer"), ("gen", "shapes-cnn")):
        result = run_membership_audit(
            MembershipAuditSpec(source=ModelSource(model_id=model_id), slicing=SlicingOptions.parse("none"))
        )
        tpr = result.max_tpr_at(0.01)
        low, high = wilson(round(tpr * result.n_members), result.n_members)
        out |= {
            f"{key}_auc": result.max_auc(),
            f"{key}_tpr@1%": tpr,
            f"{key}_tpr@1%_ci_lo": low,
            f"{key}_tpr@1%_ci_hi": high,
            f"{key}_verdict": result.verdict()[0],
            f"{key}_loss_gap": result.loss_gap,
            f"{key}_train_acc": result.train_accuracy,
            f"{key}_test_acc": result.test_accuracy,
        }
    return out


def fairness_figures() -> dict:
    from analysis.fairness import FairnessSpec, compute_fairness_slices

    result = compute_fairness_slices(
        FairnessSpec(
            model_id="credit-mlp",
            split="test",
            sensitive=("sex", "age_band", "group"),
            intersections=(("age_band", "group"),),
            thresholds=(0.5,),
            n_bootstrap=1000,
            seed=0,
            min_slice=30,
        )
    )

    def gap(metric: str, **group: str):
        entry = next(s for s in result.slices_at(0.5) if dict(s.group) == group)
        return entry.vs_baseline[metric]

    out = {}
    for column, value, metric in (
        ("group", "D", "base_rate"),
        ("group", "D", "accuracy"),
        ("group", "D", "selection_rate"),
        ("age_band", "18-25", "base_rate"),
        ("age_band", "18-25", "accuracy"),
        ("group", "C", "base_rate"),
    ):
        comparison = gap(metric, **{column: value})
        out[f"fair_{value}_{metric}_diff"] = comparison.difference
        out[f"fair_{value}_{metric}_ci_hi"] = comparison.ci_difference[1]
    out["fair_18-25&D_accuracy_diff"] = gap("accuracy", age_band="18-25", group="D").difference
    return out


def explain_figures() -> dict:
    import numpy as np

    from analysis.explain import ExplanationSpec, SliceComparisonSpec, compare_slices, compute_attributions

    out = {}
    credit = compute_attributions(ExplanationSpec(model_id="credit-mlp", examples=tuple(range(20))))
    out["credit_additivity_max"] = float(np.abs(credit.additivity_errors).max())
    examples = (0, 1, 2, 3)
    default = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=examples))
    precise = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=examples, samples=1000))
    out["cnn_err_mean_200"] = float(np.abs(default.additivity_errors).mean())
    out["cnn_err_mean_1000"] = float(np.abs(precise.additivity_errors).mean())
    scale = np.abs(precise.outputs - precise.expected_values).max()
    out["cnn_err_max_1000/scale"] = float(np.abs(precise.additivity_errors).max() / scale)
    unit = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=(0, 1), target="conv4:5"))
    unit_scale = max(float(np.abs(unit.outputs - unit.expected_values).max()), 1.0)
    out["unit_err_max/scale"] = float(np.abs(unit.additivity_errors).max() / unit_scale)
    for column, group, feature in (
        ("group", "D", "income_k"),
        ("group", "C", "debt_ratio"),
        ("age_band", "18-25", "credit_history_years"),
    ):
        comparison = compare_slices(
            SliceComparisonSpec(model_id="credit-mlp", column=column, group_a=group, per_group=100)
        )
        ranked = comparison.ranked_features()
        difference = dict(zip(comparison.feature_names, comparison.difference, strict=True))
        out[f"slice_{group}_top"] = ranked[0]
        out[f"slice_{group}_{feature}_diff"] = float(difference[feature])
        out[f"slice_{group}_top/second"] = float(abs(difference[ranked[0]]) / abs(difference[ranked[1]]))
    return out


def featurevis_figures() -> dict:
    import numpy as np

    from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
    from analysis.microscope.featurevis import RenderSpec, render_units

    # as tests/analysis/test_featurevis_shapes.py: every fourth unit that fires on the data set,
    # and every nearly dead unit (strongest channel mean below 1% of the layer's median)
    examples = compute_dataset_examples(DatasetExamplesSpec(model_id="shapes-cnn", layer="conv4"))
    strongest = examples.arrays["top_mean_value"][:, 0]
    nearly_dead = {int(u) for u in np.flatnonzero(strongest <= 0.01 * float(np.median(strongest)))}
    regular = sorted(set(range(0, 64, 4)) - nearly_dead)
    units = tuple(sorted(set(regular) | nearly_dead))
    renderings = render_units(RenderSpec(model_id="shapes-cnn", layer="conv4", units=units, steps=128, batch=16))
    by_unit = {r.unit: r for r in renderings}
    ratios = [by_unit[u].activation / examples.strongest(u) for u in regular]
    restarted = [r for r in renderings if any("optimised from the unit's strongest" in n for n in r.notes)]
    return {
        "fv_regular": len(regular),
        "fv_regular_wins": sum(ratio >= 1 for ratio in ratios),
        "fv_regular_min_activation/strongest": min(ratios),
        "fv_nearly_dead": len(nearly_dead),
        "fv_nearly_dead_units": sorted(nearly_dead),
        "fv_restarted": len(restarted),
        "fv_restarted_fire": all(r.activation > 0 for r in restarted),
        "fv_silent_without_note": sum(
            r.activation <= 0 and "dead or nearly dead" not in " ".join(r.notes) for r in renderings
        ),
    }


def run_child(name: str, root: Path) -> None:
    spec = VARIANTS[name]
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(spec["threads"])
    figures: dict = {"variant": name, **build(name, spec, root)}
    if spec["figures"]:
        for area in (privacy_figures, fairness_figures, explain_figures, featurevis_figures):
            started = time.perf_counter()
            figures |= area()
            figures[f"{area.__name__}_s"] = round(time.perf_counter() - started, 1)
    print("RESULT " + json.dumps(figures, default=float), flush=True)


def table(results: list[dict]) -> str:
    keys = [k for k in results[0] if k != "variant"]
    for result in results[1:]:
        keys += [k for k in result if k not in keys and k != "variant"]
    names = [r["variant"] for r in results]
    lines = ["| figure | " + " | ".join(names) + " | min | max |", "|---" * (len(names) + 3) + "|"]
    for key in keys:
        values = [r.get(key) for r in results]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        cells = [_cell(v) for v in values]
        low, high = (_cell(min(numbers)), _cell(max(numbers))) if numbers else ("", "")
        lines.append(f"| {key} | " + " | ".join(cells) + f" | {low} | {high} |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--root", type=Path, default=Path("/tmp/loupe-demo-spread"))
    parser.add_argument("--existing", type=Path, help="a finished build folder, for the 'existing' variant")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.existing:
        os.environ["DEMO_SPREAD_EXISTING"] = str(args.existing)
    if args.child:
        run_child(args.child, args.root)
        return
    results = []
    for name in args.variants.split(","):
        spec = VARIANTS[name]
        saved = args.root / name / "result.json"
        if saved.exists():  # measured before: reuse (delete the file to measure again)
            results.append(json.loads(saved.read_text()))
            continue
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
            "TF_ENABLE_ONEDNN_OPTS": spec["onednn"],
            "TF_NUM_INTRAOP_THREADS": str(spec["threads"]),
            "TF_NUM_INTEROP_THREADS": str(spec["threads"]),
        }
        command = [sys.executable, __file__, "--child", name, "--root", str(args.root)]
        completed = subprocess.run(command, check=False, env=env, cwd=ROOT, capture_output=True, text=True)
        lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
        if completed.returncode != 0 or not lines:
            print(f"{name} failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}", file=sys.stderr)
            continue
        results.append(json.loads(lines[-1].removeprefix("RESULT ")))
        saved.write_text(lines[-1].removeprefix("RESULT "))
        print(lines[-1], flush=True)
    if results:
        print(table(results))


if __name__ == "__main__":
    main()
