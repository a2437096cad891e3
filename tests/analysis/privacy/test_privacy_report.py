"""compute_privacy_report against tensorflow-privacy's own privacy report, the frontier by hand, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.privacy.library import AttackInputData
from analysis.privacy.report import compute_privacy_report, mark_frontier
from analysis.privacy.report_records import load_report_audits
from analysis.records import RecordStore
from tests.analysis.privacy.report_support import store_variant


@pytest.fixture
def run_records(loupe_home):
    """Three epochs of one run: members fit better and better, non-members barely change."""
    store = RecordStore()
    stored = [
        store_variant(store, margin, 1.5, seed=epoch, run="toy", epoch=epoch)
        for epoch, margin in ((1, 1.6), (2, 2.5), (3, 4.0))
    ]
    return stored


def test_best_auc_per_epoch_matches_tensorflow_privacys_report(run_records):
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        membership_inference_attack as mia,
    )
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import privacy_report
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackType,
        PrivacyReportMetadata,
    )

    records, guarantees = load_report_audits(run="toy")
    report = compute_privacy_report(records, guarantees=guarantees)
    assert [p.epoch for p in report.points] == [1, 2, 3]
    library_results = []
    for epoch, (_, source) in enumerate(run_records, start=1):
        data = AttackInputData(
            logits_train=source.members.outputs,
            logits_test=source.nonmembers.outputs,
            labels_train=source.members.labels,
            labels_test=source.nonmembers.labels,
        )
        meta = PrivacyReportMetadata(epoch_num=epoch, model_variant_label="toy")
        library_results.append(mia.run_attacks(data, None, (AttackType.THRESHOLD_ATTACK,), meta))
    frame = privacy_report._calculate_combined_df_with_metadata(library_results)
    expected = frame.groupby("Epoch")["AUC"].max()
    np.testing.assert_allclose([p.max_auc for p in report.points], expected.to_numpy(), atol=1e-9)
    advantage = frame.groupby("Epoch")["Attacker advantage"].max()
    np.testing.assert_allclose([p.attacker_advantage for p in report.points], advantage.to_numpy(), atol=1e-9)
    assert report.points[2].max_auc > report.points[0].max_auc  # the synthetic run leaks more with epochs
    assert all(p.accuracy_source == "non-members" for p in report.points)
    assert report.to_dict()["frontier"] == [p.record_id for p in report.frontier()]


def test_frontier_is_the_points_no_other_beats_on_both_axes(run_records):
    from dataclasses import replace

    records, _ = load_report_audits(run="toy")
    base = compute_privacy_report(records).points[0]
    points = [
        replace(base, record_id="a", test_accuracy=0.90, max_auc=0.70),
        replace(base, record_id="b", test_accuracy=0.85, max_auc=0.55),
        replace(base, record_id="c", test_accuracy=0.80, max_auc=0.60),  # b is better on both
        replace(base, record_id="d", test_accuracy=0.90, max_auc=0.75),  # a ties accuracy, lower AUC
    ]
    assert [p.record_id for p in mark_frontier(points) if p.on_frontier] == ["a", "b"]


def test_audits_of_other_data_name_what_differs(loupe_home):
    store = RecordStore()
    first, _ = store_variant(store, 3.0, 1.5, seed=0)
    other, _ = store_variant(store, 3.0, 1.5, seed=1, data={"members": "x" * 64, "nonmembers": "n" * 64})
    with pytest.raises(AnalysisInputError, match=r"not of one task and data set.*members data is mmmmmmmmmmmm"):
        compute_privacy_report([first, other])


def test_audits_without_test_accuracy_are_named(loupe_home):
    from dataclasses import replace

    store = RecordStore()
    record, _ = store_variant(store, 3.0, 1.5, seed=0)
    stripped = replace(record, record_id="privacy-noacc", result={**record.result, "test_accuracy": None})
    with pytest.raises(AnalysisInputError, match=r"without a test accuracy.*privacy-noacc"):
        compute_privacy_report([record, stripped])


def test_unknown_ids_runs_and_models_are_named(loupe_home):
    with pytest.raises(AnalysisInputError, match="no stored record 'privacy-nope'"):
        load_report_audits(audits=["privacy-nope"])
    with pytest.raises(AnalysisInputError, match="no audits tagged with run 'ghost'; runs are"):
        load_report_audits(run="ghost")
    with pytest.raises(AnalysisInputError, match="unknown model 'ghost'"):
        load_report_audits(model_id="ghost")
    with pytest.raises(AnalysisInputError, match="exactly one of"):
        load_report_audits(run="a", model_id="b")
