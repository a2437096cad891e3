"""/explain?model=<id>&example=<index>[&target=<class, layer:unit or predicted>][&rev=<hash prefix>][&view=global]

One explained example at a stable link: a waterfall and attribution bars for tabular models, a
heat overlay for image models; for tabular models, a global view (beeswarm and feature importance),
shown when the link says ``view=global``.
"""

import json

import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.explain import ExplanationSpec
from analysis.models.summary import OutputKind
from ui.cached_explain import explain_with_progress
from ui.shared import model_picker, user_errors
from visualizers.explain import (
    attribution_overlay,
    attribution_table,
    output_meaning,
    plot_attribution_bars,
    plot_attribution_map,
    plot_beeswarm,
    plot_waterfall,
)
from visualizers.microscope import to_display_image

GLOBAL_EXAMPLES = 200

st.title("Explain a prediction")
model = model_picker()
if model is None:
    st.stop()
with user_errors():
    text = st.query_params.get("example", "0")
    if not text.strip().isdecimal():  # isdigit() would let '²' through to int()
        raise AnalysisInputError(f"example {text!r} must be a row index of the data set (0, 1, 2, ...)")
    example, target, revision = int(text), st.query_params.get("target", "predicted"), st.query_params.get("rev")
    spec = ExplanationSpec(model_id=model.model_id, examples=(example,), target=target, revision=revision)
controls = st.columns(2)
chosen_example = controls[0].number_input("Example (row of the data set)", min_value=0, value=example, step=1)
chosen_target = controls[1].text_input("Target: a class, LAYER:UNIT or 'predicted'", value=target)
if (chosen_example, chosen_target) != (example, target):
    st.query_params.update({"example": str(chosen_example), "target": chosen_target})
    st.rerun()

with user_errors():
    result = explain_with_progress(spec, "Explaining this example…")
explained = f"class {result.classes[0]}" if result.classes[0] >= 0 else f"unit {result.target.label()}"
summary = model.current.summary
meaning = output_meaning(
    summary.layers[-1].name if summary.layers and result.classes[0] >= 0 else None,
    binary=summary.output_kind is OutputKind.BINARY_PROBABILITY,
    class_index=int(result.classes[0]) if result.classes[0] >= 0 else None,
)
if result.classes[0] < 0:
    meaning = f"unit {result.target.label()}"
st.caption(
    f"{result.explainer.value} explainer · {explained} · output {result.outputs[0]:.4g}, expected value "
    f"{result.expected_values[0]:.4g} over {result.background} background rows (seed {result.seed}) · "
    f"additivity error {result.additivity_errors[0]:+.2g} · revision {result.revision[:12]}"
)
if result.is_image:
    image = to_display_image(result.inputs[0], model.current.summary.input_range)
    columns = st.columns(3)
    columns[0].image(image, caption=f"example {example}", width="stretch")
    columns[1].image(attribution_overlay(image, result.values[0]), caption="red: for, blue: against", width="stretch")
    columns[2].plotly_chart(plot_attribution_map(result, example=example), width="stretch")
else:
    left, right = st.columns(2)
    left.plotly_chart(plot_waterfall(result, example=example, meaning=meaning), width="stretch")
    right.plotly_chart(plot_attribution_bars(result, example=example, meaning=meaning), width="stretch")
    st.table(attribution_table(result, example=example, meaning=meaning), hide_index=True)
    dataset = model.dataset(DatasetRole.DATA)
    count = min(GLOBAL_EXAMPLES, dataset.n_examples if dataset else GLOBAL_EXAMPLES)
    st.subheader("Global view")
    if st.query_params.get("view") not in (None, "global"):
        st.warning(
            f"view `{st.query_params['view']}` in the link is not a view of this page; "
            "`view=global` opens the global view (leave it out for this example alone).",
            icon=":material/warning:",
        )
    show_global = st.toggle(
        f"Explain the first {count} examples (beeswarm and feature importance)",
        value=st.query_params.get("view") == "global",
        key="global",
    )
    if show_global != (st.query_params.get("view") == "global"):
        if show_global:
            st.query_params["view"] = "global"
        else:
            del st.query_params["view"]
    if show_global:
        overview_spec = ExplanationSpec(
            model_id=model.model_id, examples=tuple(range(count)), target=target, revision=revision
        )
        with user_errors():
            overview = explain_with_progress(overview_spec, f"Explaining {count} examples…")
        left, right = st.columns(2)
        left.plotly_chart(plot_beeswarm(overview, meaning=meaning), width="stretch")
        right.plotly_chart(plot_attribution_bars(overview, meaning=meaning), width="stretch")
payload = result.to_dict()
payload["dataset"] = {
    **payload["dataset"],
    "path": payload["dataset"]["path"].rsplit("/", 1)[-1],
}  # a name, never a server path
st.download_button(
    "Download JSON",
    json.dumps(payload, indent=2),
    file_name=f"{model.model_id}-example-{example}.json",
    mime="application/json",
)
