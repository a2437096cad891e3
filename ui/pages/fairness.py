"""/fairness: metrics per sensitive group and intersection, with bootstrap intervals.

Every choice lives in the URL (``?model=credit-mlp&sensitive=sex,age_band&intersections=sex*age_band
&thresholds=0.3,0.5,0.7&threshold=0.5&baseline=overall&metrics=tpr,fpr``), so a link reproduces the view;
``?predictions=/path/preds.csv&label=y&score=p`` analyses a predictions table on the server instead.
"""

import itertools
import json

import pandas as pd
import streamlit as st

from analysis.cli.fairness import parse_intersections, parse_thresholds
from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness import METRIC_KEYS
from analysis.fairness.tables import MISSING_COLUMN, read_predictions_file
from ui.cached_fairness import load_result, set_url, url_list, url_value
from ui.shared import call_or_error, model_picker, user_errors
from visualizers.fairness import plot_metric_bars

st.title("Fairness slices")
st.caption("A score counts as a positive prediction when score ≥ threshold; intervals are bootstrap percentiles.")

predictions = st.query_params.get("predictions")
if predictions:
    table = call_or_error(lambda: read_predictions_file(predictions))
    columns, source = [str(c) for c in table.columns], "predictions file"
    label, score, pred = url_value("label", "label"), st.query_params.get("score"), st.query_params.get("pred")
    settings = {"predictions": predictions, "label": label, "score": score if not pred else None, "prediction": pred}
    st.write(f"Predictions file `{predictions}` — {len(table):,} rows")
else:
    model = model_picker()
    if model is None:
        st.stop()
    data = model.dataset(DatasetRole.DATA)
    if data is None:
        st.error(f"model {model.model_id!r} has no linked DATA dataset with sensitive (meta_<column>) arrays")
        st.stop()
    columns, source = list(data.metadata_columns), f"model data {data.path!r}"
    splits = ["test", "train", "all"] if data.has_split else ["all"]
    split = st.radio(
        "Rows",
        splits,
        index=splits.index(url_value("split", splits[0])) if url_value("split", splits[0]) in splits else 0,
        horizontal=True,
    )
    settings = {"model_id": model.model_id, "split": None if split == "all" else split}
    set_url(split=split)

wanted = url_list("sensitive", columns[:2] if predictions else columns)
with user_errors():
    for column in wanted:
        if column not in columns:
            raise AnalysisInputError(
                MISSING_COLUMN.format(column=column, source=source, present=describe_choices(columns))
            )
    chosen_metrics = url_list("metrics", ["selection_rate", "tpr", "fpr"])
    for metric in chosen_metrics:
        if metric not in METRIC_KEYS:
            raise AnalysisInputError(f"metric {metric!r} is not valid; choose {describe_choices(METRIC_KEYS)}")
    thresholds_text = st.text_input("Thresholds (comma-separated, in [0, 1])", url_value("thresholds", "0.3,0.5,0.7"))
    thresholds = parse_thresholds(thresholds_text)
    sensitive = st.multiselect("Sensitive columns", columns, default=wanted)
    combos = ["*".join(c) for r in range(2, len(sensitive) + 1) for c in itertools.combinations(sensitive, r)]
    intersections = st.multiselect(
        "Intersections", combos, default=[c for c in url_list("intersections", []) if c in combos]
    )
    with st.expander("Bootstrap and slice settings"):
        n_bootstrap = int(
            st.number_input("Bootstrap resamples", 0, 20000, int(url_value("bootstrap", "1000")), step=100)
        )
        seed = int(st.number_input("Seed", 0, 2**31 - 1, int(url_value("seed", "0"))))
        min_slice = int(st.number_input("Minimum slice size", 1, 10**6, int(url_value("min_slice", "30"))))
        missing = st.radio(
            "Missing sensitive values", ["refuse", "group"], index=int(url_value("missing", "refuse") == "group")
        )
baseline = url_value("baseline", "overall")
set_url(
    sensitive=sensitive,
    intersections=intersections,
    thresholds=thresholds_text,
    bootstrap=str(n_bootstrap),
    seed=str(seed),
    min_slice=str(min_slice),
    missing=missing,
)
settings |= {
    "sensitive": tuple(sensitive),
    "intersections": parse_intersections(intersections),
    "thresholds": thresholds,
    "baseline": baseline,
    "n_bootstrap": n_bootstrap,
    "seed": seed,
    "min_slice": min_slice,
    "missing": missing,
}
result = call_or_error(lambda: load_result(settings))

baselines = ["overall", *dict.fromkeys(s.label.replace(", ", ",") for s in result.slices if len(s.group) == 1)]
chosen_baseline = st.selectbox("Baseline", baselines, index=baselines.index(baseline) if baseline in baselines else 0)
metrics = st.multiselect("Metrics", list(METRIC_KEYS), default=chosen_metrics)
shown_threshold = result.thresholds[0]
if result.thresholds[0] is not None:
    wanted_threshold = float(url_value("threshold", str(min(result.thresholds, key=lambda t: abs(t - 0.5)))))
    shown_threshold = st.select_slider(
        "Threshold",
        options=list(result.thresholds),
        value=wanted_threshold if wanted_threshold in result.thresholds else result.thresholds[0],
    )
set_url(baseline=chosen_baseline, metrics=metrics, threshold=None if shown_threshold is None else str(shown_threshold))
if chosen_baseline != baseline:
    st.rerun()

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
