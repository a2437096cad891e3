"""Contract tests for every attribution method, generated from one table (captum's test_config layout).

:data:`CASES` lists tiny hand-built models with their rows and settings; every test below iterates
over ``EXPLAINERS x CASES``. Per pair, a method either refuses the case (an AnalysisInputError that
names the method, the bad value and what to use instead) or explains it: values ``[n, *input_shape]``,
expected values that are the target's mean over the background, additive within the method's
documented tolerance, the same bytes for the same seeds, and a row's values independent of the other
rows. Add a method to ``EXPLAINERS`` and it gets every test; add a case and every method meets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.explain.engine import resolve_explanation
from analysis.explain.explainers import (
    EXPLAINERS,
    AttributionMethod,
    Attributions,
    TargetFunction,
    compatible_explainers,
    default_explainer,
)
from analysis.explain.rng import example_seed
from analysis.explain.spec import Explainer, ExplanationSpec
from analysis.models.registry import ModelRegistry
from analysis.models.summary import ModelFormat, ModelSummary
from tests.analysis.explain.explain_support import register_linear, register_linear_image

ROUND_OFF = 1e-5  # float32 attributions summed in float64


def tabular_mlp(features: int, hidden: int, seed: int, *, sigmoid: bool) -> Any:
    """``features -> tanh(hidden) -> 1`` with fixed weights (feature interactions, so methods differ)."""
    import keras

    rng = np.random.default_rng(seed)
    inputs = keras.Input((features,))
    first = keras.layers.Dense(hidden, activation="tanh")
    second = keras.layers.Dense(1, activation="sigmoid" if sigmoid else None)
    model = keras.Model(inputs, second(first(inputs)))
    kernel = rng.normal(size=(features, hidden)) / np.sqrt(features)  # pre-activations of order 1
    first.set_weights([kernel.astype(np.float32), np.full(hidden, 0.1, np.float32)])
    second.set_weights([rng.normal(size=(hidden, 1)).astype(np.float32), np.array([-0.2], np.float32)])
    return model


def linear(weights: tuple[float, ...], bias: float) -> Any:
    import keras

    inputs = keras.Input((len(weights),))
    dense = keras.layers.Dense(1)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([np.asarray(weights, np.float32)[:, None], np.array([bias], np.float32)])
    return model


def tiny_convnet() -> Any:
    """``[4, 4, 1] -> conv 2x2 (2 ReLU channels) -> global mean -> 1``, every weight set by hand."""
    import keras

    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 2, activation="relu")
    head = keras.layers.Dense(1)
    model = keras.Model(inputs, head(keras.layers.GlobalAveragePooling2D()(conv(inputs))))
    kernel = np.array([[[[1.0, -0.5]], [[-1.0, 0.5]]], [[[0.5, 1.0]], [[0.5, -1.0]]]], np.float32)  # [2, 2, 1, 2]
    conv.set_weights([kernel, np.array([-0.2, 0.1], np.float32)])
    head.set_weights([np.array([[1.5], [-2.0]], np.float32), np.array([0.3], np.float32)])
    return model


@dataclass(frozen=True)
class ContractCase:
    """A tiny model with scalar output ``[batch, 1]``, rows to explain and a background, and the spec settings.

    ``refusal_names``: how a refusal names this input (the bad value); ``valid_bound``: the valid
    range a refusal may name instead of another explainer (None: it must name a compatible explainer).
    """

    name: str
    input_shape: tuple[int, ...]
    build: Callable[[], Any]
    rows: int
    background: int
    settings: dict[str, int]
    refusal_names: str
    valid_bound: str | None = None

    def summary(self) -> ModelSummary:
        return ModelSummary(
            format=ModelFormat.KERAS,
            input_shape=self.input_shape,
            input_range=(-3.0, 3.0),
            input_range_source="test",
            output_shape=(1,),
            output_kind="values",
            parameter_count=0,
            layers=(),
        )

    def spec(self) -> ExplanationSpec:
        return ExplanationSpec(model_id=self.name, **self.settings)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``[rows, *input_shape]`` and background ``[background, *input_shape]``, float32, seeded."""
        rng = np.random.default_rng(len(self.name))
        x = rng.normal(size=(self.rows + self.background, *self.input_shape)).astype(np.float32)
        return x[: self.rows], x[self.rows :]


