"""``python -m analysis privacy``: a membership-inference audit that can gate a pipeline.

Exit codes (see analysis.cli.main): 0 audit done and under every threshold; 2 bad input
(nothing stored); 3 a ``--fail-above-*`` threshold was exceeded (the audit is stored and
its JSON/HTML written first, so the failing evidence is kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analysis.cli.main import EXIT_GATE_FAILED
from analysis.cli.models import converted_data_arg
from analysis.cli.output import add_json_option, emit, output_file, progress, write_text_atomically
from analysis.errors import AnalysisInputError
from analysis.privacy.attacks import DEFAULT_ATTACKS, AttackKind
from analysis.privacy.spec import MembershipAuditSpec, ModelSource, OutputFilesSource, SlicingOptions, default_workers

if TYPE_CHECKING:
    from analysis.privacy.result import MembershipAuditResult

SOURCE_HINT = (
    "give --model ID (optionally with --members M.npz --nonmembers N.npz), or --members-outputs A.npz "
    "--nonmembers-outputs B.npz"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    privacy = subparsers.add_parser(
        "privacy",
        help="membership-inference audit with tensorflow-privacy (stored as a record)",
        description="Audit whether a model leaks who was in its training data. " + SOURCE_HINT + ".",
    )
    privacy.add_argument("--model", dest="model_id", help="a registered model id")
    privacy.add_argument("--rev", help="a revision hash prefix of --model (default: current)")
    privacy.add_argument("--members", help=".npz with x, y of training members (default: the linked set)")
    privacy.add_argument("--nonmembers", help=".npz with x, y of non-members (default: the linked set)")
    privacy.add_argument("--members-outputs", help="precomputed outputs of members: .npz with logits or probs, labels")
    privacy.add_argument("--nonmembers-outputs", help="precomputed outputs of non-members, same format")
    privacy.add_argument(
        "--attacks",
        default=",".join(a.value for a in DEFAULT_ATTACKS),
        help=f"comma-separated, from {', '.join(a.value for a in AttackKind)} (default: %(default)s)",
    )
    privacy.add_argument(
        "--slices",
        default="class,percentile,correctness",
        help="comma-separated: class, percentile, correctness, column:NAME; 'none' for the entire "
        "data set only (always included) (default: %(default)s)",
    )
    privacy.add_argument("--seed", type=int, default=0, help="seed of the trained attacks (default: 0)")
    privacy.add_argument(
        "--workers", type=int, default=default_workers(), help="parallel workers (default: %(default)s)"
    )
    privacy.add_argument("--exposed", type=int, default=12, help="how many most-exposed members to keep (default: 12)")
    add_reference_arguments(privacy)
    add_json_option(privacy)
    privacy.add_argument("--html", metavar="PATH", type=output_file, help="write a self-contained HTML report to PATH")
    privacy.add_argument(
        "--scores", metavar="PATH", type=output_file, help="write per-example membership risk scores to PATH (.npz)"
    )
    privacy.add_argument("--fail-above-auc", type=float, metavar="X", help="exit 3 if the max AUC exceeds X")
    privacy.add_argument(
        "--fail-above-tpr-at-1pct", type=float, metavar="X", help="exit 3 if the max TPR at 1%% FPR exceeds X"
    )
    privacy.set_defaults(handler=run_privacy)


def build_spec(args: argparse.Namespace) -> MembershipAuditSpec:
    """The audit the arguments ask for; AnalysisInputError for contradictory or missing ones."""
    outputs = (args.members_outputs, args.nonmembers_outputs)
    if args.model_id and any(outputs):
        raise AnalysisInputError("give either --model or --members-outputs/--nonmembers-outputs, not both")
    if args.model_id:
        source = ModelSource(
            model_id=args.model_id,
            revision=args.rev,
            members=_path(converted_data_arg(args.model_id, args.members, meta=_slice_columns(args.slices))),
            nonmembers=_path(converted_data_arg(args.model_id, args.nonmembers, meta=_slice_columns(args.slices))),
        )
    elif all(outputs):
        if args.members or args.nonmembers or args.rev:
            raise AnalysisInputError(
                "--members, --nonmembers and --rev go with --model; "
                "precomputed outputs take --members-outputs and --nonmembers-outputs"
            )
        source = OutputFilesSource(members=Path(outputs[0]), nonmembers=Path(outputs[1]))
    else:
        raise AnalysisInputError(SOURCE_HINT)
    for name in ("fail_above_auc", "fail_above_tpr_at_1pct"):
        value = getattr(args, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise AnalysisInputError(f"--{name.replace('_', '-')} {value} must be between 0 and 1")
    return MembershipAuditSpec(
        source=source,
        attacks=tuple(AttackKind.parse(a) for a in args.attacks.split(",") if a.strip()),
        slicing=SlicingOptions.parse(args.slices),
        seed=args.seed,
        workers=args.workers,
        n_exposed=args.exposed,
        reference=build_reference_options(args),
    )


def add_reference_arguments(privacy: argparse.ArgumentParser) -> None:
    """Flags of the reference attacks (lira, lira-offline, offset, rmia, rmia-offline); see docs/privacy.md."""
    group = privacy.add_argument_group("reference-model attacks (LiRA, offset, RMIA)")
    group.add_argument(
        "--reference-models", type=int, default=16, metavar="K", help="references to train (even; default 16)"
    )
    group.add_argument("--reference-outputs", metavar="DIR", help="precomputed reference outputs instead of training")
    group.add_argument("--population", metavar="NPZ", help="extra x, y from the same distribution for the references")
    group.add_argument(
        "--recipe",
        metavar="FILE",
        help="training recipe as .json or .yaml (epochs, batch_size, ...); default: the recipe registered with the "
        "audited revision (models add --training-recipe), else Loupe's defaults; the flags below replace one field",
    )
    group.add_argument("--epochs", type=int, help="recipe: epochs (default: the base recipe's; Loupe's is 20)")
    group.add_argument("--batch-size", type=int, help="recipe: batch size (default: the base recipe's; Loupe's is 64)")
    group.add_argument("--optimizer", help="recipe: adam, sgd or rmsprop (default: the base recipe's; Loupe's is adam)")
    group.add_argument(
        "--learning-rate", type=float, help="recipe: learning rate (default: the base recipe's; Loupe's is 0.001)"
    )
    group.add_argument("--augmentation", help="recipe: off or flip (default: the base recipe's; Loupe's is off)")
    group.add_argument("--engine", default="local", help="local (worker processes) or ray (default: %(default)s)")
    group.add_argument(
        "--lira-variance", default="auto", help="auto, fixed or per-example (auto: fixed below 64 references)"
    )
    group.add_argument("--rmia-a", type=float, help="RMIA's offline parameter a in [0, 1] (default: tuned)")
    group.add_argument("--rmia-gamma", type=float, default=1.0, help="RMIA's pairwise threshold (default: 1)")


def build_reference_options(args: argparse.Namespace):
    """The ReferenceOptions of the flags, or None when no reference attack is asked for."""
    from analysis.errors import describe_choices
    from analysis.privacy.reference_spec import RECIPE_FIELDS, ReferenceEngine, ReferenceOptions, TrainingRecipe

    if not any(AttackKind.parse(a).needs_references for a in args.attacks.split(",") if a.strip()):
        return None
    # --recipe FILE replaces the base recipe (else the revision's registered one, else the defaults);
    # each flag replaces one field of whichever base applies, resolved when the audit runs
    overrides = {name: getattr(args, name) for name in RECIPE_FIELDS if getattr(args, name) is not None}
    recipe = TrainingRecipe.load(Path(args.recipe)) if args.recipe else None
    variance = {"auto": None, "fixed": True, "per-example": False}
    if args.lira_variance not in variance:
        raise AnalysisInputError(f"--lira-variance {args.lira_variance!r}; choices are {describe_choices(variance)}")
    if args.engine not in {e.value for e in ReferenceEngine}:
        engines = describe_choices(e.value for e in ReferenceEngine)
        raise AnalysisInputError(f"--engine {args.engine!r}; engines are {engines}")
    return ReferenceOptions(
        n_references=args.reference_models,
        recipe=recipe,
        recipe_origin="file",
        recipe_overrides=overrides,
        population=_path(args.population),
        reference_outputs=_path(args.reference_outputs),
        engine=ReferenceEngine(args.engine),
        fix_variance=variance[args.lira_variance],
        rmia_a=args.rmia_a,
        rmia_gamma=args.rmia_gamma,
    )


def run_privacy(args: argparse.Namespace) -> int:
    from analysis.privacy.audit_records import audit_json, save_audit
    from analysis.privacy.engine import run_membership_audit
    from analysis.privacy.report_html import render_html_report

    spec = build_spec(args)
    result = run_membership_audit(spec, progress=_throttled_progress())
    gate_failures = check_gates(result, args.fail_above_auc, args.fail_above_tpr_at_1pct)
    record = save_audit(result)  # only a finished audit is stored
    if args.html:
        write_text_atomically(args.html, render_html_report(record, result))
    if args.scores:
        try:
            np.savez(args.scores, members=result.member_risk, nonmembers=result.nonmember_risk)
        except OSError as error:
            raise AnalysisInputError(f"cannot write {args.scores!r}: {error.strerror or error}") from error
    emit(audit_json(record), args.json, _human(record.record_id, result))
    for failure in gate_failures:
        print(f"gate failed: {failure}", file=sys.stderr)
    return EXIT_GATE_FAILED if gate_failures else 0


def check_gates(result: MembershipAuditResult, max_auc: float | None, max_tpr: float | None) -> list[str]:
    """The thresholds ``result`` exceeds, as sentences; AnalysisInputError if one cannot be evaluated."""
    failures = []
    if max_auc is not None and (result.max_auc() or 0.0) > max_auc:
        failures.append(f"max AUC {result.max_auc():.4f} > {max_auc}")
    if max_tpr is not None:
        tpr = result.max_tpr_at(0.01)
        if tpr is None:
            raise AnalysisInputError(
                "--fail-above-tpr-at-1pct cannot be checked: no slice has the 100 non-members TPR at 1% FPR needs"
            )
        if tpr > max_tpr:
            failures.append(f"max TPR at 1% FPR {tpr:.4f} > {max_tpr}")
    return failures


def _human(record_id: str, result: MembershipAuditResult) -> str:
    _, sentence = result.verdict()
    frame = result.to_frame().head(10).drop(columns=["notes"])
    return "\n".join(
        [
            sentence,
            f"members {result.n_members}, non-members {result.n_nonmembers}; "
            f"accuracy train {_pct(result.train_accuracy)}"
            f" / test {_pct(result.test_accuracy)}; loss gap {result.loss_gap or 0.0:.4f}",
            frame.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="n/a"),
            f"record {record_id} (python -m analysis records show {record_id} --json PATH to export)",
        ]
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _slice_columns(slices: str) -> list[str]:
    """The ``column:NAME`` slices: a table's metadata columns to keep when it is converted."""
    return [part.split(":", 1)[1].strip() for part in slices.split(",") if part.strip().startswith("column:")]


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _throttled_progress():
    """Progress lines on stderr, at most one per 5% step or change of stage."""
    last = {"step": -1, "stage": ""}

    def report(fraction: float, message: str) -> None:
        step, stage = int(fraction * 20), message.split(":", maxsplit=1)[0]
        if step != last["step"] or stage != last["stage"]:
            last.update(step=step, stage=stage)
            progress(f"[{fraction:4.0%}] {message}")

    return report
