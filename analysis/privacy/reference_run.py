"""The reference attacks of one audit: obtain the references, score, and build the result rows.

Called by :func:`analysis.privacy.engine.run_membership_audit` for the attacks whose
``AttackKind.needs_references``; the classic attacks run beside them as before. Every attack
ends as an :class:`~analysis.privacy.result.AttackRow` on the entire data set, with TPR at the
reported FPRs, their Clopper-Pearson intervals and the ROC curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.errors import AnalysisInputError
from analysis.privacy.attacks import AttackKind
from analysis.privacy.inputs import AuditInputs, ModelOutputs, OutputKind
from analysis.privacy.intervals import auc_interval, clopper_pearson
from analysis.privacy.reference_attacks import ReferenceOutputs, ReferenceScoring, compute_scores, tune_rmia_a
from analysis.privacy.reference_result import ReferenceSummary
from analysis.privacy.reference_spec import ReferenceOptions
from analysis.privacy.reliability import (
    REPORTED_FPRS,
    is_small_slice,
    small_slice_note,
    too_few_nonmembers_note,
    tpr_is_reportable,
)
from analysis.privacy.result import AttackRow
from analysis.privacy.roc import compact_roc, tpr_at_fprs
from analysis.privacy.slicing import SliceKey, SliceKind
from analysis.privacy.spec import ModelSource
from analysis.progress import Progress

PRECOMPUTED_NEEDS_OUTPUTS = (
    "reference attacks ({attacks}) on precomputed outputs need the references' outputs too: pass "
    "--reference-outputs DIR (one .npz per reference, see docs/privacy.md), or audit a registered model with --model"
)
TOO_FEW_USABLE = "only {used} of {k} reference models are usable ({why}); reference attacks need at least 2"
DIVERGED = "training diverged (non-finite loss or outputs); left out of every score"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceRun:
    rows: tuple[AttackRow, ...]
    summary: ReferenceSummary


def run_reference_attacks(
    attacks: tuple[AttackKind, ...],
    options: ReferenceOptions,
    inputs: AuditInputs,
    *,
    source: object,
    seed: int,
    workers: int,
    progress: Progress,
) -> ReferenceRun:
    """Rows for ``attacks`` (all reference attacks) and the summary of the references used."""
    members, nonmembers = inputs.members, inputs.nonmembers
    n_m, n_nm = members.n, nonmembers.n
    labels = np.concatenate([members.labels, nonmembers.labels]).astype(np.int64)
    target: list[tuple[np.ndarray, bool]] = [
        (np.concatenate([members.outputs, nonmembers.outputs]), members.kind is OutputKind.LOGITS)
    ]
    population = np.concatenate([np.zeros(n_m, dtype=bool), np.ones(n_nm, dtype=bool)])
    left_out: list[tuple[str, str]] = []
    summary_fields: dict[str, object] = {}
    if options.reference_outputs is not None:
        loaded, masks, names = _load_outputs(options.reference_outputs, n_m + n_nm, labels)
        references = []
        for name, outputs in zip(names, loaded, strict=True):
            if outputs is None:
                left_out.append((name, DIVERGED))
            else:
                references.append((outputs.outputs, outputs.kind is OutputKind.LOGITS))
        masks = masks[[i for i, o in enumerate(loaded) if o is not None]]
        summary_fields.update(source="outputs", n_references=len(names))
    else:
        if not isinstance(source, ModelSource):
            raise AnalysisInputError(PRECOMPUTED_NEEDS_OUTPUTS.format(attacks=", ".join(a.value for a in attacks)))
        references, masks, labels, target, population, trained = _trained(
            options,
            inputs,
            source,
            seed=seed,
            workers=workers,
            target=target,
            labels=labels,
            population=population,
            progress=progress,
        )
        for index, reason in trained["left_out"]:
            left_out.append((f"reference {index}", reason))
        summary_fields.update(
            source="trained",
            n_references=options.n_references,
            recipe=trained["recipe"],
            recipe_source=trained["recipe_source"],
            recipe_base=trained["recipe_base"],
            recipe_flags=trained["recipe_flags"],
            engine=options.engine.value,
            trained=trained["trained"],
            from_cache=trained["cached"],
            n_population=len(labels) - n_m - n_nm,
        )
    if len(references) < 2:
        raise AnalysisInputError(
            TOO_FEW_USABLE.format(used=len(references), k=summary_fields["n_references"], why="the rest diverged")
        )
    progress(0.96, f"scoring {len(attacks)} reference attack(s) with {len(references)} references")
    outputs = ReferenceOutputs.from_outputs(target[0], references, labels, masks, population)
    fix_variance = options.shared_variance(outputs.n_references)
    rmia_a = options.rmia_a if options.rmia_a is not None else tune_rmia_a(outputs.reference_probs, outputs.in_mask)
    rows, scores = [], {}
    for attack in attacks:
        all_scores = compute_scores(
            ReferenceScoring(attack.value),
            outputs,
            fix_variance=fix_variance,
            rmia_a=rmia_a,
            rmia_gamma=options.rmia_gamma,
        )
        audited = np.asarray(all_scores[: n_m + n_nm], dtype=np.float64)
        scores[attack.value] = audited
        rows.append(build_reference_row(attack, audited[:n_m], audited[n_m:]))
    strongest = max(rows, key=lambda r: (r.tpr_at_fpr.get(0.01) or 0.0, r.auc))
    summary = ReferenceSummary(
        n_used=outputs.n_references,
        left_out=tuple(left_out),
        fix_variance=fix_variance,
        rmia_a=float(rmia_a),
        rmia_gamma=options.rmia_gamma,
        exposed_by=strongest.attack.value,
        scores=scores,
        **summary_fields,  # type: ignore[arg-type]
    )
    return ReferenceRun(rows=tuple(rows), summary=summary)


def _load_outputs(folder: Path, n: int, labels: np.ndarray) -> tuple[list[ModelOutputs | None], np.ndarray, list[str]]:
    from analysis.privacy.reference_models import load_reference_outputs

    return load_reference_outputs(folder, n=n, labels=labels)


def _trained(
    options: ReferenceOptions,
    inputs: AuditInputs,
    source: ModelSource,
    *,
    seed: int,
    workers: int,
    target: list[tuple[np.ndarray, bool]],
    labels: np.ndarray,
    population: np.ndarray,
    progress: Progress,
):
    """Train (or read from the cache) the references on the pool; outputs restricted to usable ones."""
    from analysis.datasets import load_npz
    from analysis.models.loading import load_revision
    from analysis.models.registry import ModelRegistry
    from analysis.privacy.model_outputs import _sides, compute_outputs
    from analysis.privacy.reference_models import check_clonable, train_references

    registry = ModelRegistry()
    record = registry.get(source.model_id)
    revision = registry.resolve(source.model_id, source.revision)
    progress(0.0, f"checking that {source.model_id} can be cloned")
    model = load_revision(
        revision, keras_needed_for="reference attacks (--reference-outputs takes outputs from any framework)"
    )
    architecture = check_clonable(model, source.model_id)
    input_shape = tuple(model.input_shape[1:])
    del model
    xs, ys = [], []
    for side in _sides(source, record):
        arrays = load_npz(side.path)
        rows = np.ones(len(arrays["y"]), dtype=bool) if side.split is None else arrays["split"] == side.split
        xs.append(arrays["x"][rows])
        ys.append(arrays["y"][rows])
    target_outputs, target_is_logits = target[0]
    if options.population is not None:
        extra = load_npz(Path(options.population))
        if "x" not in extra or "y" not in extra:
            raise AnalysisInputError(f"--population {str(options.population)!r} must hold x and y")
        if tuple(extra["x"].shape[1:]) != tuple(d for d in input_shape):
            raise AnalysisInputError(
                f"--population x has examples of shape {list(extra['x'].shape[1:])}; model {source.model_id!r} "
                f"takes {list(input_shape)}"
            )
        pop_outputs, pop_kind = compute_outputs(
            revision, extra["x"], batch_size=source.batch_size, progress=lambda *_: None
        )
        pop = ModelOutputs(name="population", outputs=pop_outputs, kind=pop_kind, labels=extra["y"].astype(np.int64))
        target_pop = pop.outputs if (pop_kind is OutputKind.LOGITS) == target_is_logits else None
        if target_pop is None:
            raise AnalysisInputError(
                "the model's outputs on --population are not of the same kind as on the audit data"
            )
        xs.append(extra["x"])
        ys.append(extra["y"])
        target = [(np.concatenate([target_outputs, target_pop]), target_is_logits)]
        labels = np.concatenate([labels, extra["y"].astype(np.int64)])
        population = np.concatenate([population, np.ones(len(extra["y"]), dtype=bool)])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    recipe, choice = options.resolve_recipe(
        registry.training_recipe(source.model_id, revision.revision),
        where=f"the training recipe registered with {source.model_id} revision {revision.short}",
    )
    width = revision.summary.output_shape[0] if revision.summary.output_shape else 1
    trained = train_references(
        model_id=source.model_id,
        model_path=str(revision.path),
        trusted=revision.trusted,
        architecture=architecture,
        output_kind=OutputKind.LOGITS if revision.summary.output_kind.value == "logits" else OutputKind.PROBS,
        width=width,
        x=x,
        y=y,
        k=options.n_references,
        recipe=recipe,
        seed=seed,
        workers=workers,
        engine=options.engine,
        progress=lambda f, m: progress(0.95 * f, m),
    )
    from analysis.privacy.reference_models import reference_masks

    masks = reference_masks(len(x), options.n_references, seed)
    usable = [r for r in trained if not r.diverged]
    references = [
        (
            ModelOutputs(name=f"reference {r.index}", outputs=r.outputs, kind=r.kind, labels=labels).outputs,
            r.kind is OutputKind.LOGITS,
        )
        for r in usable
    ]
    info = {
        "left_out": [(r.index, DIVERGED) for r in trained if r.diverged],
        "recipe": recipe.to_dict(),
        "recipe_source": choice.source,
        "recipe_base": choice.base,
        "recipe_flags": choice.flags,
        "trained": sum(not r.cached for r in trained),
        "cached": sum(r.cached for r in trained),
    }
    return references, masks[[r.index for r in usable]], labels, target, population, info


def build_reference_row(attack: AttackKind, member_scores: np.ndarray, nonmember_scores: np.ndarray) -> AttackRow:
    """An entire-data-set row from membership scores (higher = member), read like the classic rows."""
    from sklearn.metrics import roc_curve

    from analysis.privacy.library import RocCurve

    n_m, n_nm = len(member_scores), len(nonmember_scores)
    truth = np.concatenate([np.ones(n_m), np.zeros(n_nm)])
    fpr, tpr, thresholds = roc_curve(truth, np.concatenate([member_scores, nonmember_scores]))
    curve = RocCurve(tpr=tpr, fpr=fpr, thresholds=thresholds, test_train_ratio=np.float64(n_nm / n_m))
    notes = []
    small = is_small_slice(n_m, n_nm)
    if small:
        notes.append(small_slice_note(n_m, n_nm))
    tpr_at_fpr: dict[float, float | None] = {}
    tpr_ci: dict[float, tuple[float, float] | None] = {}
    for target_fpr, value in zip(REPORTED_FPRS, tpr_at_fprs(fpr, tpr, REPORTED_FPRS), strict=True):
        if tpr_is_reportable(n_nm, target_fpr):
            tpr_at_fpr[target_fpr] = float(value)
            tpr_ci[target_fpr] = clopper_pearson(round(float(value) * n_m), n_m)
        else:
            tpr_at_fpr[target_fpr], tpr_ci[target_fpr] = None, None
            notes.append(too_few_nonmembers_note(n_nm, target_fpr))
    roc_fpr, roc_tpr = compact_roc(fpr, tpr, n_nm)
    auc = float(curve.get_auc())
    return AttackRow(
        slice=SliceKey(kind=SliceKind.ENTIRE),
        attack=attack,
        n_members=n_m,
        n_nonmembers=n_nm,
        auc=auc,
        attacker_advantage=float(curve.get_attacker_advantage()),
        ppv=float(curve.get_ppv()),
        tpr_at_fpr=tpr_at_fpr,
        epsilon_lower_bound=None,
        notes=tuple(notes),
        small=small,
        roc_fpr=roc_fpr,
        roc_tpr=roc_tpr,
        tpr_ci=tpr_ci,
        auc_ci=auc_interval(auc, n_m, n_nm),
    )