CASES = (
    ContractCase(
        name="tabular",
        input_shape=(4,),
        build=lambda: tabular_mlp(4, 6, seed=1, sigmoid=True),
        rows=3,
        background=16,
        settings={"max_evals": 60, "samples": 300},
        refusal_names="(nothing refuses 4 features)",
    ),
    ContractCase(
        name="wide-tabular",
        input_shape=(17,),
        build=lambda: tabular_mlp(17, 3, seed=2, sigmoid=False),
        rows=2,
        background=8,
        settings={"max_evals": 60, "samples": 300},
        refusal_names="17 features",
    ),
    ContractCase(
        name="few-evaluations",
        input_shape=(3,),
        build=lambda: linear((2.0, -1.0, 0.5), 0.7),
        rows=3,
        background=10,
        settings={"max_evals": 6, "samples": 300},
        refusal_names="max_evals 6",
        valid_bound="at least 2 * features + 1 = 7",
    ),
    ContractCase(
        name="image",
        input_shape=(4, 4, 1),
        build=tiny_convnet,
        rows=2,
        background=6,
        settings={"max_evals": 60, "samples": 300},
        refusal_names="[4, 4, 1]",
    ),
)

PAIRS = [(method, case) for method in EXPLAINERS for case in CASES]
COMPATIBLE = [(m, c) for m, c in PAIRS if m.is_compatible(c.summary(), c.spec())]


def pair_id(pair: tuple[AttributionMethod, ContractCase]) -> str:
    return f"{pair[0].kind.value}-{pair[1].name}"


_targets: dict[str, TargetFunction] = {}
_results: dict[tuple[str, str], Attributions] = {}


def target_of(case: ContractCase) -> TargetFunction:
    """The case's model as a target (built once per session)."""
    if case.name not in _targets:
        from analysis.explain.readout import batched_predict

        model = case.build()
        _targets[case.name] = TargetFunction(model=model, predict=batched_predict(model))
    return _targets[case.name]


def attribute(
    method: AttributionMethod, case: ContractCase, *, seed: int = 0, rows: slice = slice(None)
) -> Attributions:
    """``method`` on ``case``; a method that does not need gradients gets ``predict`` only (no model)."""
    target = target_of(case)
    if not method.needs_gradients:
        target = TargetFunction(model=None, predict=target.predict)
    inputs, background = case.data()
    indices = range(case.rows)[rows]
    return method.attribute(
        target,
        inputs[rows],
        background,
        seeds=[example_seed(seed, i) for i in indices],
        **method.parameters_from(case.spec()),
    )


def first_result(method: AttributionMethod, case: ContractCase) -> Attributions:
    key = (method.kind.value, case.name)
    if key not in _results:
        _results[key] = attribute(method, case)
    return _results[key]


def test_the_table_lists_every_explainer_once_in_the_enums_order():
    assert [method.kind for method in EXPLAINERS] == list(Explainer)


