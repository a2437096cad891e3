"""Stored audits of synthetic variants of one task, for privacy-report tests (no TensorFlow)."""

from __future__ import annotations

import numpy as np

from analysis.privacy.audit_records import save_audit
from analysis.privacy.engine import run_membership_audit
from analysis.privacy.inputs import ModelOutputs, OutputKind
from analysis.privacy.spec import MembershipAuditSpec, OutputArraysSource, SlicingOptions
from analysis.records import AnalysisRecord, RecordStore

N, CLASSES = 300, 3
LABELS = np.random.default_rng(0).integers(0, CLASSES, (2, N))


def variant_source(member_margin: float, nonmember_margin: float, *, seed: int) -> OutputArraysSource:
    """Logits whose true class is ``margin`` above noise, on fixed labels (the same data for every variant)."""
    rng = np.random.default_rng(seed)
    sides = []
    for name, labels, margin in (("members", LABELS[0], member_margin), ("non-members", LABELS[1], nonmember_margin)):
        logits = rng.normal(size=(N, CLASSES))
        logits[np.arange(N), labels] += margin
        sides.append(ModelOutputs(name=name, outputs=logits, kind=OutputKind.LOGITS, labels=labels))
    return OutputArraysSource(members=sides[0], nonmembers=sides[1])


def store_variant(
    store: RecordStore, member_margin: float, nonmember_margin: float, *, seed: int, **extra: object
) -> tuple[AnalysisRecord, OutputArraysSource]:
    source = variant_source(member_margin, nonmember_margin, seed=seed)
    spec = MembershipAuditSpec(
        source=source, attacks=("threshold",), slicing=SlicingOptions.parse("none"), workers=1, n_exposed=0
    )
    tags = {"data": {"members": "m" * 64, "nonmembers": "n" * 64}, **extra}
    return save_audit(run_membership_audit(spec), store, extra=tags), source
