"""Microscope links: every malformed or stale link names the bad value, the valid ones, and a way out."""

from __future__ import annotations

import pytest

from analysis.microscope.unit_links import BadLinkError, resolve_unit_link
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.conftest import build_tiny_cnn


@pytest.fixture
def registry(loupe_home, tiny_cnn_path) -> ModelRegistry:
    registry = ModelRegistry()
    registry.register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))
    return registry


def test_levels_of_a_link(registry):
    assert resolve_unit_link({}, registry) is None
    model = resolve_unit_link({"model": "tiny"}, registry)
    assert model.layer is None and not model.pinned
    layer = resolve_unit_link({"model": "tiny", "layer": "conv"}, registry)
    assert layer.layer.name == "conv" and layer.unit is None
    unit = resolve_unit_link({"model": "tiny", "layer": "conv", "unit": "3", "view": "Neuron"}, registry)
    assert (unit.unit, unit.view, unit.stale) == (3, "neuron", False)
    assert unit.query() == {"model": "tiny", "layer": "conv", "unit": "3", "view": "neuron"}
    assert unit.query(unit=2, pin=True) == {
        "model": "tiny",
        "layer": "conv",
        "unit": "2",
        "rev": unit.revision.short,
        "view": "neuron",
    }
    assert unit.query(layer="gap") == {"model": "tiny", "layer": "gap"}


@pytest.mark.parametrize(
    ("params", "message", "nearest"),
    [
        ({"model": "nope"}, "unknown model 'nope'; registered models are 'tiny'", {}),
        (
            {"model": "tiny", "layer": "conv9"},
            "model 'tiny' has no layer 'conv9'; layers with units are 'conv', 'gap' or 'logits'",
            {"model": "tiny"},
        ),
        (
            {"model": "tiny", "layer": "conv", "unit": "4"},
            "unit 4 is out of range; layer 'conv' has units 0-3",
            {"model": "tiny", "layer": "conv", "unit": "3"},
        ),
        (
            {"model": "tiny", "layer": "conv", "unit": "-1"},
            "unit -1 is out of range; layer 'conv' has units 0-3",
            {"model": "tiny", "layer": "conv", "unit": "0"},
        ),
        (
            {"model": "tiny", "layer": "conv", "unit": "two"},
            "unit 'two' is not an integer; layer 'conv' has units 0-3",
            {"model": "tiny", "layer": "conv"},
        ),
        (
            {"model": "tiny", "layer": "conv", "unit": "1", "view": "xray"},
            "unknown view 'xray'; valid views are "
            "'channel', 'neuron', 'negative', 'diversity', 'deepdream' or 'caricature'",
            {"model": "tiny", "layer": "conv", "unit": "1"},
        ),
        (
            {"model": "tiny", "layer": "<script>", "unit": "1"},
            "model 'tiny' has no layer '<script>'; layers with units are 'conv', 'gap' or 'logits'",
            {"model": "tiny"},
        ),
    ],
)
def test_bad_links(registry, params, message, nearest):
    with pytest.raises(BadLinkError) as error:
        resolve_unit_link(params, registry)
    assert str(error.value) == message
    assert error.value.nearest == nearest


def test_pinned_revision_that_changed_is_stale_but_still_served(registry, tmp_path):
    first = registry.get("tiny").current
    build_tiny_cnn(seed=5).save(tmp_path / "v2.keras")
    registry.register(RegisterModelSpec(path=tmp_path / "v2.keras", model_id="tiny"))
    link = resolve_unit_link({"model": "tiny", "layer": "conv", "unit": "0", "rev": first.short}, registry)
    assert link.stale and link.revision.revision == first.revision
    assert "rev" not in link.query(pin=False)


def test_unknown_revision_offers_the_model_page(registry):
    current = registry.get("tiny").current
    with pytest.raises(BadLinkError) as error:
        resolve_unit_link({"model": "tiny", "layer": "conv", "unit": "0", "rev": "abcdef"}, registry)
    assert str(error.value) == (
        f"model 'tiny' has no revision 'abcdef'; its revisions are '{current.short}' (current {current.short}) "
        f"— the current revision is {current.short}"
    )
    assert error.value.nearest == {"model": "tiny"}


@pytest.fixture
def registry_with_data(loupe_home, tiny_cnn_path, tiny_dataset_path) -> ModelRegistry:
    from analysis.datasets import DatasetRole

    registry = ModelRegistry()
    registry.register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    return registry


def test_layer_level_views_address_the_layer_page(registry_with_data):
    dream = resolve_unit_link({"model": "tiny", "layer": "conv", "unit": "2", "view": "deepdream"}, registry_with_data)
    assert (dream.unit, dream.view, dream.layer_view) == (None, "deepdream", True)
    assert dream.query() == {"model": "tiny", "layer": "conv", "view": "deepdream"}
    assert dream.query(unit=2) == {"model": "tiny", "layer": "conv", "unit": "2"}
    assert dream.query(layer="gap") == {"model": "tiny", "layer": "gap"}
    caricature = resolve_unit_link(
        {"model": "tiny", "layer": "conv", "view": "caricature", "example": " 11 "}, registry_with_data
    )
    assert (caricature.unit, caricature.example, caricature.layer_view) == (None, 11, True)
    assert caricature.query(pin=True) == {
        "model": "tiny",
        "layer": "conv",
        "rev": caricature.revision.short,
        "view": "caricature",
        "example": "11",
    }
    assert caricature.query(example=3)["example"] == "3"
    unit = resolve_unit_link({"model": "tiny", "layer": "conv", "unit": "1", "example": "4"}, registry_with_data)
    assert unit.query() == {"model": "tiny", "layer": "conv", "unit": "1"} and not unit.layer_view


@pytest.mark.parametrize(
    ("example", "message", "nearest"),
    [
        (None, "view 'caricature' needs example=N, a row of the linked data set (0-11)", "0"),
        ("12", "example 12 is out of range; the linked data set has examples 0-11", "11"),
        ("-3", "example -3 is out of range; the linked data set has examples 0-11", "0"),
        ("first", "example 'first' is not an integer; the linked data set has examples 0-11", "0"),
    ],
)
def test_bad_caricature_examples(registry_with_data, example, message, nearest):
    params = {"model": "tiny", "layer": "conv", "view": "caricature"} | ({"example": example} if example else {})
    with pytest.raises(BadLinkError) as error:
        resolve_unit_link(params, registry_with_data)
    assert str(error.value) == message
    assert error.value.nearest == {"model": "tiny", "layer": "conv", "view": "caricature", "example": nearest}


def test_caricature_without_a_linked_data_set(registry):
    with pytest.raises(BadLinkError) as error:
        resolve_unit_link({"model": "tiny", "layer": "conv", "view": "caricature", "example": "0"}, registry)
    assert str(error.value) == (
        "view 'caricature' starts from a dataset example, and model 'tiny' has no linked data set"
    )
    assert error.value.nearest == {"model": "tiny", "layer": "conv"}
