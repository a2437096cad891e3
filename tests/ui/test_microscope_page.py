"""AppTest: Microscope deep links, bad links and the layer grid (tiny model, no rendering)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.ui.app_support import markdown_images, open_app_page


def open_microscope(**params: str) -> AppTest:
    return open_app_page("ui/pages/microscope.py", params)


@pytest.fixture
def tiny_registered(loupe_home, tiny_cnn_path) -> None:
    ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "nope"}, "unknown model 'nope'; registered models are 'tiny'"),
        (
            {"model": "tiny", "layer": "conv9"},
            "model 'tiny' has no layer 'conv9'; layers with units are 'conv', 'gap' or 'logits'",
        ),
        ({"model": "tiny", "layer": "conv", "unit": "99"}, "unit 99 is out of range; layer 'conv' has units 0-3"),
        ({"model": "tiny", "layer": "conv", "unit": "1.5"}, "unit '1.5' is not an integer; layer 'conv' has units 0-3"),
        (
            {"model": "tiny", "layer": "conv", "unit": "1", "view": "garbage"},
            "unknown view 'garbage'; valid views are 'channel', 'neuron', 'negative', 'diversity', 'deepdream' or "
            "'caricature'",
        ),
        ({"model": "tiny", "rev": "not-hex"}, "revision 'not-hex' is not a hash prefix (4-64 hex digits)"),
        ({"model": "%00'\";--", "layer": "x"}, "unknown model '%00\\'\";--'; registered models are 'tiny'"),
    ],
)
def test_bad_links_show_an_error_and_a_way_out(tiny_registered, params, message):
    at = open_microscope(**params)
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(message)


def test_model_page_lists_layers(tiny_registered):
    at = open_microscope(model="tiny")
    assert not at.exception
    assert at.title[0].value == "tiny"


def test_layer_page_shows_a_placeholder_tile_per_unit(tiny_registered):
    at = open_microscope(model="tiny", layer="conv")
    assert not at.exception
    assert at.title[0].value == "tiny / conv"
    grid = next(m.value for m in at.markdown if "loupe-grid" in m.value)
    assert grid.count('class="loupe-tile"') == 4
    assert any("4 of the units here are not rendered yet" in caption.value for caption in at.caption)


def test_index_without_models(loupe_home):
    at = open_microscope()
    assert not at.exception
    assert any("No models registered yet" in info.value for info in at.info)


@pytest.mark.slow
def test_unit_page_renders_on_demand_then_serves_from_cache(loupe_home, tiny_cnn_path, tiny_dataset_path):
    from analysis.datasets import DatasetRole

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    at = open_microscope(model="tiny", layer="conv", unit="2")
    assert not at.exception, at.exception
    assert any("first in the background worker's queue" in info.value for info in at.info)
    at = at.button(key="render-here").click().run()  # rendered in this server instead of by the worker
    assert not at.exception, at.exception
    assert at.title[0].value == "tiny / conv / unit 2"
    assert len(markdown_images(at)) == 1  # the feature visualization
    assert len(at.get("image")) == 10  # 5 strongest and 5 weakest examples
    assert len(at.get("plotly_chart")) == 1  # the activation histogram
    labels = sorted(button.label for button in at.get("download_button"))
    assert labels == ["Download JSON", "Download PNG", "Download unit data (JSON)"]
    assert any("rev=" in code.value for code in at.code)  # the pinned "copy link"
    again = open_microscope(model="tiny", layer="conv", unit="2")
    assert not again.exception
    assert not again.get("progress")  # served from the cache: nothing to render


def test_unit_page_says_when_a_dead_unit_was_restarted_from_a_dataset_example(loupe_home, tmp_path):
    from tests.analysis.microscope.featurevis_support import RED_UNIT, register_red_detector

    register_red_detector(tmp_path, with_data=True)
    at = open_microscope(model="red", layer="conv", unit=str(RED_UNIT)).button(key="render-here").click().run()
    assert not at.exception, at.exception
    notes = [box.value for box in at.info if "strongest dataset example" in box.value]
    assert notes and "dataset row 7" in notes[0] and notes[0].startswith("Lucid's random start left this unit at 0")


def test_a_view_the_layer_cannot_show_is_an_error_but_the_examples_still_show(
    loupe_home, tiny_cnn_path, tiny_dataset_path
):
    from analysis.datasets import DatasetRole

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    at = open_microscope(model="tiny", layer="logits", unit="0", view="neuron")
    assert not at.exception, at.exception
    assert any("objective 'neuron' needs a layer with [height, width, channels] outputs" in e.value for e in at.error)
    assert [h.value for h in at.subheader] == ["Feature visualization", "Dataset examples", "Connections"]
    assert len(at.get("plotly_chart")) == 1  # the activation histogram
