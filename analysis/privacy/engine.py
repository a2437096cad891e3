"""``run_membership_audit(spec) -> MembershipAuditResult``: the one verb of privacy audits.

Steps: load and validate both sides; build tensorflow-privacy's ``AttackInputData`` and let
the library compute losses (and entropies) once on the full data; cut the slices with the
library; run every (slice, attack) task through ``run_attacks`` in parallel
(:mod:`analysis.privacy.tasks`); read TPR at fixed FPRs off each ROC curve
(:mod:`analysis.privacy.roc`) under the small-slice rule (:mod:`analysis.privacy.reliability`);
add model quality, risk scores and the most exposed members. Nothing is stored here:
:func:`analysis.privacy.audit_records.save_audit` stores a finished result.
"""

from __future__ import annotations

import numpy as np

from analysis.privacy.attacks import AttackKind
from analysis.privacy.exposure import compute_loss_histogram, compute_risk_scores, most_exposed
from analysis.privacy.inputs import AuditInputs, load_output_files
from analysis.privacy.intervals import auc_interval, clopper_pearson
from analysis.privacy.library import LIBRARY_DISTRIBUTIONS, AttackInputData, model_quality
from analysis.privacy.progress import ignore_progress, scaled_progress
from analysis.privacy.reliability import (
    REPORTED_FPRS,
    is_small_slice,
    small_slice_note,
    too_few_nonmembers_note,
    tpr_is_reportable,
)
from analysis.privacy.result import AttackRow, MembershipAuditResult
from analysis.privacy.slicing import SkippedSlice, SliceKey, plan_slices
from analysis.privacy.spec import MembershipAuditSpec, ModelSource, OutputFilesSource
from analysis.privacy.tasks import AttackOutcome, AttackTask, attack_task, run_attack_tasks, use_worker_processes
from analysis.progress import Progress
from analysis.records import library_versions

DECLINED = "tensorflow-privacy declined this attack on this slice (too few examples for its cross-validation)"


def run_membership_audit(spec: MembershipAuditSpec, *, progress: Progress = ignore_progress) -> MembershipAuditResult:
    """Run every requested attack on every requested slice; see the module docstring."""
    loading = 0.4 if isinstance(spec.source, ModelSource) else 0.05
    inputs = load_audit_inputs(spec, progress=scaled_progress(progress, 0.0, loading))
    classic = tuple(a for a in spec.attacks if not a.needs_references)
    reference_attacks = tuple(a for a in spec.attacks if a.needs_references)
    processes = use_worker_processes(classic, workers=spec.workers, n_examples=inputs.members.n + inputs.nonmembers.n)
    attack_input = build_attack_input(inputs, with_entropy=AttackKind.ENTROPY in spec.attacks)
    pairs: list[tuple[SliceKey, AttackKind]] = []
    tasks: list[AttackTask] = []
    skipped: list[SkippedSlice] = []
    # Slices come one at a time and each task keeps only what its attack reads (threshold: the
    # loss), so a threshold-only audit never holds every slice's outputs at once.
    for planned in plan_slices(attack_input, inputs, spec.slicing):
        if isinstance(planned, SkippedSlice):
            skipped.append(planned)
            continue
        pairs += [(planned.key, attack) for attack in classic]
        tasks += [attack_task(attack, planned.data) for attack in classic]
    progress(loading, f"running {len(tasks)} attacks on {len(tasks) // max(len(classic), 1)} slices")
    outcomes = run_attack_tasks(
        tasks,
        seed=spec.seed,
        workers=spec.workers,
        processes=processes,
        progress=scaled_progress(progress, loading, 0.95 if not reference_attacks else 0.5),
    )
    del tasks
    rows = []
    for (key, attack), outcome in zip(pairs, outcomes, strict=True):
        if outcome is None:
            skipped.append(SkippedSlice(key=key, attack=attack.value, reason=DECLINED))
        else:
            rows.append(build_row(key, attack, outcome))
    reference = None
    if reference_attacks:
        from analysis.privacy.reference_run import run_reference_attacks

        reference = run_reference_attacks(
            reference_attacks,
            spec.reference,
            inputs,
            source=spec.source,
            seed=spec.seed,
            workers=spec.workers,
            progress=scaled_progress(progress, 0.5, 0.95),
        )
        rows += reference.rows
    progress(0.97, "risk scores and most exposed examples")
    loss_members, loss_nonmembers = attack_input.loss_train, attack_input.loss_test
    member_risk, nonmember_risk = compute_risk_scores(loss_members, loss_nonmembers)
    train_accuracy, test_accuracy, train_loss, test_loss = model_quality(attack_input)
    result = MembershipAuditResult(
        model_id=inputs.model_id,
        revision=inputs.revision,
        seed=spec.seed,
        attacks=spec.attacks,
        slices=tuple(spec.slicing.names()),
        n_members=inputs.members.n,
        n_nonmembers=inputs.nonmembers.n,
        train_accuracy=train_accuracy,
        test_accuracy=test_accuracy,
        train_loss=train_loss,
        test_loss=test_loss,
        rows=tuple(rows),
        skipped=tuple(skipped),
        loss_histogram=compute_loss_histogram(loss_members, loss_nonmembers),
        exposed=most_exposed(inputs.members, loss_members, member_risk, spec.n_exposed),
        class_names=inputs.class_names,
        member_risk=member_risk,
        nonmember_risk=nonmember_risk,
        reference=None if reference is None else reference.summary,
        reference_exposed=()
        if reference is None
        else most_exposed(
            inputs.members,
            loss_members,
            reference.summary.scores[reference.summary.exposed_by][: inputs.members.n],
            spec.n_exposed,
        ),
        provenance={
            "inputs": dict(inputs.hashes),
            "parameters": spec.parameters(),
            "versions": library_versions(
                *LIBRARY_DISTRIBUTIONS, *(("tensorflow-cpu", "keras") if inputs.model_id else ())
            ),
        },
    )
    progress(1.0, "audit finished")
    return result


