"""The privacy-report charts: every point's label links to its audit, the frontier drawn and named."""

from __future__ import annotations

from dataclasses import replace

from analysis.privacy.report import PrivacyReport, ReportPoint, mark_frontier
from visualizers.privacy_report import plot_by_epochs, plot_privacy_vs_accuracy

BASE = ReportPoint(
    record_id="privacy-a",
    created_at="2026-01-01T00:00:00+00:00",
    model_id=None,
    revision=None,
    run="r",
    epoch=1,
    variant=None,
    test_accuracy=0.8,
    accuracy_source="test data",
    train_accuracy=0.9,
    max_auc=0.6,
    auc_ci=(0.55, 0.65),
    attacker_advantage=0.1,
    tpr_at_1pct=0.02,
    tpr_at_1pct_ci=(0.01, 0.04),
    tpr_at_01pct=None,
    tpr_at_01pct_ci=None,
    epsilon_lower_bound=1.0,
)


def report() -> PrivacyReport:
    points = [
        BASE,
        replace(BASE, record_id="privacy-b", epoch=5, test_accuracy=0.85, max_auc=0.7),
        replace(
            BASE,
            record_id="privacy-c",
            epoch=None,
            variant="dp",
            test_accuracy=0.82,
            max_auc=0.52,
            epsilon=3.0,
            delta=1e-5,
        ),
    ]
    return PrivacyReport(points=tuple(mark_frontier(points)))


def test_points_link_to_their_audits_and_the_frontier_is_drawn():
    figure = plot_privacy_vs_accuracy(report(), audit_url=lambda rid: f"/privacy?audit={rid}")
    texts = [a.text for a in figure.layout.annotations if a.text.startswith("<a")]  # clickable annotations
    assert sorted(texts) == sorted(
        f'<a href="/privacy?audit={rid}" target="_self">{label}</a>'
        for rid, label in (("privacy-a", "r epoch 1"), ("privacy-b", "r epoch 5"), ("privacy-c", "dp"))
    )
    frontier = next(t for t in figure.data if t.name.startswith("frontier:"))
    assert list(frontier.x) == [0.82, 0.85]  # b (best accuracy) and c (lowest AUC); a is beaten by c
    diamonds = next(t for t in figure.data if t.name == "frontier" and t.mode == "markers")
    assert len(diamonds.x) == 2 and len(diamonds.error_y.array) == 2  # AUC intervals as whiskers


def test_by_epochs_leaves_out_points_without_an_epoch_and_every_metric_draws():
    figure = plot_by_epochs(report())
    xs = [x for trace in figure.data if trace.mode == "markers" for x in trace.x]
    assert sorted(xs) == [1, 5]
    for metric in ("max_auc", "attacker_advantage", "tpr_at_1pct"):
        assert any(t.mode == "markers" for t in plot_privacy_vs_accuracy(report(), metric=metric).data)
    empty = plot_privacy_vs_accuracy(report(), metric="tpr_at_01pct")  # no point reports it
    assert "No audit here reports TPR at 0.1% FPR" in empty.layout.annotations[0].text
