"""``python -m analysis fairness``: disaggregated metrics with bootstrap intervals, per slice.

    python -m analysis fairness --predictions preds.csv --label y --score p --sensitive sex,age_band \\
        --intersections sex*age_band --thresholds 0.3,0.5,0.7 --baseline sex=M --json report.json
    python -m analysis fairness --model credit-mlp --split test --sensitive sex,age_band,group \\
        --fail-on-gap tpr:0.1

Exit 3 when ``--fail-on-gap METRIC:X`` finds a gap larger than X: for a metric key, a slice
whose difference to the baseline is larger than X in absolute value (at any threshold); for a
disparity name (e.g. ``equalized_odds_difference``), a disparity larger than X.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from analysis.cli.models import converted_data_arg
from analysis.cli.output import add_json_option, emit, progress
from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness import DISPARITY_KEYS, METRIC_KEYS, FairnessResult, FairnessSpec
from analysis.fairness.metrics import RATE_METRICS

SHOWN_METRICS = ("selection_rate", "accuracy", "tpr", "fpr", "precision", "auc")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fairness",
        help="metrics per sensitive group and intersection, with bootstrap confidence intervals",
        description="A score counts as a positive prediction when score >= threshold.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a registered model id (scores computed on its linked DATA npz)")
    source.add_argument("--predictions", metavar="FILE", help="a CSV or Parquet file with labels, scores and groups")
    parser.add_argument("--data", metavar="NPZ", help="with --model: an npz instead of the linked DATA dataset")
    parser.add_argument("--split", choices=("train", "test", "all"), default="all", help="with --model: rows to use")
    parser.add_argument("--label", default="label", help="label column (0/1) of the predictions file")
    values = parser.add_mutually_exclusive_group()
    values.add_argument("--score", help="score column: probability of the positive class, in [0, 1]")
    values.add_argument("--pred", "--prediction", dest="prediction", help="predicted-label column (0/1)")
    parser.add_argument("--sensitive", required=True, help="sensitive columns, comma-separated (e.g. sex,age_band)")
    parser.add_argument(
        "--intersections",
        action="append",
        default=[],
        metavar="A*B",
        help="columns to intersect, joined by * or + (repeat, or separate with commas)",
    )
    parser.add_argument("--thresholds", default="0.5", help="comma-separated thresholds in [0, 1] (default 0.5)")
    parser.add_argument("--baseline", default="overall", help="overall (default) or COLUMN=VALUE")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (0: no intervals)")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval coverage (default 0.95)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-slice", type=int, default=30, help="slices with fewer rows are reported as too small")
    parser.add_argument("--missing", choices=("refuse", "group"), default="refuse", help="missing sensitive values")
    parser.add_argument("--fail-on-gap", metavar="METRIC:X", help="exit 3 if a gap in METRIC exceeds X")
    parser.add_argument(
        "--mitigate",
        metavar="STRATEGY",
        help="per-group thresholds from fairlearn's ThresholdOptimizer: single_threshold, demographic_parity, "
        "equal_opportunity or equalized_odds (JSON: docs/fairness.md); no record is stored",
    )
    parser.add_argument(
        "--mitigate-by", metavar="COLUMN", help="with --mitigate: the column whose groups get thresholds"
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_fairness)


def parse_thresholds(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise AnalysisInputError(
            f"thresholds {text!r} must be numbers separated by commas, e.g. 0.3,0.5,0.7"
        ) from error


def parse_intersections(items: list[str]) -> tuple[tuple[str, ...], ...]:
    combos = []
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            combos.append(tuple(c.strip() for c in part.replace("+", "*").split("*") if c.strip()))
    return tuple(combos)


def parse_gate(text: str | None) -> tuple[str, float] | None:
    if not text:
        return None
    name, _, limit = text.partition(":")
    if name not in RATE_METRICS and name not in DISPARITY_KEYS:
        raise AnalysisInputError(
            f"--fail-on-gap metric {name!r} is not valid; choose {describe_choices((*RATE_METRICS, *DISPARITY_KEYS))}"
        )
    try:
        return name, float(limit)
    except ValueError as error:
        raise AnalysisInputError(f"--fail-on-gap {text!r} must be METRIC:X with X a number, e.g. tpr:0.1") from error


def run_fairness(args: argparse.Namespace) -> int:
    gate = parse_gate(args.fail_on_gap)
    spec = FairnessSpec(
        predictions=args.predictions,
        model_id=args.model,
        data_path=converted_data_arg(args.model, args.data, meta=args.sensitive.split(",")),
        split=None if args.split == "all" else args.split,
        label=args.label,
        score=args.score if args.model is None else None,
        prediction=args.prediction if args.model is None else None,
        sensitive=args.sensitive,
        intersections=parse_intersections(args.intersections),
        thresholds=parse_thresholds(args.thresholds),
        baseline=args.baseline,
        n_bootstrap=args.bootstrap,
        confidence=args.confidence,
        seed=args.seed,
        min_slice=args.min_slice,
        missing=args.missing,
    )
    if spec.model_id is not None:
        from analysis.models.registry import ModelRegistry

        ModelRegistry().get(spec.model_id)  # an unknown model fails here, before any progress line
    if args.mitigate:
        return run_mitigation(args, spec)
    progress(f"fairness: {args.bootstrap} bootstrap resamples over {len(spec.groupings)} groupings ...")
    from analysis.fairness import compute_fairness_slices, save_fairness_record  # loads fairlearn: only when run

    result = compute_fairness_slices(spec)
    read = {"predictions": args.predictions} if args.predictions else {"data": args.data} if args.data else {}
    locations = {name: str(Path(path).expanduser().resolve()) for name, path in read.items()}
    result = replace(result, record_id=save_fairness_record(result, locations=locations))  # every run is stored
    failures = gate_failures(result, *gate) if gate else []
    human = describe(result) + "".join(f"\nGAP: {line}" for line in failures)
    emit(result.to_dict(), args.json, human)
    return 3 if failures else 0


def run_mitigation(args: argparse.Namespace, spec: FairnessSpec) -> int:
    """``--mitigate STRATEGY``: metrics per slice under one threshold (the first of --thresholds) and the strategy."""
    from analysis.fairness.mitigation import MitigationSpec, compute_mitigation  # loads fairlearn: only when run

    mitigation = MitigationSpec(
        fairness=spec, strategy=args.mitigate, by=args.mitigate_by, threshold=spec.thresholds[0], random_state=args.seed
    )
    progress(f"fairness: {mitigation.strategy.value} thresholds per {mitigation.by} ...")
    result = compute_mitigation(mitigation)
    cost = result.accuracy_cost
    human = "\n".join(
        [
            f"strategy {result.strategy.value} per {result.by} (random_state {result.random_state})",
            *(
                f"  {t.group}: p={t.p0:.3f} score {t.operator0} {t.threshold0:.4f}, "
                f"p={t.p1:.3f} score {t.operator1} {t.threshold1:.4f}"
                for t in result.thresholds
            ),
            f"overall accuracy {result.overall_accuracy('single'):.4f} at threshold {result.threshold} -> "
            f"{result.overall_accuracy('mitigated'):.4f} ({'n/a' if cost is None else f'{cost:+.4f}'})",
            describe(result.mitigated).rsplit("\nrecord ", 1)[0],
        ]
    )
    emit(result.to_dict(), args.json, human)
    return 0


def gate_failures(result: FairnessResult, name: str, limit: float) -> list[str]:
    """Human lines for every gap in ``name`` larger than ``limit``."""
    if name in DISPARITY_KEYS:
        return [
            f"{name} over {'*'.join(d.over)} at threshold {d.threshold} is {d.estimate.value:.4f} > {limit}"
            for d in result.disparities
            if d.name == name and d.estimate.value is not None and d.estimate.value > limit
        ]
    return [
        f"{name} of {s.label} at threshold {s.threshold} differs from {result.baseline} by "
        f"{s.vs_baseline[name].difference:+.4f} (|gap| > {limit})"
        for s in result.slices
        if s.vs_baseline[name].difference is not None and abs(s.vs_baseline[name].difference) > limit
    ]


def describe(result: FairnessResult) -> str:
    """A compact table per grouping at every threshold; '*' marks a gap whose interval excludes zero."""

    def cell(entry, metric: str) -> str:
        estimate = entry.metrics[metric]
        if estimate.value is None:
            return f"{'n/a':>21}"
        ci = f" [{estimate.ci[0]:.3f},{estimate.ci[1]:.3f}]" if estimate.ci else ""
        gap = entry.vs_baseline.get(metric)
        return f"{estimate.value:.3f}{ci}{'*' if gap is not None and gap.gap_excludes_zero else ' '}".rjust(21)

    lines = [f"{result.n_rows:,} rows; baseline {result.baseline}; * = gap to the baseline, interval excludes 0"]
    header = f"{'slice':<28}{'n':>8}" + "".join(f"{m:>21}" for m in SHOWN_METRICS)
    for threshold in result.thresholds:
        lines.append(f"\nthreshold {threshold if threshold is not None else '(predicted labels)'}")
        lines.append(header)
        lines.append(
            f"{'overall':<28}{result.overall_at(threshold).count:>8}"
            + "".join(cell(result.overall_at(threshold), m) for m in SHOWN_METRICS)
        )
        for entry in result.slices_at(threshold):
            lines.append(f"{entry.label[:27]:<28}{entry.count:>8}" + "".join(cell(entry, m) for m in SHOWN_METRICS))
    if result.too_small:
        lines.append(
            "\ntoo small: "
            + "; ".join(
                f"{','.join(f'{k}={v}' for k, v in group.items())} ({count})" for group, count in result.too_small
            )
        )
    undefined = {("*".join(d.over), d.estimate.reason) for d in result.disparities if d.estimate.value is None}
    lines += [f"\nno disparity over {over}: {reason}" for over, reason in sorted(undefined) if reason]
    lines.append(f"\nrecord {result.record_id}; all metrics ({', '.join(METRIC_KEYS)}) with --json PATH")
    return "\n".join(lines)