@pytest.mark.parametrize("method", EXPLAINERS, ids=lambda m: m.kind.value)
def test_capabilities_are_declared(method):
    assert set(method.parameters) <= {f.name for f in fields(ExplanationSpec)}
    assert set(method.parameters_from(ExplanationSpec(model_id="m"))) == set(method.parameters)
    assert all(isinstance(getattr(method, name), bool) for name in ("tabular_only", "needs_gradients", "seeded"))
    assert method.exactly_additive is (method.additivity_tolerance(np.array([0.0, 5.0])) == 0.0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_exactly_one_automatic_choice_per_model_and_it_fits(case):
    chosen = [method for method in EXPLAINERS if method.is_automatic_for(case.summary())]
    assert len(chosen) == 1 and chosen[0] is default_explainer(case.summary())
    assert chosen[0].is_compatible(case.summary(), ExplanationSpec(model_id=case.name))


@pytest.mark.parametrize(("method", "case"), PAIRS, ids=[pair_id(p) for p in PAIRS])
def test_refusals_name_the_method_the_bad_value_and_what_to_use(method, case):
    summary, spec = case.summary(), case.spec()
    if method.tabular_only and len(case.input_shape) != 1:
        assert not method.is_compatible(summary, spec)
    if method.is_compatible(summary, spec):
        method.check_compatible(summary, spec)
        return
    with pytest.raises(AnalysisInputError) as error:
        method.check_compatible(summary, spec)
    message = str(error.value)
    assert f"the {method.kind.value} explainer" in message
    assert case.refusal_names in message
    suggested = [m for m in EXPLAINERS if f"use the {m.kind.value} explainer" in message]
    assert suggested or (case.valid_bound and case.valid_bound in message), message
    assert all(m is not method and m.is_compatible(summary, spec) for m in suggested), message


@pytest.mark.parametrize(("method", "case"), COMPATIBLE, ids=[pair_id(p) for p in COMPATIBLE])
def test_shapes_are_rows_by_input_shape(method, case):
    result = first_result(method, case)
    assert result.values.shape == (case.rows, *case.input_shape) and result.values.dtype == np.float32
    assert result.expected_values.shape == (case.rows,) and result.expected_values.dtype == np.float64
    assert np.isfinite(result.values).all() and np.isfinite(result.expected_values).all()


@pytest.mark.parametrize(("method", "case"), COMPATIBLE, ids=[pair_id(p) for p in COMPATIBLE])
def test_expected_value_is_the_targets_mean_over_the_background(method, case):
    _, background = case.data()
    mean = target_of(case).predict(background).mean()
    np.testing.assert_allclose(first_result(method, case).expected_values, mean, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("method", "case"), COMPATIBLE, ids=[pair_id(p) for p in COMPATIBLE])
def test_additivity_within_the_documented_tolerance(method, case):
    result = first_result(method, case)
    inputs, _ = case.data()
    gap = target_of(case).predict(inputs) - result.expected_values
    errors = np.abs(result.values.reshape(case.rows, -1).astype(np.float64).sum(axis=1) - gap)
    _, background = case.data()
    tolerance = method.additivity_tolerance(target_of(case).predict(background), **method.parameters_from(case.spec()))
    assert errors.max() <= tolerance + ROUND_OFF * max(1.0, np.abs(gap).max())


@pytest.mark.parametrize(("method", "case"), COMPATIBLE, ids=[pair_id(p) for p in COMPATIBLE])
def test_the_same_seeds_give_the_same_values(method, case):
    first = first_result(method, case)
    again = attribute(method, case)
    np.testing.assert_array_equal(again.values, first.values)
    np.testing.assert_array_equal(again.expected_values, first.expected_values)
    other = attribute(method, case, seed=1)
    assert np.array_equal(other.values, first.values) is not method.seeded


@pytest.mark.parametrize(("method", "case"), COMPATIBLE, ids=[pair_id(p) for p in COMPATIBLE])
def test_a_rows_values_do_not_depend_on_the_other_rows(method, case):
    last = case.rows - 1
    alone = attribute(method, case, rows=slice(last, last + 1))
    np.testing.assert_array_equal(alone.values[0], first_result(method, case).values[last])


@pytest.mark.parametrize("method", EXPLAINERS, ids=lambda m: m.kind.value)
def test_the_engine_takes_the_method_from_the_table_and_refuses_what_does_not_fit(loupe_home, tmp_path, method):
    register_linear(tmp_path)
    register_linear_image(tmp_path)
    registry = ModelRegistry()
    for model_id in ("linear", "linear-image"):
        summary = registry.resolve(model_id, None).summary
        spec = ExplanationSpec(model_id=model_id, explainer=method.kind, background=2)
        if method in compatible_explainers(summary, spec):
            assert resolve_explanation(spec, registry).method is method
        else:
            with pytest.raises(AnalysisInputError, match=f"the {method.kind.value} explainer"):
                resolve_explanation(spec, registry)
        automatic = resolve_explanation(ExplanationSpec(model_id=model_id, background=2), registry)
        assert automatic.method is default_explainer(summary)
