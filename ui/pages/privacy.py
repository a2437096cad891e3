"""/privacy: membership-inference audits of a model, and stored audits at stable URLs.

``?model=<id>`` opens the audit form for a model (with its past audits); ``?running=<job>`` follows
an audit that trains reference models in the background (:mod:`ui.audit_jobs`); ``?audit=<record id>``
reopens a stored audit; ``?compare=<id>,<id>,...`` (or ``?compare=run:<name>``) sets audits'
vulnerability against test accuracy and epoch (:mod:`ui.privacy_compare`). Audits of precomputed
outputs (any framework) run from the CLI:
``python -m analysis privacy --members-outputs A.npz --nonmembers-outputs B.npz``.
"""

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.model_card.lineage import build_lineage
from analysis.privacy.audit_records import save_audit
from analysis.privacy.engine import run_membership_audit
from analysis.training.accounting import DPGuarantee
from ui.access import can_write, sign_in_hint
from ui.admission import admitted
from ui.audit_jobs import audit_job, show_audit_job, show_running_audits, start_audit_job
from ui.cached_privacy import attack_workers, stored_audit
from ui.lineage_views import show_lineage
from ui.privacy_compare import show_comparison
from ui.privacy_views import audit_form, past_audits, show_audit
from ui.shared import call_or_error, get_registry, model_picker, user_errors

st.title("Privacy audits")
st.caption("Does the model leak who was in its training data? Membership-inference attacks by tensorflow-privacy.")

compare = st.query_params.get("compare")
if compare:
    show_comparison(compare)
    st.stop()

running = st.query_params.get("running")
if running:
    try:
        job = audit_job(running)
    except AnalysisInputError as error:  # a stale or mistyped link: say so, and link the form
        st.error(str(error), icon=":material/error:")
        st.page_link("ui/pages/privacy.py", label="Privacy audits: pick a model", icon=":material/list:")
        st.stop()
    st.page_link(
        "ui/pages/privacy.py",
        label=f"Audits of {job.model_id}",
        icon=":material/list:",
        query_params={"model": job.model_id},
    )
    show_audit_job(running)
    st.stop()

audit_id = st.query_params.get("audit")
if audit_id:
    record, result = call_or_error(lambda: stored_audit(audit_id))
    if result.model_id:
        st.page_link(
            "ui/pages/privacy.py",
            label=f"New audit of {result.model_id}",
            icon=":material/add:",
            query_params={"model": result.model_id},
        )
    guarantee = get_registry().training_privacy(result.model_id, result.revision) if result.model_id else None
    if guarantee:  # the model was registered as trained with DP-SGD: its theoretical bound beside this audit
        st.info(
            f"{result.model_id} was trained with DP-SGD: {DPGuarantee.from_dict(guarantee).describe()}. "
            "No attack can beat that bound; the attacks below show what is demonstrably leaked.",
            icon=":material/verified_user:",
        )
    show_audit(record, result)
    show_lineage(build_lineage([record]))
    st.stop()

model = model_picker()
if model is not None:
    show_running_audits(model.model_id)
    if can_write():
        attack_workers()
        with user_errors():
            spec = audit_form(model)
            if spec is not None and spec.reference is not None:  # trains references: minutes, in the background
                job_id = start_audit_job(spec, model.model_id)
                st.query_params.clear()
                st.query_params["running"] = job_id
                st.rerun()
            if spec is not None:
                with admitted("audit", f"a privacy audit of {model.model_id}"):
                    bar = st.progress(0.0, text="starting")
                    result = run_membership_audit(
                        spec, progress=lambda fraction, message: bar.progress(fraction, text=message)
                    )
                    record = save_audit(result)
                st.query_params.clear()
                st.query_params["audit"] = record.record_id
                st.rerun()
    else:
        st.info(f"Running a new audit needs a writer. {sign_in_hint()}", icon=":material/lock:")
    past_audits(model.model_id)
