"""``models build-demo --privacy-variants``: train, register and audit the credit variants as one run.

Training and registering are :mod:`analysis.demo.variants.build`; auditing is the privacy
capability's; this command joins them (capabilities do not import each other). Each audit is
stored tagged ``run=privacy-variants`` with the variant's name, epochs trained and held-out test
accuracy, so ``python -m analysis privacy-report --run privacy-variants`` compares them.
"""

from __future__ import annotations

from collections.abc import Callable

from analysis.privacy.attacks import AttackKind
from analysis.privacy.report import EPOCH, RUN, TEST_ACCURACY, VARIANT

VARIANT_ATTACKS = (AttackKind.THRESHOLD, AttackKind.ENTROPY, AttackKind.LR)


def build_and_audit_variants(*, seed: int, report: Callable[[str], None]) -> list[str]:
    """Build every variant, audit it, store the audit; returns the audit record ids."""
    from analysis.demo.variants.build import RUN_NAME, build_privacy_variants
    from analysis.paths import loupe_home
    from analysis.privacy.audit_records import save_audit
    from analysis.privacy.engine import run_membership_audit
    from analysis.privacy.spec import MembershipAuditSpec, ModelSource, SlicingOptions

    built = build_privacy_variants(loupe_home() / "demo-variants", seed=seed, report=report)
    ids = []
    for variant in built:
        spec = MembershipAuditSpec(
            source=ModelSource(model_id=variant.model_id),
            attacks=VARIANT_ATTACKS,
            slicing=SlicingOptions.parse("none"),
            seed=seed,
        )
        result = run_membership_audit(spec)
        extra = {
            RUN: RUN_NAME,
            EPOCH: variant.epochs_trained,
            VARIANT: variant.spec.name,
            TEST_ACCURACY: variant.test_accuracy,
        }
        record = save_audit(result, extra=extra)
        report(f"  audited {variant.model_id}: best AUC {result.max_auc():.3f} ({record.record_id})")
        ids.append(record.record_id)
    return ids
