"""Privacy audits: membership inference with tensorflow-privacy, made reproducible and reportable.

    spec = MembershipAuditSpec(source=OutputFilesSource(members=..., nonmembers=...), seed=0)
    result = run_membership_audit(spec, progress=lambda fraction, message: ...)
    record = save_audit(result)          # a "privacy" record; its id is the audit's stable id

Names are imported on first use, so ``import analysis.privacy.spec`` (the CLI parser, the
page) does not load tensorflow-privacy, scikit-learn and SciPy.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DEFAULT_ATTACKS": "attacks",
    "AttackKind": "attacks",
    "audit_json": "audit_records",
    "list_audits": "audit_records",
    "load_audit": "audit_records",
    "save_audit": "audit_records",
    "run_membership_audit": "engine",
    "AuditInputs": "inputs",
    "ModelOutputs": "inputs",
    "OutputKind": "inputs",
    "render_html_report": "report_html",
    "AttackRow": "result",
    "ExposedExample": "result",
    "LossHistogram": "result",
    "MembershipAuditResult": "result",
    "RiskLevel": "result",
    "Verdict": "result",
    "SliceKey": "slicing",
    "SliceKind": "slicing",
    "MembershipAuditSpec": "spec",
    "ModelSource": "spec",
    "OutputArraysSource": "spec",
    "OutputFilesSource": "spec",
    "SlicingOptions": "spec",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'analysis.privacy' has no attribute {name!r}")
    return getattr(import_module(f"analysis.privacy.{_EXPORTS[name]}"), name)
