"""The /fairness page's "Threshold strategies" section: fairlearn's ThresholdOptimizer per group, in the URL.

``?mitigate=demographic_parity|equal_opportunity|equalized_odds|single_threshold&mitigate_by=COLUMN
&mitigate_threshold=0.5``. Off unless chosen (it reruns the fairness engine twice). The per-group
rule, the overall accuracy before and after, and one chart and table per metric with the same
bootstrap intervals as the page's main table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness import FairnessSpec
from analysis.fairness.mitigation import MitigationResult, MitigationSpec, Strategy, compute_mitigation
from ui.admission import admitted
from ui.shared import user_errors
from visualizers.fairness_thresholds import plot_strategy_comparison

OFF = "off"
SHOWN = ("selection_rate", "tpr", "fpr", "accuracy")


@st.cache_data(show_spinner="Fitting per-group thresholds and bootstrapping ...", max_entries=16)
def _mitigation(settings: dict[str, Any], strategy: str, by: str, threshold: float, seed: int) -> MitigationResult:
    spec = MitigationSpec(
        fairness=FairnessSpec(**settings), strategy=strategy, by=by, threshold=threshold, random_state=seed
    )
    return compute_mitigation(spec)


def _choices(settings: dict[str, Any]) -> tuple[str, str, float]:
    """The strategy, column and single threshold from the URL and the widgets (bad link values raise)."""
    strategies = [OFF, *(s.value for s in Strategy)]
    wanted = st.query_params.get("mitigate", OFF)
    if wanted not in strategies:
        raise AnalysisInputError(
            f"threshold strategy {wanted!r} in the link is not valid; choose {describe_choices(strategies)}"
        )
    columns = list(settings["sensitive"])
    by_wanted = st.query_params.get("mitigate_by", columns[0] if columns else "")
    if by_wanted not in columns:
        raise AnalysisInputError(
            f"mitigate_by {by_wanted!r} in the link is not a sensitive column; choose {describe_choices(columns)}"
        )
    text = st.query_params.get("mitigate_threshold", "0.5")
    try:
        threshold = float(text)
    except ValueError as error:
        raise AnalysisInputError(f"mitigate_threshold {text!r} in the link must be a number in [0, 1]") from error
    strategy_input, by_input, threshold_input = st.columns([2, 1, 1])
    strategy = strategy_input.selectbox("Strategy", strategies, index=strategies.index(wanted))
    by = by_input.selectbox("Thresholds per", columns, index=columns.index(by_wanted))
    threshold = threshold_input.number_input("Single threshold", 0.0, 1.0, threshold, step=0.05)
    for key, value, default in (
        ("mitigate", strategy, OFF),
        ("mitigate_by", by, columns[0]),
        ("mitigate_threshold", f"{threshold:g}", "0.5"),
    ):
        if value == default and key in st.query_params:
            del st.query_params[key]
        elif value != default and st.query_params.get(key) != value:
            st.query_params[key] = value
    return strategy, by, threshold


def _rules(result: MitigationResult) -> pd.DataFrame:
    def operation(p: float, operator: str, threshold: float) -> str:
        return f"{p:.1%}: score {operator} {threshold:.4g}" if p > 0 else ""

    return pd.DataFrame(
        [
            {
                result.by: rule.group,
                "rows": rule.count,
                "rule": " · ".join(
                    filter(
                        None,
                        (
                            operation(rule.p0, rule.operator0, rule.threshold0),
                            operation(rule.p1, rule.operator1, rule.threshold1),
                        ),
                    )
                ),
                "randomized": "yes" if rule.randomized else "no",
            }
            for rule in result.thresholds
        ]
    )


def show_threshold_strategies(settings: dict[str, Any]) -> None:
    """The section; does nothing heavy until a strategy is chosen."""
    st.subheader("Threshold strategies")
    st.caption(
        "Per-group thresholds from fairlearn's ThresholdOptimizer (prefit on the model's score), fitted and "
        "evaluated on these rows. Some groups get a randomized rule between two thresholds; the draw is seeded "
        "by the page's seed."
    )
    if settings.get("prediction"):
        st.info("Threshold strategies need scores; this predictions file gives predicted labels.")
        return
    with user_errors():
        strategy, by, threshold = _choices(settings)
        if strategy == OFF:
            return
        with admitted("fairness", f"threshold strategy {strategy} per {by}"):
            result = _mitigation(settings, strategy, by, threshold, int(settings.get("seed", 0)))
    accuracy = [result.single.overall[0].metrics["accuracy"], result.mitigated.overall[0].metrics["accuracy"]]
    columns = st.columns(3)
    for column, label, estimate in zip(
        columns[:2], ("Accuracy, single threshold", "Accuracy, strategy"), accuracy, strict=True
    ):
        ci = f"[{estimate.ci[0]:.1%}, {estimate.ci[1]:.1%}]" if estimate.ci else ""
        column.metric(label, f"{estimate.value:.1%}" if estimate.value is not None else "n/a", help=ci or None)
    cost = result.accuracy_cost
    columns[2].metric("Cost in overall accuracy", "n/a" if cost is None else f"{cost * 100:+.2f} pp")
    if result.thresholds:
        st.dataframe(_rules(result), hide_index=True)
    for metric in SHOWN:
        st.plotly_chart(plot_strategy_comparison(result, metric=metric), key=f"strategy-{metric}")
    for note in result.notes:
        st.caption(note)
