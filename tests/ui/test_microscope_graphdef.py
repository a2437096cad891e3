"""AppTest: a frozen GraphDef (lucid-style layer names) browsed at the same Microscope links."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.datasets import DatasetRole
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
from analysis.microscope.featurevis import RenderSpec, render_units
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.analysis.models.graphdef_support import SIZE, write_tiny_graphdef
from tests.ui.app_support import markdown_images, open_app_page


def open_microscope(**params: str) -> AppTest:
    return open_app_page("ui/pages/microscope.py", params)


@pytest.fixture
def tiny_graph(loupe_home, tmp_path):
    data = tmp_path / "graph-data.npz"
    np.savez(
        data, x=np.random.default_rng(2).uniform(0, 1, (12, SIZE, SIZE, 3)).astype(np.float32), y=np.arange(12) % 6
    )
    return ModelRegistry().register(
        RegisterModelSpec(
            path=write_tiny_graphdef(tmp_path / "tiny_inception.pb"),
            model_id="tiny-graph",
            input_size=SIZE,
            datasets={DatasetRole.DATA: data},
        )
    )


def test_model_page_lists_the_graph_layers(tiny_graph):
    at = open_microscope(model="tiny-graph")
    assert not at.exception, at.exception
    assert at.title[0].value == "tiny-graph"
    assert "graphdef" in at.caption[0].value


def test_unit_page_of_a_prerendered_graphdef_unit(tiny_graph):
    """Pre-rendered with the page's defaults (RenderSpec's, like the render CLI), the unit link opens from the cache."""
    revision = tiny_graph.current.revision
    (rendering,) = render_units(RenderSpec(model_id="tiny-graph", layer="mixed3a", units=(1,), revision=revision))
    compute_dataset_examples(DatasetExamplesSpec(model_id="tiny-graph", layer="mixed3a", revision=revision))
    at = open_microscope(model="tiny-graph", layer="mixed3a", unit="1")
    assert not at.exception, at.exception
    assert not at.error
    assert at.title[0].value == "tiny-graph / mixed3a / unit 1"
    assert not at.get("progress")  # served from the cache: nothing rendered or computed
    assert len(markdown_images(at)) == 1  # the feature visualization
    assert len(at.get("image")) == 10  # 5 strongest and 5 weakest examples
    assert rendering.parameters["steps"] == 512


def test_unknown_graph_layer_names_the_graph_layers(tiny_graph):
    at = open_microscope(model="tiny-graph", layer="mixed4c", unit="447")
    assert not at.exception, at.exception
    assert at.error[0].value.startswith(
        "model 'tiny-graph' has no layer 'mixed4c'; layers with units are 'conv2d0', 'mixed3a_3x3', 'mixed3a_1x1' "
        "or 'mixed3a'"
    )
