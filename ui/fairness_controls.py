"""The /fairness page's controls, each bound to the URL so a copied link reproduces the view.

Bad values in a link raise AnalysisInputError (the page shows them with ``st.error``).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import streamlit as st

from analysis.cli.fairness import parse_intersections, parse_thresholds
from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness import METRIC_KEYS, FairnessResult
from analysis.fairness.tables import MISSING_COLUMN, read_predictions_file
from analysis.server_files import allowed_roots, resolve_allowed_path
from ui.shared import model_picker

DEFAULT_METRICS = ["selection_rate", "tpr", "fpr"]


def url_value(key: str, default: str) -> str:
    """A choice from the URL (``?key=value``), or ``default``."""
    return st.query_params.get(key, default)


def url_list(key: str, default: list[str]) -> list[str]:
    """A comma-separated choice from the URL, or ``default``."""
    value = st.query_params.get(key)
    return [part for part in value.split(",") if part] if value is not None else list(default)


def url_int(key: str, default: int, low: int, high: int) -> int:
    """A whole number from the URL in ``[low, high]`` (the bounds of the widget it seeds), or ``default``."""
    text = url_value(key, str(default))
    try:
        value = int(text)
    except ValueError as error:
        raise AnalysisInputError(f"{key} {text!r} in the link must be a whole number") from error
    if not low <= value <= high:
        raise AnalysisInputError(f"{key} {value} in the link is out of range; valid values are {low}-{high}")
    return value


def url_float(key: str, default: float) -> float:
    text = url_value(key, str(default))
    try:
        return float(text)
    except ValueError as error:
        raise AnalysisInputError(f"{key} {text!r} in the link must be a number") from error


def set_url(**values: str | list[str] | None) -> None:
    """Write choices into the URL (None removes a key)."""
    for key, value in values.items():
        text = ",".join(value) if isinstance(value, list) else value
        if text is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != text:
            st.query_params[key] = text


def choose_input() -> tuple[dict[str, Any], list[str], str]:
    """Spec settings for the input, the sensitive columns it offers, and its name for errors.

    ``?predictions=PATH&label=&score=|pred=`` reads a table on the server; otherwise ``?model=``.
    """
    predictions = st.query_params.get("predictions")
    if predictions:
        predictions = str(resolve_allowed_path(predictions, allowed_roots()))  # only inside LOUPE_DATA_ROOTS
        table = read_predictions_file(predictions)
        st.write(f"Predictions file `{Path(predictions).name}` — {len(table):,} rows")
        score, pred = st.query_params.get("score"), st.query_params.get("pred")
        settings = {
            "predictions": predictions,
            "label": url_value("label", "label"),
            "score": None if pred else score,
            "prediction": pred,
        }
        return settings, [str(c) for c in table.columns], "predictions file"
    model_column, rows_column = st.columns([2, 1])
    with model_column:
        model = model_picker()
    if model is None:
        st.stop()
    data = model.dataset(DatasetRole.DATA)
    if data is None:
        raise AnalysisInputError(f"model {model.model_id!r} has no linked DATA dataset with meta_<column> arrays")
    splits = ["test", "train", "all"] if data.has_split else ["all"]
    wanted = url_value("split", splits[0])
    split = rows_column.radio("Rows", splits, index=splits.index(wanted) if wanted in splits else 0, horizontal=True)
    set_url(split=split)
    settings = {"model_id": model.model_id, "split": None if split == "all" else split}
    return settings, list(data.metadata_columns), f"model data {data.path!r}"


def choose_slicing(columns: list[str], source: str) -> dict[str, Any]:
    """Sensitive columns, intersections, thresholds and bootstrap settings, as spec settings."""
    wanted = url_list("sensitive", columns)
    for column in wanted:
        if column not in columns:
            raise AnalysisInputError(
                MISSING_COLUMN.format(column=column, source=source, present=describe_choices(columns))
            )
    sensitive_column, intersections_column = st.columns(2)
    sensitive = sensitive_column.multiselect("Sensitive columns", columns, default=wanted)
    combos = ["*".join(c) for r in range(2, len(sensitive) + 1) for c in itertools.combinations(sensitive, r)]
    intersections = intersections_column.multiselect(
        "Intersections", combos, default=linked_intersections(sensitive, combos)
    )
    # Rarely changed: folded away, in one row; the caption under it names the values in use.
    with st.expander("Thresholds, bootstrap and slice settings"):
        thresholds_input, bootstrap_input, seed_input, min_slice_input = st.columns([2, 1, 1, 1])
        thresholds_text = thresholds_input.text_input(
            "Thresholds (comma-separated, in [0, 1])", url_value("thresholds", "0.3,0.5,0.7")
        )
        thresholds = parse_thresholds(thresholds_text)
        n_bootstrap = int(
            bootstrap_input.number_input(
                "Bootstrap resamples", 0, 20000, url_int("bootstrap", 1000, 0, 20000), step=100
            )
        )
        seed = int(seed_input.number_input("Seed", 0, 2**31 - 1, url_int("seed", 0, 0, 2**31 - 1)))
        min_slice = int(
            min_slice_input.number_input("Minimum slice size", 1, 10**6, url_int("min_slice", 30, 1, 10**6))
        )
        missing = st.radio(
            "Missing sensitive values",
            ["refuse", "group"],
            index=int(url_value("missing", "") == "group"),
            horizontal=True,
        )
    st.caption(
        f"Thresholds {', '.join(f'{t:g}' for t in thresholds)} · {n_bootstrap:,} bootstrap resamples (seed {seed}) · "
        f"slices under {min_slice:,} rows not reported · missing sensitive values: {missing}"
    )
    set_url(
        sensitive=sensitive,
        intersections=intersections,
        thresholds=thresholds_text,
        bootstrap=str(n_bootstrap),
        seed=str(seed),
        min_slice=str(min_slice),
        missing=missing,
    )
    return {
        "sensitive": tuple(sensitive),
        "intersections": parse_intersections(intersections),
        "thresholds": thresholds,
        "baseline": url_value("baseline", "overall"),
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "min_slice": min_slice,
        "missing": missing,
    }


def linked_intersections(sensitive: list[str], combos: list[str]) -> list[str]:
    """``?intersections=`` as offered combinations; a value that is not one is named in a warning, with the form.

    Columns may come in any order (``sex*age_band`` is the ``age_band*sex`` combination); a
    comma-separated list of columns (``age_band,sex``) is not an intersection and is not applied.
    """
    text = st.query_params.get("intersections")
    if not text:
        return []
    chosen, unusable = [], []
    for part in [p for p in text.split(",") if p]:
        columns = part.split("*")
        match = next((c for c in combos if sorted(c.split("*")) == sorted(columns)), None)
        if match is None:
            unusable.append(part)
        elif match not in chosen:
            chosen.append(match)
    if unusable:
        example = "*".join(sensitive[:2][::-1]) if len(sensitive) >= 2 else "sex*age_band"
        columns = [c for c in text.replace("*", ",").split(",") if c]
        hint = (
            f" (did you mean `{'*'.join(columns)}`?)"
            if len(columns) > 1 and all(c in sensitive for c in columns) and "*" not in text
            else ""
        )
        one = len(unusable) == 1
        st.warning(
            f"intersections `{text}` in the link: {', '.join(f'`{u}`' for u in unusable)} "
            f"{'is not an intersection' if one else 'are not intersections'} of the sensitive "
            f"columns {', '.join(f'`{c}`' for c in sensitive)}{hint}, so {'it is' if one else 'they are'} "
            f"not applied. Join two or more sensitive columns with `*`, as in `{example}`; "
            "separate several intersections with commas.",
            icon=":material/warning:",
        )
    return chosen


def chosen_metrics() -> list[str]:
    """``?metrics=`` checked against the metric keys."""
    metrics = url_list("metrics", DEFAULT_METRICS)
    for metric in metrics:
        if metric not in METRIC_KEYS:
            raise AnalysisInputError(f"metric {metric!r} is not valid; choose {describe_choices(METRIC_KEYS)}")
    return metrics


def choose_view(result: FairnessResult, baseline: str, metrics_in_link: list[str]) -> tuple[list[str], float | None]:
    """The metrics and threshold to show, and the baseline, in one row; a new baseline reruns the analysis.

    Returns the metrics and the shown threshold (None for predicted labels, which have no thresholds).
    """
    baselines = ["overall", *dict.fromkeys(s.label.replace(", ", ",") for s in result.slices if len(s.group) == 1)]
    baseline_input, metrics_input, threshold_input = st.columns([1, 2, 1])
    chosen_baseline = baseline_input.selectbox(
        "Baseline", baselines, index=baselines.index(baseline) if baseline in baselines else 0
    )
    metrics = metrics_input.multiselect("Metrics", list(METRIC_KEYS), default=metrics_in_link)
    shown_threshold = result.thresholds[0]
    if shown_threshold is not None:
        nearest_half = min(result.thresholds, key=lambda t: abs(t - 0.5))
        wanted_threshold = url_float("threshold", nearest_half)
        shown_threshold = threshold_input.select_slider(
            "Threshold",
            options=list(result.thresholds),
            value=wanted_threshold if wanted_threshold in result.thresholds else nearest_half,
        )
    set_url(
        baseline=chosen_baseline, metrics=metrics, threshold=None if shown_threshold is None else str(shown_threshold)
    )
    if chosen_baseline != baseline:
        st.rerun()
    return metrics, shown_threshold