def load_audit_inputs(spec: MembershipAuditSpec, *, progress: Progress) -> AuditInputs:
    """Both sides of the audit from the spec's source, validated."""
    source = spec.source
    if isinstance(source, ModelSource):
        from analysis.privacy.model_outputs import load_model_inputs

        return load_model_inputs(source, progress=progress, slice_columns=spec.slicing.columns)
    if isinstance(source, OutputFilesSource):
        return load_output_files(source.members, source.nonmembers)
    return AuditInputs.from_arrays(source.members, source.nonmembers)  # OutputArraysSource (the spec checked)


def build_attack_input(inputs: AuditInputs, *, with_entropy: bool) -> AttackInputData:
    """The library's input for both sides, with its losses (and entropies) computed once, here.

    Slices then index these arrays instead of recomputing them per slice and per attack,
    which is where much of a direct ``run_attacks`` call's time goes on large data.
    """
    kind = inputs.members.kind.value
    data = AttackInputData(
        **{f"{kind}_train": inputs.members.outputs, f"{kind}_test": inputs.nonmembers.outputs},
        labels_train=inputs.members.labels,
        labels_test=inputs.nonmembers.labels,
    )
    with np.errstate(all="ignore"):
        data.loss_train = data.get_loss_train()  # train first: get_loss_test alone trips on a library bug
        data.loss_test = data.get_loss_test()
        if with_entropy:
            # get_entropy_* read logits only (a probs-only input crashes); the library's entropy
            # function itself takes either, recognising probabilities by their row sums.
            entropy = AttackInputData._get_entropy
            data.entropy_train = entropy(inputs.members.outputs, inputs.members.labels)
            data.entropy_test = entropy(inputs.nonmembers.outputs, inputs.nonmembers.labels)
    return data


def build_row(key: SliceKey, attack: AttackKind, outcome: AttackOutcome) -> AttackRow:
    """A result row: the library's numbers, TPR at fixed FPRs, and the reliability notes."""
    notes = []
    small = is_small_slice(outcome.n_members, outcome.n_nonmembers)
    if small:
        notes.append(small_slice_note(outcome.n_members, outcome.n_nonmembers))
    tpr_at_fpr: dict[float, float | None] = {}
    tpr_ci: dict[float, tuple[float, float] | None] = {}
    for fpr, tpr in zip(REPORTED_FPRS, outcome.tpr_at_reported_fprs, strict=True):
        if tpr_is_reportable(outcome.n_nonmembers, fpr):
            tpr_at_fpr[fpr] = float(tpr)
            tpr_ci[fpr] = clopper_pearson(round(float(tpr) * outcome.n_members), outcome.n_members)
        else:
            tpr_at_fpr[fpr], tpr_ci[fpr] = None, None
            notes.append(too_few_nonmembers_note(outcome.n_nonmembers, fpr))
    return AttackRow(
        slice=key,
        attack=attack,
        n_members=outcome.n_members,
        n_nonmembers=outcome.n_nonmembers,
        auc=outcome.auc,
        attacker_advantage=outcome.attacker_advantage,
        ppv=outcome.ppv,
        tpr_at_fpr=tpr_at_fpr,
        epsilon_lower_bound=outcome.epsilon[0] if outcome.epsilon else None,
        notes=tuple(notes),
        small=small,
        roc_fpr=outcome.roc_fpr,
        roc_tpr=outcome.roc_tpr,
        tpr_ci=tpr_ci,
        auc_ci=auc_interval(outcome.auc, outcome.n_members, outcome.n_nonmembers),
    )
