"""Privacy charts: log-log ROC with the chance line, loss distributions, AUC per slice."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.privacy import MembershipAuditSpec, SliceKind, SlicingOptions, run_membership_audit
from tests.analysis.privacy.privacy_support import leaky_source
from visualizers.privacy import audit_table, plot_loss_distributions, plot_roc_loglog, plot_slice_auc


@pytest.fixture(scope="module")
def result():
    spec = MembershipAuditSpec(
        source=leaky_source(300),
        attacks=("threshold", "entropy"),
        slicing=SlicingOptions(by_percentile=False, by_correctness=False),
        workers=1,
    )
    return run_membership_audit(spec)


def test_roc_is_log_log_with_chance_line_and_one_curve_per_row(result):
    figure = plot_roc_loglog(result)
    assert figure.layout.xaxis.type == figure.layout.yaxis.type == "log"
    names = [trace.name for trace in figure.data]
    rows = result.rows_to_plot()
    assert len(names) == len(rows) + 1 and names[-1].startswith("chance")
    assert [row.slice.kind for row in rows[:2]] == [SliceKind.ENTIRE, SliceKind.ENTIRE]
    chance = figure.data[-1]
    assert list(chance.x) == list(chance.y) == [1 / 300, 1.0]
    first = figure.data[0]
    keep = rows[0].roc_fpr > 0
    assert np.allclose(first.x, rows[0].roc_fpr[keep])
    assert np.allclose(first.y, np.maximum(rows[0].roc_tpr[keep], 1 / 300))
    assert names[0].startswith("threshold attack · entire data set (AUC ")
    assert [shape.x0 for shape in figure.layout.shapes] == [0.01]  # 0.1% is below 1/300: not drawn


def test_roc_of_chosen_rows(result):
    figure = plot_roc_loglog(result, rows=[result.rows[3]])
    assert len(figure.data) == 2


def test_loss_distributions_show_both_sides_as_fractions(result):
    figure = plot_loss_distributions(result)
    assert [trace.name for trace in figure.data] == ["members (in the training data)", "non-members (held out)"]
    assert figure.layout.xaxis.type == "log"
    for trace, values in zip(
        figure.data, (result.loss_histogram.members, result.loss_histogram.nonmembers), strict=True
    ):
        assert np.allclose(trace.y, values) and sum(trace.y) == pytest.approx(1.0)
    assert np.all(np.diff(figure.data[0].x) > 0)


def test_slice_auc_puts_the_worst_slice_on_top(result):
    figure = plot_slice_auc(result)
    bars = figure.data[0]
    assert len(bars.y) == 1 + 4  # entire data set and four classes
    assert list(bars.x) == sorted(bars.x)  # plotly draws the last bar on top
    assert bars.x[-1] == result.max_auc()


def test_slice_auc_axis_starts_at_zero_and_explains_every_colour(result):
    figure = plot_slice_auc(result)
    assert list(figure.layout.xaxis.range) == [0, 1.08]
    assert [shape.x0 for shape in figure.layout.shapes] == [0.5]  # chance, named in the legend, not over a bar
    assert not figure.layout.annotations
    legend = {trace.marker.color for trace in figure.data[1:]}
    assert set(figure.data[0].marker.color) <= legend


def test_audit_table_says_why_a_tpr_is_missing(result):
    table = audit_table(result)
    assert list(table.columns[:3]) == ["Slice", "Attack", "Members / non-members"]
    column = "Members found at 0.1% false positives"
    assert all(text.startswith("— (needs 1,000 non-members; the slice has ") for text in table[column])
    assert "None" not in table.to_string() and "nan" not in table.to_string()
