"""Objectives: one contract table, every contract test iterates over it (captum's test_config style)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from analysis.microscope.featurevis import objectives as o
from analysis.models.summary import LayerInfo
from tests.analysis.microscope.featurevis_support import build_small_cnn

VECTOR = tuple(float(v) for v in np.linspace(-1, 1, 8))
# A caricature's reference: conv2's activations on some example, [16, 16, 8] for the 32x32 CNN.
REFERENCE = np.random.default_rng(3).uniform(0, 1, (16, 16, 8)).astype(np.float32)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], o.Objective]
    rises: bool = True  # lucid's check: the value rises after a few optimiser steps


# The contract table: every objective (and its negation and compositions) once.
CASES = (
    Case("channel", lambda: o.channel("conv2", 5)),
    Case("channel, each item's own unit", lambda: o.channel("conv2")),
    Case("neuron", lambda: o.neuron("conv2", 5)),
    Case("neuron, each item's own unit", lambda: o.neuron("conv2")),
    Case("negative channel", lambda: -o.channel("conv1", 2)),
    Case("negative neuron", lambda: -o.neuron("conv1", 2)),
    Case("direction", lambda: o.direction("conv2", VECTOR)),
    Case("direction with cosine", lambda: o.direction("conv2", VECTOR, cossim_pow=1.0)),
    Case("deepdream", lambda: o.deepdream("conv2")),
    Case("diversity", lambda: o.channel("conv2", 5) - 100 * o.diversity("conv2", 2)),
    Case("caricature", lambda: o.caricature("conv2", REFERENCE)),
    Case("caricature, plain dot product", lambda: o.caricature("conv2", REFERENCE, cossim_pow=0.0)),
    Case("weighted sum over two layers", lambda: 0.5 * o.channel("conv1", 2) + o.neuron("conv2", 5) / 2),
)
IDS = [case.name for case in CASES]


@pytest.fixture(scope="module")
def setup():
    """The small CNN's extractor for both conv layers, and a batch of 2 seeded 32x32 images."""
    import tensorflow as tf

    from analysis.microscope.featurevis.extractor import build_extractor

    extractor = build_extractor(build_small_cnn(seed=1), ["conv1", "conv2"])
    images = tf.constant(np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32))
    units = tf.constant([5, 2], dtype=tf.int32)
    return extractor, images, units


def values(objective: o.Objective, setup) -> np.ndarray:
    extractor, images, units = setup
    return objective.per_item(o.Activations(layers=extractor(images), units=units)).numpy()


