"""Contract tests over the attack table: every attack maps to the library, runs, and is reproducible."""

from __future__ import annotations

import math

import pytest

from analysis.privacy import AttackKind, MembershipAuditSpec, SlicingOptions, run_membership_audit
from analysis.privacy.attacks import DEFAULT_ATTACKS
from analysis.privacy.library import AttackType
from analysis.privacy.reference_spec import ReferenceOptions
from tests.analysis.privacy.privacy_support import leaky_source
from tests.analysis.privacy.reference_support import write_reference_outputs

SLOW = {AttackKind.RF}  # a grid search of 216 forests per fold: ~10 s per run even on 100 + 100
ATTACKS = [pytest.param(kind, marks=pytest.mark.slow) if kind in SLOW else kind for kind in AttackKind]


@pytest.mark.parametrize("kind", list(AttackKind))
def test_every_attack_maps_to_a_library_attack(kind):
    if kind.needs_references:  # LiRA, offset, RMIA: scored by Loupe on reference models, not run_attacks
        assert kind.library_type is None and not kind.is_trained
    else:
        assert isinstance(kind.library_type, AttackType)
        assert kind.is_trained == kind.library_type.is_trained_attack
    assert AttackKind.parse(f" {kind.value.upper()} ") is kind
    assert kind.description


def test_defaults_are_the_cheap_attacks():
    assert set(DEFAULT_ATTACKS) == {AttackKind.THRESHOLD, AttackKind.ENTROPY, AttackKind.LR}
    assert not ({AttackKind.MLP, AttackKind.RF} & set(DEFAULT_ATTACKS))


@pytest.mark.parametrize("kind", ATTACKS)
def test_every_attack_runs_and_is_reproducible(kind, tmp_path):
    source = leaky_source(100)
    reference = (
        ReferenceOptions(reference_outputs=write_reference_outputs(source, tmp_path / "refs"))
        if kind.needs_references
        else None
    )
    spec = MembershipAuditSpec(
        source=source,
        attacks=(kind,),
        slicing=SlicingOptions.parse("none"),
        seed=11,
        workers=1,
        reference=reference,
    )
    first, second = run_membership_audit(spec), run_membership_audit(spec)
    row = first.rows[0]
    assert row.attack is kind and (row.n_members, row.n_nonmembers) == (100, 100)
    assert 0.5 < row.auc <= 1.0  # the members really are easier to tell apart
    assert all(math.isfinite(v) for v in (row.attacker_advantage, row.ppv))
    assert row.tpr_at_fpr[0.01] is not None and row.tpr_at_fpr[0.001] is None
    assert first.to_dict() == second.to_dict()
