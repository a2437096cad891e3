"""The techniques table against the objective classes: one contract test per technique and layer shape."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import AnalysisInputError, describe_choices
from analysis.microscope.featurevis.spec import ObjectiveKind, RenderSpec
from analysis.microscope.techniques import (
    BY_VIEW,
    TECHNIQUES,
    VIEWS,
    build_objective,
    technique_for_view,
    techniques_for,
)
from analysis.models.summary import LayerInfo

LAYERS = {
    "conv [8, 8, 16]": LayerInfo(name="conv", kind="Conv2D", output_shape=(8, 8, 16), units=16),
    "sequence [12, 16]": LayerInfo(name="seq", kind="Conv1D", output_shape=(12, 16), units=16),
    "dense [16]": LayerInfo(name="dense", kind="Dense", output_shape=(16,), units=16),
}


def spec_for(technique, layer: LayerInfo) -> RenderSpec:
    return RenderSpec(
        model_id="m",
        layer=layer.name,
        units=(0,) if technique.per_unit else (),
        objective=technique.kind,
        direction=(1.0,) * layer.units if technique.kind is ObjectiveKind.DIRECTION else None,
        example=0 if technique.needs_example else None,
        batch=4,
    )


def reference_for(layer: LayerInfo) -> np.ndarray:
    """What a caricature's example would give at ``layer``: activations of its output shape."""
    return np.linspace(0.0, 1.0, int(np.prod(layer.output_shape)), dtype=np.float32).reshape(layer.output_shape)


def test_every_objective_kind_has_exactly_one_technique():
    assert sorted(t.kind for t in TECHNIQUES) == sorted(ObjectiveKind)
    assert all(t.per_unit == t.kind.per_unit for t in TECHNIQUES)
    assert all(t.summary and t.title for t in TECHNIQUES)


@pytest.mark.parametrize("technique", TECHNIQUES, ids=lambda t: t.kind.value)
@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_declared_compatibility_matches_the_objective_classes(technique, layer_name):
    """``reason_unavailable`` (TensorFlow-free, for pages) agrees with the objectives' ``is_compatible``."""
    from analysis.microscope.featurevis.objectives import Sum, check_objective_fits

    layer = LAYERS[layer_name]
    objective = build_objective(spec_for(technique, layer), reference=reference_for(layer))
    terms = objective.terms if isinstance(objective, Sum) else ((1.0, objective),)
    classes_allow = all(term.is_compatible(layer) for _, term in terms)
    assert (technique.reason_unavailable(layer) is None) == classes_allow
    if classes_allow:
        check_objective_fits(objective, {layer.name: layer})
    else:
        assert layer.name in technique.reason_unavailable(layer)
        assert str(list(layer.output_shape)) in technique.reason_unavailable(layer)


def test_pages_offer_only_techniques_with_a_view_that_apply():
    assert [t.view for t in techniques_for(LAYERS["conv [8, 8, 16]"])] == list(VIEWS)
    dense = [t.view for t in techniques_for(LAYERS["dense [16]"])]
    assert "neuron" not in dense and "diversity" not in dense and "channel" in dense
    assert "caricature" in dense and "deepdream" in dense


@pytest.mark.parametrize("layer_name", sorted(LAYERS))
def test_techniques_that_start_from_an_example_need_a_linked_data_set(layer_name):
    layer = LAYERS[layer_name]
    without = [t.view for t in techniques_for(layer, dataset_linked=False)]
    assert "caricature" not in without
    assert without == [t.view for t in techniques_for(layer) if not t.needs_example]
    reason = BY_VIEW["caricature"].reason_unavailable(layer, dataset_linked=False)
    assert reason == "Caricature starts from a dataset example, and no data set is linked to this model"


def test_a_technique_that_needs_an_example_refuses_to_build_without_its_activations():
    with pytest.raises(ValueError, match="needs the layer's activations on its example"):
        build_objective(spec_for(BY_VIEW["caricature"], LAYERS["dense [16]"]))


def test_caricature_reference_must_match_the_layer():
    from analysis.microscope.featurevis.objectives import check_objective_fits

    layer = LAYERS["conv [8, 8, 16]"]
    objective = build_objective(spec_for(BY_VIEW["caricature"], layer), reference=np.ones((4, 4, 16), np.float32))
    with pytest.raises(AnalysisInputError, match=r"^caricature reference has shape \[4, 4, 16\] but layer 'conv'"):
        check_objective_fits(objective, {layer.name: layer})


def test_an_unknown_view_names_the_valid_ones():
    assert technique_for_view(" DeepDream ") is BY_VIEW["deepdream"]
    with pytest.raises(AnalysisInputError) as caught:
        technique_for_view("sparkle")
    assert str(caught.value) == f"unknown view 'sparkle'; valid views are {describe_choices(VIEWS)}"
