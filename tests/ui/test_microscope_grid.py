"""AppTest: the layer grid (uniform tiles, dataset-example placeholders, pagination) and the cached unit page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.datasets import DatasetRole
from analysis.microscope.precompute_queue import JobKind, PrecomputeQueue, enqueue_record
from analysis.microscope.precompute_worker import execute_claim
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.ui.app_support import open_app_page


def open_microscope(**params: str):
    return open_app_page("ui/pages/microscope.py", params)


def grid_html(at) -> str:
    return next(m.value for m in at.markdown if "loupe-grid" in m.value)


@pytest.fixture
def tiny_with_examples(loupe_home: Path, tiny_cnn_path: Path, tiny_dataset_path: Path) -> None:
    """The tiny model, registered and queued, with its conv layer's examples pass done by a worker."""
    record = ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    queue = PrecomputeQueue()
    enqueue_record(record, queue)
    while (claim := queue.claim("test", max_units=1)).kind is JobKind.EXAMPLES:
        if claim.layer == "conv":
            execute_claim(claim)
        queue.complete(claim, 1.0)
    queue.release(claim)


def test_pending_units_show_aligned_tiles_of_their_strongest_example(tiny_with_examples) -> None:
    at = open_microscope(model="tiny", layer="conv")
    assert not at.exception, at.exception
    html = grid_html(at)
    tiles = re.findall(r'<a class="loupe-tile" href="([^"]+)"[^>]*><div class="frame">(.*?)</div>', html)
    assert [href for href, _ in tiles] == [f"microscope?model=tiny&amp;layer=conv&amp;unit={u}" for u in range(4)]
    assert all('src="data:image/png;base64,' in frame and ">example<" in frame for _, frame in tiles)
    assert "aspect-ratio:1/1" in html  # every tile the same square, images cropped to fit
    assert any("0 of 4 units rendered; 4 queued" in c.value for c in at.caption)


def test_a_cached_unit_page_never_loads_the_data_set(tiny_with_examples, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a cached unit page loaded the data set")

    monkeypatch.setattr("analysis.datasets.load_npz", refuse)
    monkeypatch.setattr("analysis.microscope.dataset_examples.load_npz", refuse)
    monkeypatch.setattr("analysis.microscope.unit_pages.load_npz", refuse)
    monkeypatch.setattr("ui.unit_examples.load_npz", refuse)
    at = open_microscope(model="tiny", layer="conv", unit="2")
    assert not at.exception, at.exception
    assert [len(image.value) for image in at.get("image")] == [5, 5, 1]  # strongest, weakest, the histogram
    assert not at.get("plotly_chart")
    assert [b.label for b in at.get("download_button")] == ["Download unit data (JSON)"]


@pytest.fixture
def wide_registered(loupe_home: Path, tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(70, 3, name="wide")(inputs)
    outputs = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    path = tmp_path / "wide.keras"
    keras.Model(inputs, outputs).save(path)
    ModelRegistry().register(RegisterModelSpec(path=path, model_id="wide"))


def test_a_layer_with_many_units_paginates(wide_registered) -> None:
    first = open_microscope(model="wide", layer="wide")
    assert not first.exception, first.exception
    assert grid_html(first).count('class="loupe-tile"') == 64
    assert any("Page 1 of 2 (units 0–63)" in m.value for m in first.markdown)
    second = open_microscope(model="wide", layer="wide", page="2")
    assert not second.exception
    assert re.findall(r"unit=(\d+)", grid_html(second)) == [str(u) for u in range(64, 70)]
    assert second.query_params["page"] in ("2", ["2"])  # kept in the canonical link
    bad = open_microscope(model="wide", layer="wide", page="9")
    assert not bad.exception
    assert bad.error[0].value == "page '9' does not exist; this layer has pages 1-2"
