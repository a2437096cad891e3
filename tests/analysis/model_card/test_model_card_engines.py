"""Cards from records the real engines store: a fairness analysis and a membership audit of the tiny model."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, render_card
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import MODEL_ID, card_home, card_template, full_fields  # noqa: F401
from tests.analysis.model_card.test_model_card_assemble import assert_valid


def _side(path: Path, seed: int, n: int = 60) -> Path:
    rng = np.random.default_rng(seed)
    np.savez(
        path, x=rng.random((n, 4)).astype("float32"), y=rng.integers(0, 2, n), meta_sex=np.array(["F", "M"] * (n // 2))
    )
    return path


def test_card_cites_real_fairness_and_privacy_records(card_home: Path, tmp_path: Path) -> None:
    from analysis.fairness import FairnessSpec, compute_fairness_slices, save_fairness_record
    from analysis.privacy import MembershipAuditSpec, ModelSource, SlicingOptions, run_membership_audit, save_audit

    fairness = compute_fairness_slices(
        FairnessSpec(model_id=MODEL_ID, sensitive=("sex",), thresholds=(0.4, 0.5), n_bootstrap=50, min_slice=5)
    )
    audit = run_membership_audit(
        MembershipAuditSpec(
            source=ModelSource(
                model_id=MODEL_ID, members=_side(tmp_path / "m.npz", 1), nonmembers=_side(tmp_path / "n.npz", 2)
            ),
            attacks=("threshold",),
            slicing=SlicingOptions(by_percentile=False, columns=("sex",)),
            workers=1,
        )
    )
    privacy = save_audit(audit)
    store = RecordStore()
    records = (store.get(save_fairness_record(fairness)), privacy)
    card = build_model_card(
        ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=tuple(r.record_id for r in records))
    )
    assert_valid(card.document)
    reported = {(m["type"], m.get("slice")): m for m in card.document["quantitative_analysis"]["performance_metrics"]}
    stored_fairness = records[0].result
    checked = 0
    for entry in stored_fairness["slices"]:
        label = ", ".join(f"{k}={v}" for k, v in entry["group"].items())
        for name, estimate in entry["metrics"].items():
            type_ = name if name in ("count", "base_rate", "auc") else f"{name}@{entry['threshold']:g}"
            if estimate["value"] is None:
                assert (type_, label) not in reported
                continue
            metric = reported[(type_, label)]
            assert float(metric["value"]) == estimate["value"]
            if estimate["ci"] is not None:
                bounds = metric["confidence_interval"]
                assert [float(bounds["lower_bound"]), float(bounds["upper_bound"])] == estimate["ci"]
            checked += 1
    for name, entries in stored_fairness["disparities"].items():
        for entry in entries:
            if entry["value"] is not None:
                across = "across " + " × ".join(entry["over"])
                assert float(reported[(f"{name}@{entry['threshold']:g}", across)]["value"]) == entry["value"]
                checked += 1
    for row in privacy.result["results"]:
        auc = [m for (t, _), m in reported.items() if t == f"membership_inference_auc ({row['attack']})"]
        assert row["auc"] in [float(m["value"]) for m in auc]
        checked += 1
    assert float(reported[("membership_inference_max_auc", None)]["value"]) == privacy.result["summary"]["max_auc"]
    assert checked > 40
    html = render_card(card, CardFormat.HTML)
    assert privacy.result["summary"]["verdict"]["text"] in html.replace("&#39;", "'")
    assert "<title>ROC curves of the membership-inference attacks</title>" in html  # the audit stores ROC curves
    for card_format in CardFormat:
        assert render_card(card, card_format)
