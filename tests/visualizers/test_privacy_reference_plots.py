"""Reference-attack chart and table: LiRA/RMIA against the best classic attack, intervals drawn."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.privacy import MembershipAuditSpec, SlicingOptions, run_membership_audit
from analysis.privacy.reference_spec import ReferenceOptions
from tests.analysis.privacy.privacy_support import leaky_source
from tests.analysis.privacy.reference_support import write_reference_outputs
from visualizers.privacy_reference import best_classic_row, plot_reference_roc, reference_table


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    source = leaky_source(300)
    folder = write_reference_outputs(source, tmp_path_factory.mktemp("refs"), k=8)
    spec = MembershipAuditSpec(
        source=source,
        attacks=("threshold", "entropy", "lira", "rmia"),
        slicing=SlicingOptions.parse("none"),
        workers=1,
        reference=ReferenceOptions(reference_outputs=folder),
    )
    return run_membership_audit(spec)


def test_roc_draws_the_best_classic_and_each_reference_attack_with_intervals(result):
    figure = plot_reference_roc(result)
    assert figure.layout.xaxis.type == figure.layout.yaxis.type == "log"
    lines = [trace for trace in figure.data if trace.mode == "lines"]
    assert [trace.name.split(" ")[0] for trace in lines] == [
        best_classic_row(result).attack.value,
        "lira",
        "rmia",
        "chance",
    ]
    markers = [trace for trace in figure.data if trace.mode == "markers"]
    lira = next(row for row in result.rows if row.attack.value == "lira")
    marker = markers[1]  # best classic first, then lira
    assert list(marker.x) == [0.01]  # 0.1% FPR is not measurable with 300 non-members
    low, high = lira.tpr_ci[0.01]
    assert marker.error_y.array[0] == pytest.approx(high - lira.tpr_at_fpr[0.01])
    assert marker.error_y.arrayminus[0] == pytest.approx(lira.tpr_at_fpr[0.01] - max(low, 1 / 300))


def test_table_gives_intervals_and_ratios_to_the_best_classic(result):
    table = reference_table(result)
    assert list(table["Attack"]) == [f"{best_classic_row(result).attack.value} (best classic)", "lira", "rmia"]
    assert set(table["TPR @ 0.1% FPR (95% interval)"]) == {"not measurable"}
    classic, lira = best_classic_row(result), next(r for r in result.rows if r.attack.value == "lira")
    expected = lira.tpr_at_fpr[0.01] / classic.tpr_at_fpr[0.01]
    assert table.loc[1, "× best classic @ 1%"] == f"{expected:.3g}×"
    assert np.all(table["AUC"].str.contains("–"))