def test_table_covers_every_objective_class():
    covered = set()
    for case in CASES:
        objective = case.make()
        terms = objective.terms if isinstance(objective, o.Sum) else ((1.0, objective),)
        covered |= {type(term) for _, term in terms}
    assert covered == set(o.OBJECTIVE_CLASSES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_per_item_is_a_finite_float_per_batch_item(case, setup):
    result = values(case.make(), setup)
    assert result.shape == (2,) and result.dtype == np.float32 and np.isfinite(result).all()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_declares_the_layers_it_reads(case):
    assert set(case.make().layers) <= {"conv1", "conv2"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_composes_linearly(case, setup):
    objective = case.make()
    base = values(objective, setup)
    np.testing.assert_allclose(values(3 * objective, setup), 3 * base, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values(-objective, setup), -base, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values(objective - objective, setup), 0.0, atol=1e-5)
    deepdream = values(o.deepdream("conv1"), setup)
    np.testing.assert_allclose(values(objective + o.deepdream("conv1"), setup), base + deepdream, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_has_a_gradient_with_respect_to_the_image(case, setup):
    import tensorflow as tf

    extractor, images, units = setup
    image = tf.Variable(images)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(case.make().per_item(o.Activations(layers=extractor(image), units=units)))
    assert float(tf.reduce_sum(tf.abs(tape.gradient(total, image)))) > 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_objective_rises_after_a_few_steps(case):
    """Lucid's tests/optvis/test_objectives.py: optimise a 32x32 image a few steps; the value rises."""
    from analysis.microscope.featurevis.extractor import build_extractor
    from analysis.microscope.featurevis.optimize import BatchOptimizer
    from analysis.microscope.featurevis.param import initial_batch_spectrum
    from analysis.microscope.featurevis.transforms import draw_transforms

    objective = case.make()
    optimizer = BatchOptimizer(
        extractor=build_extractor(build_small_cnn(seed=1), objective.layers),
        objective=objective,
        batch=2,
        image_hw=(32, 32),
        canvas_hw=(32, 32),
        channels=3,
        input_range=(0.0, 1.0),
        learning_rate=0.05,
    )
    rngs = [np.random.default_rng([0, item]) for item in range(2)]
    spectrum = initial_batch_spectrum(rngs, 32, 32)
    transforms = np.stack([draw_transforms(rng, 12, (32, 32), (32, 32)) for rng in rngs], axis=1)
    units = np.array([5, 2], dtype=np.int32)
    before = optimizer.run(initial_spectrum=spectrum, transforms=transforms[:0], units=units, warm_start_steps=0)
    after = optimizer.run(initial_spectrum=spectrum, transforms=transforms, units=units, warm_start_steps=4)
    assert after.values.sum() > before.values.sum()


def test_each_item_unit_matches_fixed_units(setup):
    """``channel(layer)`` with item units (5, 2) is lucid's ``sum(channel(layer, u_i, batch=i))``."""
    each = values(o.channel("conv2"), setup)
    assert each[0] == pytest.approx(values(o.channel("conv2", 5), setup)[0])
    assert each[1] == pytest.approx(values(o.channel("conv2", 2), setup)[1])


def test_diversity_is_lucids_pairwise_gram_similarity(setup):
    extractor, images, _ = setup
    acts = extractor(images)["conv2"].numpy()
    flat = acts.reshape(2, -1, acts.shape[-1])
    grams = np.einsum("bpc,bpd->bcd", flat, flat).reshape(2, -1)
    grams /= np.linalg.norm(grams, axis=1, keepdims=True)
    lucid = (grams[0] @ grams[1] + grams[1] @ grams[0]) / 2  # sum over i != j, divided by the batch size
    assert values(o.diversity("conv2", 2), setup).sum() / 2 == pytest.approx(lucid, rel=1e-5)


@pytest.mark.parametrize("power", [0.0, 1.0, 2.0])
def test_caricature_is_the_dot_product_times_floored_cosine_to_a_power(setup, power):
    extractor, images, _ = setup
    acts = extractor(images)["conv2"].numpy().reshape(2, -1)
    reference = REFERENCE.reshape(-1)
    dot = acts @ reference
    cosine = dot / np.linalg.norm(acts, axis=1) / np.linalg.norm(reference)
    expected = dot * np.maximum(0.1, cosine) ** power
    np.testing.assert_allclose(values(o.caricature("conv2", REFERENCE, power), setup), expected, rtol=1e-4)


def test_caricature_fits_any_layer_whose_shape_its_reference_has():
    from analysis.errors import AnalysisInputError

    spatial = LayerInfo(name="conv", kind="Conv2D", output_shape=(6, 6, 4), units=4)
    dense = LayerInfo(name="dense", kind="Dense", output_shape=(4,), units=4)
    assert o.Caricature.is_compatible(spatial) and o.Caricature.is_compatible(dense)
    assert not o.Caricature.needs_unit and not o.Caricature.couples_items
    layers = {"conv": spatial, "dense": dense}
    o.check_objective_fits(o.caricature("conv", np.ones((6, 6, 4))), layers)
    o.check_objective_fits(o.caricature("dense", np.ones(4)), layers)
    with pytest.raises(AnalysisInputError, match=r"^caricature reference has shape \[6, 6, 4\] but layer 'dense'"):
        o.check_objective_fits(o.caricature("dense", np.ones((6, 6, 4))), layers)


def test_neuron_is_the_centre_value(setup):
    extractor, images, _ = setup
    acts = extractor(images)["conv2"].numpy()  # [2, 16, 16, 8]
    np.testing.assert_allclose(values(o.neuron("conv2", 5), setup), acts[:, 8, 8, 5], rtol=1e-6)


def test_capabilities_are_declared_on_the_classes():
    spatial = LayerInfo(name="conv", kind="Conv2D", output_shape=(6, 6, 4), units=4)
    dense = LayerInfo(name="dense", kind="Dense", output_shape=(4,), units=4)
    assert (o.Channel.needs_unit, o.Neuron.needs_unit, o.DeepDream.needs_unit) == (True, True, False)
    assert o.Diversity.couples_items and not o.Channel.couples_items
    assert o.Neuron.is_compatible(spatial) and not o.Neuron.is_compatible(dense)
    assert o.Channel.is_compatible(dense) and o.DeepDream.is_compatible(dense)


def test_check_objective_fits_names_the_problem():
    from analysis.errors import AnalysisInputError

    layers = {
        "conv": LayerInfo(name="conv", kind="Conv2D", output_shape=(6, 6, 4), units=4),
        "dense": LayerInfo(name="dense", kind="Dense", output_shape=(3,), units=3),
    }
    with pytest.raises(AnalysisInputError, match=r"^unit 4 is out of range for layer 'conv'; valid units are 0-3$"):
        o.check_objective_fits(o.channel("conv", 4), layers)
    with pytest.raises(AnalysisInputError, match=r"^unknown layer 'nope'; layers with units are 'conv' or 'dense'$"):
        o.check_objective_fits(o.channel("conv", 1) + o.deepdream("nope"), layers)
    with pytest.raises(AnalysisInputError, match=r"objective 'neuron' needs a layer with \[height, width, channels\]"):
        o.check_objective_fits(o.neuron("dense", 0), layers)
    with pytest.raises(AnalysisInputError, match=r"^direction has 2 values but layer 'conv' has 4 channels$"):
        o.check_objective_fits(o.direction("conv", (1.0, 0.0)), layers)


def test_diversity_term_lowers_pairwise_gram_similarity():
    """Lucid's check: with the diversity term, the batch's pairwise Gram similarity falls."""
    from analysis.microscope.featurevis.extractor import build_extractor
    from analysis.microscope.featurevis.optimize import BatchOptimizer
    from analysis.microscope.featurevis.param import initial_batch_spectrum
    from analysis.microscope.featurevis.transforms import draw_transforms

    model = build_small_cnn(seed=1)
    rngs = [np.random.default_rng([7, item]) for item in range(4)]
    spectrum = initial_batch_spectrum(rngs, 32, 32)
    transforms = np.stack([draw_transforms(rng, 48, (32, 32), (32, 32)) for rng in rngs], axis=1)
    units = np.full(4, 5, dtype=np.int32)
    similarity = {}
    for label, objective in (
        ("plain", o.channel("conv2")),
        ("diverse", o.channel("conv2") - 100 * o.diversity("conv2", 4)),
    ):
        optimizer = BatchOptimizer(
            extractor=build_extractor(model, ["conv2"]),
            objective=objective,
            batch=4,
            image_hw=(32, 32),
            canvas_hw=(32, 32),
            channels=3,
            input_range=(0.0, 1.0),
            learning_rate=0.05,
            images_per_unit=4,
        )
        result = optimizer.run(initial_spectrum=spectrum, transforms=transforms, units=units, warm_start_steps=16)
        import tensorflow as tf

        acts = optimizer.extractor(tf.constant(result.images))
        penalty = o.diversity("conv2", 4).per_item(o.Activations(layers=acts, units=tf.constant(units)))
        similarity[label] = float(tf.reduce_sum(penalty)) / 4
    assert similarity["diverse"] < similarity["plain"]
