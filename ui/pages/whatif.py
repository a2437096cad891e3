"""/whatif?model=<id>&example=<row>[&set=FEATURE:VALUE,...][&dist=l1|l2][&group=COLUMN&other=VALUE][&pd=FEATURE]

Edit one datapoint of a tabular model and see its prediction and SHAP attributions change; the
nearest row with another prediction, the same datapoint in another group, and partial dependence.
Every choice lives in the URL, so an edited datapoint can be shared.
"""

import json

import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from ui.admission import JobRefused
from ui.cached_whatif import explain_datapoint, load_whatif
from ui.shared import model_picker, redact_paths
from ui.whatif_views import link, nearest_good_view, show_counterpart, show_editor, spec_from_link
from visualizers.explain import plot_attribution_bars, plot_waterfall
from visualizers.whatif import plot_partial_dependence

st.title("What-If")
st.caption(
    "Edit a datapoint, compare it with its nearest counterfactual and with another group, read partial dependence."
)
model = model_picker()
if model is None:
    st.stop()
try:
    result = load_whatif(spec_from_link(model.model_id))
except AnalysisInputError as error:
    st.error(redact_paths(str(error)), icon=":material/error:")
    st.page_link(**nearest_good_view(model))
    st.stop()
data = model.dataset(DatasetRole.DATA)

show_editor(result)
for note in result.notes:
    st.warning(note, icon=":material/warning:")
before, after = result.original_probabilities, result.edited_probabilities
binary = len(after) == 2
columns = st.columns(3)
columns[0].metric(f"Example {result.example} as in the data", f"class {result.original_class}")
columns[1].metric(
    "Edited" if result.edits else "Unedited",
    f"class {result.edited_class}",
    delta=f"{after[1] - before[1]:+.3f} P(class 1)" if binary and result.edits else None,
)
if binary:
    columns[2].metric("P(class 1)", f"{after[1]:.3f}", help=f"as in the data: {before[1]:.3f}")

st.subheader("Why: SHAP attributions")
try:
    attributions, row = explain_datapoint(result)
    left, right = st.columns(2)
    waterfall = plot_waterfall(attributions, example=row)
    waterfall.update_layout(title=f"{'Edited e' if result.edits else 'E'}xample {result.example}")
    left.plotly_chart(waterfall, width="stretch")
    bars = plot_attribution_bars(attributions, example=row)
    bars.update_layout(title=f"{'Edited e' if result.edits else 'E'}xample {result.example}: each feature's push")
    right.plotly_chart(bars, width="stretch")
except JobRefused as refusal:
    st.info(str(refusal), icon=":material/hourglass_top:")
except AnalysisInputError as error:
    st.warning(redact_paths(str(error)), icon=":material/warning:")

st.subheader("Nearest counterfactual")
distances = ["l2", "l1"]
distance = st.radio(
    "Distance over standardized features", distances, index=distances.index(result.distance.value), horizontal=True
)
if distance != result.distance.value:
    st.query_params["dist"] = distance
    st.rerun()
show_counterpart(result, result.counterfactual, model.model_id, what="counterfactual")

st.subheader("Same datapoint, other group")
groups = ["—", *(data.metadata_columns if data else ()), *result.feature_names]
chosen = st.selectbox("Group column", groups, index=groups.index(result.group_column) if result.group_column else 0)
if chosen != (result.group_column or "—"):
    st.query_params.from_dict(link(result, model.model_id, group=None if chosen == "—" else chosen, other=None))
    st.rerun()
if result.group_column:
    others = [g for g in result.group_choices if g != result.group_value]
    other = st.selectbox(
        f"This datapoint is in {result.group_column} = {result.group_value}; compare with",
        others,
        index=others.index(result.other_group.group),
    )
    if other != result.other_group.group:
        st.query_params["other"] = other
        st.rerun()
    show_counterpart(result, result.other_group, model.model_id, what=f"{result.group_column} = {other}")

st.subheader("Partial dependence and ICE")
curve = result.partial_dependence
feature = st.selectbox("Feature", result.feature_names, index=result.feature_names.index(curve.feature))
if feature != curve.feature:
    st.query_params["pd"] = feature
    st.rerun()
value = float(result.edited[result.feature_names.index(feature)])
st.plotly_chart(plot_partial_dependence(curve, value=value), width="stretch")
st.caption(
    f"scikit-learn's partial dependence over {len(curve.rows)} rows (seeded sample) on {len(curve.grid)} grid points "
    f"between the 5th and 95th percentiles · revision {result.revision[:12]}"
)
st.download_button(
    "Download JSON",
    json.dumps(result.to_dict(), indent=2),
    file_name=f"{model.model_id}-whatif-{result.example}.json",
    mime="application/json",
)
