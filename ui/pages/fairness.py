"""/fairness: metrics per sensitive group and intersection, with bootstrap intervals.

Every choice lives in the URL (``?model=credit-mlp&sensitive=sex,age_band&intersections=sex*age_band
&thresholds=0.3,0.5,0.7&threshold=0.5&baseline=overall&metrics=tpr,fpr``), so a link reproduces the view;
``?predictions=/path/preds.csv&label=y&score=p`` analyses a predictions table on the server instead.
The "why" panel at the bottom keeps its comparison in ``?why_column=&why_group=&why_vs=``.
"""

import json

import streamlit as st

from ui.cached_fairness import load_result
from ui.explain_panels import show_slice_why_panel
from ui.fairness_controls import choose_input, choose_slicing, choose_view, chosen_metrics
from ui.fairness_thresholds import show_threshold_strategies
from ui.shared import call_or_error, user_errors
from visualizers.fairness import disparity_table, plot_metric_bars, slice_table

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

st.subheader("Slices vs baseline")
st.caption(
    "In the order of the charts. Rates in %, differences to the baseline in percentage points (pp); "
    "[low, high] is the bootstrap interval; 'significant': the difference's interval excludes zero."
)
st.table(slice_table(result, metrics=metrics, threshold=shown_threshold), hide_index=True)
st.subheader("Disparities")
st.caption("Per grouping: the largest difference between its slices (pp) or the smallest ratio.")
st.table(disparity_table(result, threshold=shown_threshold), hide_index=True)
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
show_threshold_strategies(settings)
