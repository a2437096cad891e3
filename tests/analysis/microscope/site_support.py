"""A tiny image model with a precomputed Microscope, for the static-site tests (analysis and e2e)."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.microscope.featurevis_support import register_small_cnn

MODEL_ID = "tiny-site"
SIZE = 16
STEPS = 4  # renderings made with few steps; the export is told to show those (``steps=STEPS``)
LAYERS = ("conv1", "conv2")


def build_precomputed_model(tmp_path: Path, *, rendered: dict[str, tuple[int, ...]] | None = None) -> None:
    """Register the small CNN (16x16, conv1 and conv2 of 8 units) with 40 images, in ``LOUPE_HOME``.

    Computes both layers' dataset examples and unit pages, conv2's connections from conv1, and
    renders the units in ``rendered`` (default: every unit of both layers) with ``STEPS`` steps.
    """
    from analysis.microscope.circuits import ConnectionsSpec, compute_connections
    from analysis.microscope.dataset_examples import DatasetExamplesSpec
    from analysis.microscope.unit_pages import compute_unit_pages

    register_small_cnn(tmp_path, MODEL_ID, with_data=True, size=SIZE)
    for layer in LAYERS:
        compute_unit_pages(DatasetExamplesSpec(model_id=MODEL_ID, layer=layer))
    compute_connections(ConnectionsSpec(model_id=MODEL_ID, layer="conv2"))
    render(rendered if rendered is not None else {layer: tuple(range(8)) for layer in LAYERS})


def render(units: dict[str, tuple[int, ...]]) -> None:
    """Render ``units`` per layer with the channel objective, ``STEPS`` steps and the default batch.

    The default batch keeps the renderings under the key the export reads (a channel render's
    batch may belong to its key), and it renders a small layer's units together.
    """
    from analysis.microscope.featurevis import RenderSpec, render_units

    for layer, chosen in units.items():
        if chosen:
            render_units(RenderSpec(model_id=MODEL_ID, layer=layer, units=chosen, steps=STEPS))
