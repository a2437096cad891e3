"""AppTest: layer-level techniques at their URLs (deepdream, caricature), a Dense-layer unit page, ties at 0."""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.datasets import DatasetRole
from analysis.microscope.dataset_examples import DatasetExamplesSpec, load_cached_dataset_examples
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.ui.app_support import markdown_images, open_app_page


def open_microscope(**params: str) -> AppTest:
    return open_app_page("ui/pages/microscope.py", params)


@pytest.fixture
def tiny_with_data(loupe_home, tiny_cnn_path, tiny_dataset_path) -> None:
    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )


def test_deepdream_opens_at_its_url_even_from_a_unit_link(tiny_with_data):
    at = open_microscope(model="tiny", layer="conv", unit="2", view="deepdream")
    assert not at.exception, at.exception
    assert at.title[0].value == "tiny / conv / DeepDream"
    assert dict(at.query_params) == {"model": "tiny", "layer": "conv", "view": "deepdream"}
    assert any("excites the whole layer at once" in caption.value for caption in at.caption)
    assert [alt for alt, _ in markdown_images(at)] == ["deepdream visualization of layer conv"]
    assert not at.get("image") and any("deepdream objective" in caption.value for caption in at.caption)
    assert any("view=deepdream" in code.value and "rev=" in code.value for code in at.code)  # the copy link


def test_caricature_shows_the_example_beside_its_caricature(tiny_with_data):
    at = open_microscope(model="tiny", layer="conv", view="caricature", example="3")
    assert not at.exception, at.exception
    assert at.title[0].value == "tiny / conv / Caricature of example 3"
    (example,) = at.get("image")
    assert example.proto.imgs[0].caption == "dataset example #3 (what the layer saw)"
    assert [alt for alt, _ in markdown_images(at)] == ["caricature visualization of layer conv"]
    assert any("caricature objective" in caption.value for caption in at.caption)
    assert any("view=caricature&example=3" in code.value for code in at.code)


@pytest.mark.parametrize(
    ("example", "message"),
    [
        ("99", "example 99 is out of range; the linked data set has examples 0-11"),
        ("x", "example 'x' is not an integer; the linked data set has examples 0-11"),
        (None, "view 'caricature' needs example=N, a row of the linked data set (0-11)"),
    ],
)
def test_a_bad_caricature_example_names_the_valid_range(tiny_with_data, example, message):
    params = {"model": "tiny", "layer": "conv", "view": "caricature"} | ({"example": example} if example else {})
    at = open_microscope(**params)
    assert not at.exception, at.exception
    assert [error.value for error in at.error] == [message]
    assert not at.get("image")


def test_the_unit_page_offers_deepdream_and_caricature_with_one_line_each(tiny_with_data):
    at = open_microscope(model="tiny", layer="conv", unit="1", view="negative")
    assert not at.exception, at.exception
    links = {link.value: link.proto for link in at.get("page_link") if link.proto.icon.startswith(":material/radio")}
    assert list(links) == ["channel", "neuron", "negative (shown)", "diversity", "deepdream", "caricature"]
    assert [view for view, link in links.items() if link.icon == ":material/radio_button_checked:"] == [
        "negative (shown)"
    ]
    assert "view=negative" in links["negative (shown)"].query_string and "unit=1" in links["neuron"].query_string
    assert "unit=" not in links["deepdream"].query_string  # the layer's page
    # The caricature starts from this unit's strongest example, computed by this very visit (a writer's).
    examples = load_cached_dataset_examples(DatasetExamplesSpec(model_id="tiny", layer="conv"))
    strongest = int(examples.arrays["top_mean_index"][1, 0])
    assert parse_qs(links["caricature"].query_string)["example"] == [str(strongest)]
    assert parse_qs(links["caricature"].query_string)["view"] == ["caricature"]
    assert any("after a ReLU the minimum is 0" in caption.value for caption in at.caption)


@pytest.fixture
def tabular_with_data(loupe_home, tmp_path) -> None:
    """A 4-feature MLP (dense1: 6 ReLU units) with a data set that names its features."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(6, activation="relu", name="dense1")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(hidden))
    model.save(tmp_path / "mlp.keras")
    x = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    names = np.array(["income_k", "debt_ratio", "age", "late_payments"])
    np.savez(tmp_path / "mlp-data.npz", x=x, y=np.arange(30) % 2, feature_names=names)
    ModelRegistry().register(
        RegisterModelSpec(
            path=tmp_path / "mlp.keras", model_id="mlp", datasets={DatasetRole.DATA: tmp_path / "mlp-data.npz"}
        )
    )


def test_a_dense_unit_page_shows_rows_of_features_and_says_activation(tabular_with_data):
    at = open_microscope(model="mlp", layer="dense1", unit="0")
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader][:1] == ["Dataset examples"]  # no empty visualization half
    assert "Feature visualization" not in [h.value for h in at.subheader]
    texts = " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)
    assert "ranked by the unit's activation" in texts and "channel mean" not in texts
    table = at.dataframe[0].value
    assert list(table.index) == ["income_k", "debt_ratio", "age", "late_payments"]
    assert table.columns[0] == "typical (median)" and table.columns[1].startswith("#")


def test_many_examples_at_the_minimum_are_counted_not_listed(loupe_home, tmp_path):
    from tests.analysis.microscope.featurevis_support import RED_UNIT, register_red_detector

    register_red_detector(tmp_path, with_data=True)
    at = open_microscope(model="red", layer="conv", unit=str(RED_UNIT))
    assert not at.exception, at.exception
    assert any("11 examples at 0" in m.value for m in at.markdown)
    weakest = [m.value for m in at.markdown].index("**Weakest**")
    assert "11 examples at 0" in at.markdown[weakest + 1].value
