"""``python -m analysis explain``: SHAP attributions of a model's predictions (or of a unit) on data-set rows.

    python -m analysis explain --model credit-mlp --examples 0-99 --json shap.json
    python -m analysis explain --model shapes-cnn --examples 0-9 --target conv4:12 --background 100 --seed 0

Without ``--data`` the model's linked data set is used; ``--examples`` index its ``x``.
Progress goes to stderr; a second run with the same settings reads the result store.
"""

from __future__ import annotations

import argparse
import time

from analysis.cli.models import converted_data_arg
from analysis.cli.output import add_json_option, emit, parse_int_ranges, progress
from analysis.explain import EXPLAINERS, AttributionResult, ExplanationSpec, compute_attributions
from analysis.explain.spec import DEFAULT_BACKGROUND, DEFAULT_MAX_EVALS, DEFAULT_SAMPLES, MAX_EXAMPLES, ROW_LIMIT

TOP_FEATURES = 3


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="SHAP attributions: why a prediction, why a unit fired",
        description="Tabular models: exact Shapley values (up to 10 features) or permutations over predict; "
        "image models: expected gradients.",
    )
    parser.add_argument("--model", required=True, dest="model_id", help="a registered model id")
    parser.add_argument("--rev", help="a revision hash prefix (default: the current revision)")
    parser.add_argument("--data", metavar="NPZ", help="an .npz with 'x' (default: the model's linked data set)")
    parser.add_argument("--examples", default="0-9", help="row indices of x, e.g. 0-99 or 3,7 (default 0-9)")
    parser.add_argument(
        "--target",
        default="predicted",
        help="CLASS (an output index), LAYER:UNIT (e.g. conv4:12) or 'predicted' (default; a single "
        "sigmoid output is explained as P(class 1))",
    )
    parser.add_argument(
        "--background",
        type=int,
        default=None,
        help=f"background rows drawn from the data (default {DEFAULT_BACKGROUND}, or all rows if fewer)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the background and the explainer (default 0)")
    parser.add_argument(
        "--explainer",
        choices=[method.kind.value for method in EXPLAINERS],
        help="default: gradient for image models; for tabular ones exact up to 10 features, else permutation",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help=f"expected-gradients samples per example (default {DEFAULT_SAMPLES})",
    )
    parser.add_argument(
        "--max-evals",
        type=int,
        default=DEFAULT_MAX_EVALS,
        help=f"permutation explainer: model evaluations per example (default {DEFAULT_MAX_EVALS})",
    )
    add_json_option(parser)
    parser.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    spec = ExplanationSpec(
        model_id=args.model_id,
        revision=args.rev,
        data_path=converted_data_arg(args.model_id, args.data),
        examples=tuple(parse_int_ranges(args.examples, upper=ROW_LIMIT, what="example", limit=MAX_EXAMPLES)),
        target=args.target,
        background=args.background,
        seed=args.seed,
        explainer=args.explainer,
        samples=args.samples,
        max_evals=args.max_evals,
    )
    last = [-1]

    def report(fraction: float, message: str) -> None:
        decile = int(fraction * 10)
        if decile > last[0]:
            last[0] = decile
            progress(f"explain: {fraction:.0%} {message}")

    started = time.perf_counter()
    result = compute_attributions(spec, progress=report)
    elapsed = time.perf_counter() - started
    emit(result.to_dict(), args.json, human_summary(result, elapsed))
    return 0


def human_summary(result: AttributionResult, seconds: float) -> str:
    """One line per example (output, expected value, additivity error, strongest features) and a footer."""
    lines = [
        f"{result.model_id} rev {result.revision[:12]}: {result.explainer.value} explainer, target "
        f"{result.target.label()}, background {result.background} rows, seed {result.seed}"
    ]
    errors = result.additivity_errors
    for i, index in enumerate(result.examples.tolist()):
        head = f"  #{index}" + (f" class {result.classes[i]}" if result.classes[i] >= 0 else "")
        head += (
            f": output {result.outputs[i]:.4g} (expected {result.expected_values[i]:.4g}), "
            f"additivity error {errors[i]:.2g}"
        )
        if result.is_image:
            lines.append(f"{head}; attributions {list(result.input_shape)} sum {result.values[i].sum():.4g}")
            continue
        order = sorted(range(len(result.feature_names)), key=lambda j: -abs(float(result.values[i][j])))
        top = ", ".join(f"{result.feature_names[j]} {result.values[i][j]:+.3g}" for j in order[:TOP_FEATURES])
        lines.append(f"{head}; {top}")
    source = "read from the result store" if result.cached else f"computed in {seconds:.1f} s"
    lines.append(f"{len(result.examples)} examples {source}; max |additivity error| {abs(errors).max():.2g}")
    return "\n".join(lines)
