"""The cached unit page's histogram names what it counts: a channel mean on conv layers, the activation on Dense."""

from __future__ import annotations

from analysis.datasets import DatasetRole
from analysis.microscope.dataset_examples import DatasetExamplesSpec
from analysis.microscope.unit_pages import compute_unit_pages, load_unit_page
from analysis.models.registry import ModelRegistry, RegisterModelSpec


def test_histogram_label_follows_the_layer(loupe_home, tiny_cnn_path, tiny_dataset_path, monkeypatch):
    from matplotlib.axes import Axes

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    labels: list[str] = []
    set_xlabel = Axes.set_xlabel

    def recording(self, text, *args, **kwargs):
        labels.append(text)
        return set_xlabel(self, text, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_xlabel", recording)
    for layer, label, units in (("conv", "activation (channel mean)", 4), ("logits", "activation", 3)):
        labels.clear()
        spec = DatasetExamplesSpec(model_id="tiny", layer=layer, k=2)
        assert compute_unit_pages(spec) == units
        assert labels == [label] * units, layer
        assert load_unit_page(spec, 0).histogram_png.startswith(b"\x89PNG")
