"""What the /privacy page shows: the audit form, one audit's findings, and past audits."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRecord
from analysis.paths import loupe_home
from analysis.privacy.attacks import DEFAULT_ATTACKS, AttackKind
from analysis.privacy.audit_records import audit_json, list_audits
from analysis.privacy.result import MembershipAuditResult, RiskLevel
from analysis.privacy.spec import MembershipAuditSpec, ModelSource, SlicingOptions, default_workers
from analysis.records import AnalysisRecord
from analysis.server_files import allowed_roots, resolve_allowed_path
from ui.cached_privacy import report_html
from ui.reference_attack_views import show_reference_attacks
from ui.reference_form import reference_fields
from ui.shared import get_registry
from visualizers.privacy import audit_table, plot_loss_distributions, plot_roc_loglog, plot_slice_auc

# st.error is kept for user errors (bad links, bad input); a verdict is a finding.
_VERDICT = {
    RiskLevel.HIGH: lambda text: st.warning(text, icon=":material/gpp_bad:"),
    RiskLevel.MODERATE: lambda text: st.info(text, icon=":material/gpp_maybe:"),
    RiskLevel.LOW: lambda text: st.success(text, icon=":material/verified_user:"),
}


def audit_form(model: ModelRecord) -> MembershipAuditSpec | None:
    """The audit the user asks for, or None until they press Run.

    No ``st.form``: choosing a reference attack must show the reference fields at once, and their
    cost estimate follows K and the epochs as they are typed.
    """
    linked = model.dataset(DatasetRole.MEMBERS) or model.dataset(DatasetRole.DATA)
    roots = allowed_roots()
    st.caption(
        "Members and non-members: the sets linked to the model (or the train/test split of its data set)"
        + (", unless you give two .npz files (x, y) in the folders the operator allows." if roots else ".")
    )
    members = nonmembers = ""
    if roots:
        left, right = st.columns(2)
        members = left.text_input("Members .npz (optional)")
        nonmembers = right.text_input("Non-members .npz (optional)")
    attacks = st.multiselect(
        "Attacks (mlp, rf and knn are slow; the reference attacks train models, minutes)",
        [a.value for a in AttackKind],
        [a.value for a in DEFAULT_ATTACKS],
        format_func=lambda value: f"{value}: {AttackKind(value).description}",
    )
    references = reference_fields(model) if any(AttackKind(a).needs_references for a in attacks) else None
    slices = st.multiselect(
        "Slices (the entire data set is always included; reference attacks run on it only)",
        ["class", "percentile", "correctness"],
        ["class", "percentile", "correctness"],
    )
    columns = st.multiselect("Slice by metadata columns", list(linked.metadata_columns) if linked else [])
    seed = st.number_input("Seed", min_value=0, max_value=2**32 - 1, value=0, step=1)
    if not st.button("Run audit", type="primary"):
        return None
    files = (
        {"members": resolve_allowed_path(members, roots), "nonmembers": resolve_allowed_path(nonmembers, roots)}
        if members.strip() or nonmembers.strip()
        else {}
    )
    return MembershipAuditSpec(
        source=ModelSource(model_id=model.model_id, **files),
        attacks=tuple(attacks),
        slicing=SlicingOptions.parse(",".join([*slices, *(f"column:{c}" for c in columns)]) or "none"),
        seed=int(seed),
        workers=default_workers(),
        reference=None if references is None else references.options(model, files_given=bool(files)),
    )


def show_audit(record: AnalysisRecord, result: MembershipAuditResult) -> None:
    """One audit: verdict, numbers, charts, the per-slice table, exposed examples, downloads."""
    level, sentence = result.verdict()
    _VERDICT[level](sentence)
    summary = result.summary()
    cells = [*st.columns(3), *st.columns(3)]  # six in a row cut their labels short
    for cell, (label, value) in zip(
        cells,
        [
            ("Members / non-members", f"{result.n_members:,} / {result.n_nonmembers:,}"),
            ("Train accuracy", _pct(result.train_accuracy)),
            ("Test accuracy", _pct(result.test_accuracy)),
            ("Loss gap", "n/a" if result.loss_gap is None else f"{result.loss_gap:.3f}"),
            ("Max AUC", f"{summary['max_auc']:.3f}" if summary["max_auc"] is not None else "n/a"),
            ("Max TPR @ 1% FPR", _pct(summary["max_tpr_at_1pct_fpr"])),
        ],
        strict=True,
    ):
        cell.metric(label, value)
    st.plotly_chart(plot_roc_loglog(result), key="roc")
    show_reference_attacks(result)
    st.plotly_chart(plot_loss_distributions(result), key="losses")
    st.subheader("Slices, worst first")
    st.caption("The strongest attack on each slice, in the chart's order; every attack's row is under the chart.")
    st.plotly_chart(plot_slice_auc(result), key="slices")
    st.table(audit_table(result), hide_index=True)
    with st.expander("Every attack on every slice"):
        st.table(audit_table(result, sorted(result.rows, key=lambda row: -row.auc)), hide_index=True)
    if result.skipped:
        st.caption(
            "Skipped: "
            + "; ".join(
                f"{s.key.label(result.class_names)}{' (' + s.attack + ')' if s.attack else ''}: {s.reason}"
                for s in result.skipped
            )
        )
    _exposed(result, _model_notes(result.model_id))
    st.caption(
        f"Record `{record.record_id}` · {record.created_at} · seed {result.seed} · stable link: "
        f"`/privacy?audit={record.record_id}` · TPR at a fixed FPR needs at least 1/FPR non-members in its slice."
    )
    left, right = st.columns(2)
    left.download_button(
        "Download JSON",
        json.dumps(audit_json(record), indent=2),
        file_name=f"{record.record_id}.json",
        mime="application/json",
    )
    right.download_button(
        "Download HTML report",
        report_html(str(loupe_home()), record.record_id),
        file_name=f"{record.record_id}.html",
        mime="text/html",
    )
    with st.expander("Provenance"):
        st.json(
            {"inputs": dict(record.inputs), "parameters": dict(record.parameters), "versions": dict(record.versions)}
        )


def past_audits(model_id: str) -> None:
    """Earlier audits of ``model_id``, newest first, each a link to its stable URL."""
    records = list_audits(model_id)
    st.subheader("Past audits")
    if not records:
        st.caption("No audits of this model yet.")
    for record in records:
        summary = record.result.get("summary", {})
        auc = summary.get("max_auc")
        st.page_link(
            "ui/pages/privacy.py",
            label=f"{record.created_at} · {', '.join(record.parameters.get('attacks', []))} · "
            f"max AUC {auc:.3f} · {summary.get('verdict', {}).get('level', '?')} risk"
            if auc is not None
            else f"{record.created_at} · {record.record_id}",
            query_params={"audit": record.record_id},
        )


def _exposed(result: MembershipAuditResult, notes: tuple[str, ...] = ()) -> None:
    if not result.exposed:
        return
    st.subheader("Most exposed members")
    names = result.class_names
    risks = [round(example.risk_score, 2) for example in result.exposed]
    noise = [note for note in notes if "noise" in note.lower() or "noisy" in note.lower()]
    st.caption(
        "Members the attack is surest were in the training data. The risk score is tensorflow-privacy's "
        "membership probability, estimated from histograms of the losses: every member whose loss falls in "
        "the same bin gets the same score"
        + (
            ", which is why these share one value; ties are ordered by loss, lowest first"
            if len(set(risks)) == 1
            else ""
        )
        + ". Each caption gives the label **stored in the training set**; whether that label is right for the "
        "picture cannot be known from the audit: training sets can contain noisy labels, and a memorised "
        "wrong label is exactly what this attack finds."
        + (f" The model's notes say: {' '.join(noise)}" if noise else "")
    )
    if all(example.image_png for example in result.exposed):
        for cell, example in zip(st.columns(min(6, len(result.exposed))) * 100, result.exposed, strict=False):
            label = names[example.label] if example.label < len(names) else str(example.label)
            predicted = names[example.predicted] if example.predicted < len(names) else str(example.predicted)
            cell.image(
                example.image_png,
                width=96,
                caption=f"#{example.index} · stored label: {label}"
                + ("" if predicted == label else f" · predicted: {predicted}")
                + f" · risk {example.risk_score:.2f}",
            )
    else:
        st.table(
            pd.DataFrame(
                [
                    {
                        "Member (row)": f"#{e.index}",
                        "Stored label": names[e.label] if e.label < len(names) else str(e.label),
                        "Predicted": names[e.predicted] if e.predicted < len(names) else str(e.predicted),
                        "Loss": f"{e.loss:.3g}",
                        "Risk score": f"{e.risk_score:.3g}",
                    }
                    for e in result.exposed
                ]
            ),
            hide_index=True,
        )


def _model_notes(model_id: str | None) -> tuple[str, ...]:
    """The audited model's registration notes (e.g. that its training labels are noisy), if it is registered."""
    if not model_id:
        return ()
    try:
        return get_registry().get(model_id).current.summary.notes
    except AnalysisInputError:
        return ()


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
