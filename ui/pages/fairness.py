"""/fairness: metrics per sensitive group and intersection, with bootstrap intervals.

Every choice lives in the URL (``?model=credit-mlp&sensitive=sex,age_band&intersections=sex*age_band
&thresholds=0.3,0.5,0.7&threshold=0.5&baseline=overall&metrics=tpr,fpr``), so a link reproduces the view;
``?predictions=/path/preds.csv&label=y&score=p`` analyses a predictions table on the server instead.
The "why" panel at the bottom keeps its comparison in ``?why_column=&why_group=&why_vs=``.
"""

import json

import pandas as pd
import streamlit as st

from ui.cached_fairness import load_result
from ui.explain_panels import show_slice_why_panel
from ui.fairness_controls import choose_input, choose_slicing, choose_view, chosen_metrics
from ui.shared import call_or_error, user_errors
from visualizers.fairness import plot_metric_bars

st.title("Fairness slices")
st.caption("A score counts as a positive prediction when score ≥ threshold; intervals are bootstrap percentiles.")

with user_errors():
    settings, columns, source = choose_input()
    metrics_in_link = chosen_metrics()
    settings |= choose_slicing(columns, source)
result = call_or_error(lambda: load_result(settings))

with user_errors():
    metrics, shown_threshold = choose_view(result, settings["baseline"], metrics_in_link)

for metric in metrics:
    st.plotly_chart(plot_metric_bars(result, metric=metric, threshold=shown_threshold), key=f"bars-{metric}")

frame = result.to_frame()
frame = frame[
    (frame["metric"].isin(metrics))
    & (frame["threshold"].isna() if shown_threshold is None else frame["threshold"] == shown_threshold)
]
table = frame[
    [
        "slice",
        "count",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "difference",
        "difference_ci_low",
        "difference_ci_high",
        "ratio",
        "ratio_ci_low",
        "ratio_ci_high",
        "gap_excludes_zero",
    ]
]
st.subheader("Slices vs baseline")
st.caption("Highlighted: the difference's interval excludes zero.")
st.dataframe(
    table.style.apply(
        lambda row: ["background-color: #fde2e2" if row["gap_excludes_zero"] else ""] * len(row),
        axis=1,
    ),
    hide_index=True,
)
st.subheader("Disparities")
st.dataframe(
    pd.DataFrame(
        [
            {
                "over": "*".join(d.over),
                "disparity": d.name,
                "value": d.estimate.value,
                "ci_low": d.estimate.ci[0] if d.estimate.ci else None,
                "ci_high": d.estimate.ci[1] if d.estimate.ci else None,
                "reason": d.estimate.reason,
            }
            for d in result.disparities
            if d.threshold == shown_threshold
        ]
    ),
    hide_index=True,
)
if result.too_small:
    st.caption(
        "Too small to report: "
        + "; ".join(
            f"{','.join(f'{k}={v}' for k, v in group.items())} ({count} rows)" for group, count in result.too_small
        )
    )
st.caption(f"Record `{result.record_id}` · {result.n_rows:,} rows · " + " ".join(result.notes))
st.download_button("Download JSON", json.dumps(result.to_dict(), indent=2), file_name=f"{result.record_id}.json")
show_slice_why_panel(settings)
