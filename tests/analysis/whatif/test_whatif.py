"""What-If: counterfactuals against a brute-force search, partial dependence against scikit-learn's, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.inspection import partial_dependence
from sklearn.linear_model import LogisticRegression

from analysis.errors import AnalysisInputError
from analysis.whatif import Distance, ModelEstimator, WhatIfSpec, format_edits, parse_edits, run_whatif
from analysis.whatif.counterfactuals import feature_scale, nearest
from analysis.whatif.partial_dependence import compute_partial_dependence
from tests.analysis.explain.explain_support import register_mlp


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """The explain tests' sigmoid MLP on features a-d with a metadata column ``group`` (A-D)."""
    home = tmp_path_factory.mktemp("whatif-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(home))
        patch.delenv("LOUPE_CACHE_DIR", raising=False)
        import keras

        arrays = register_mlp(home)
        model = keras.models.load_model(home / "mlp.keras")
        yield arrays, model


def brute_force_nearest(x, point, candidates, metric):
    """The nearest candidate row by a plain loop over rows, standardizing by hand."""
    std = x.std(axis=0)
    std[std == 0] = 1.0
    best, best_distance = None, np.inf
    for i in range(len(x)):
        if not candidates[i]:
            continue
        diff = [(x[i, j] - point[j]) / std[j] for j in range(x.shape[1])]
        d = sum(abs(v) for v in diff) if metric == "l1" else sum(v * v for v in diff) ** 0.5
        if d < best_distance:
            best, best_distance = i, d
    return best, best_distance


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_nearest_equals_brute_force(metric):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 5)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0])
    x[:, 4] = 2.0  # a constant feature keeps scale 1
    point, candidates = rng.normal(size=5), rng.uniform(size=80) < 0.4
    found = nearest(x, point, candidates, feature_scale(x), Distance(metric))
    expected = brute_force_nearest(x, point, candidates, metric)
    assert found[0] == expected[0] and found[1] == pytest.approx(expected[1], rel=1e-12)
    assert nearest(x, point, np.zeros(80, bool), feature_scale(x), Distance(metric)) is None


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_counterfactual_of_an_edited_row_equals_brute_force(mlp, metric):
    arrays, model = mlp
    result = run_whatif(WhatIfSpec(model_id="mlp", example=5, edits="a:1.5,d:-0.5", distance=metric), model=model)
    x = arrays["x"].astype(np.float64)
    edited = x[5].copy()
    edited[0], edited[3] = 1.5, -0.5
    assert np.array_equal(result.edited, edited)
    p = np.asarray(model(np.vstack([x, edited[None]]).astype(np.float32)))[:, 0]
    assert result.edited_probabilities[1] == pytest.approx(p[-1], abs=1e-6)
    expected = brute_force_nearest(x, edited, (p[:-1] >= 0.5) != (p[-1] >= 0.5), metric)
    assert result.counterfactual.index == expected[0]
    assert result.counterfactual.distance == pytest.approx(expected[1], rel=1e-9)
    assert result.counterfactual.predicted != result.edited_class


def test_other_group_from_metadata_is_the_nearest_row_of_that_group(mlp):
    arrays, model = mlp
    result = run_whatif(WhatIfSpec(model_id="mlp", example=2, group_column="group", other_group="A"), model=model)
    x, groups = arrays["x"].astype(np.float64), arrays["meta_group"]
    assert result.group_value == groups[2] and result.group_choices == ("A", "B", "C", "D")
    expected = brute_force_nearest(x, x[2], groups == "A", "l2")
    assert result.other_group.kind == "nearest-in-other-group"
    assert (result.other_group.index, result.other_group.distance) == (expected[0], pytest.approx(expected[1]))


def test_group_as_model_input_is_flipped_and_repredicted(tmp_path):
    """A 0/1 input ``flag``: the datapoint is copied with the flag flipped and predicted again."""
    model = LogisticRegression().fit(np.array([[0, 0.0], [1, 0.0], [0, 1.0], [1, 1.0]] * 5), np.array([0, 1, 0, 1] * 5))
    np.savez(
        tmp_path / "flags.npz",
        x=np.array([[0, 0.2], [1, 0.4], [0, 0.9], [1, 0.1]], np.float32),
        y=np.array([0, 1, 0, 1]),
        feature_names=np.array(["flag", "v"]),
    )
    result = run_probability_spec(
        tmp_path, model, WhatIfSpec(model_id="m", example=0, group_column="flag", data_path=str(tmp_path / "flags.npz"))
    )
    assert result.other_group.kind == "flipped-input" and result.other_group.group == "1"
    flipped = np.array([[1.0, np.float32(0.2)]])
    assert result.other_group.probabilities == pytest.approx(model.predict_proba(flipped)[0])
    with pytest.raises(AnalysisInputError, match=r"value 0\.5 for feature 'flag' is outside what the model takes"):
        run_probability_spec(
            tmp_path, model, WhatIfSpec(model_id="m", edits="flag:0.5", data_path=str(tmp_path / "flags.npz"))
        )


def run_probability_spec(tmp_path, model, spec):
    """``run_whatif`` with a scikit-learn model's ``predict_proba`` (a registry entry with a tiny Keras stand-in)."""
    import keras

    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    registry = ModelRegistry(tmp_path / "home")
    if "m" not in registry.ids():
        inputs = keras.Input((2,))
        keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs)).save(tmp_path / "m.keras")
        registry.register(RegisterModelSpec(path=tmp_path / "m.keras", model_id="m"))
    return run_whatif(spec, probabilities=model.predict_proba, registry=registry)


def test_partial_dependence_equals_scikit_learns():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 3))
    model = LogisticRegression().fit(x, (x[:, 0] - x[:, 2] > 0).astype(int))
    rows = np.arange(0, 120, 3)
    point = np.array([0.3, -1.0, 2.0])
    ours = compute_partial_dependence(
        ModelEstimator(model.predict_proba).fit(), x, feature=2, feature_name="c", rows=rows, point=point, grid=15
    )
    reference = partial_dependence(model, x[rows], [2], grid_resolution=15, kind="both")
    assert np.allclose(ours.grid, reference["grid_values"][0], atol=1e-12)
    assert np.allclose(ours.average, reference["average"][0], atol=1e-6)
    assert np.allclose(ours.individual, reference["individual"][0], atol=1e-6)
    probe = np.repeat(point[None], len(ours.grid), axis=0)
    probe[:, 2] = ours.grid
    assert np.allclose(ours.edited, model.predict_proba(probe)[:, 1], atol=1e-6)


def test_edits_round_trip_through_the_url_form():
    assert parse_edits("income_k:42,debt_ratio:0.3") == {"income_k": "42", "debt_ratio": "0.3"}
    assert format_edits({"income_k": 42.0, "debt_ratio": 0.3}) == "income_k:42,debt_ratio:0.3"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"edits": "a:abc"}, "value 'abc' for feature 'a' must be a number, e.g. 42 or 0.3"),
        ({"edits": "a:nan"}, "value 'nan' for feature 'a' is not a finite float32 number; the model cannot take it"),
        ({"edits": "a:1e39"}, "value '1e39' for feature 'a' is not a finite float32 number"),
        ({"edits": "a=3"}, "edit 'a=3' must be FEATURE:VALUE"),
        ({"edits": "income_k:3"}, "feature 'income_k' in the edits is not an input of model 'mlp'; its features are"),
        ({"distance": "cosine"}, "distance 'cosine' is not valid; choose 'l1' or 'l2'"),
        ({"example": 60}, "example 60 is out of range; the data set 'mlp.npz' has 60 rows"),
        ({"group_column": "sex"}, "group column 'sex' is neither a feature nor a metadata column of 'mlp.npz'"),
        ({"group_column": "group", "example": 1, "other_group": "B"}, "other group 'B' is not a value of 'group'"),
        ({"pd_feature": "z"}, "partial-dependence feature 'z' is not an input of model 'mlp'"),
    ],
)
def test_bad_input_names_the_value(mlp, kwargs, message):
    _, model = mlp
    with pytest.raises(AnalysisInputError) as error:
        run_whatif(WhatIfSpec(model_id="mlp", **kwargs), model=model)
    assert message in str(error.value)


def test_partial_dependence_of_a_two_valued_feature_is_the_brute_force_mean():
    """scikit-learn 1.6 fails on a two-point grid; Loupe's own curves follow the same definition."""
    rng = np.random.default_rng(4)
    x = np.column_stack([rng.integers(0, 2, 50).astype(float), rng.normal(size=50)])
    model = LogisticRegression().fit(x, (x[:, 0] + x[:, 1] > 0.5).astype(int))
    rows = np.arange(50)
    curve = compute_partial_dependence(
        ModelEstimator(model.predict_proba).fit(), x, feature=0, feature_name="flag", rows=rows, point=x[0], grid=20
    )
    assert curve.grid.tolist() == [0.0, 1.0]
    for g, value in enumerate(curve.grid):
        probe = x.copy()
        probe[:, 0] = value
        expected = model.predict_proba(probe)[:, 1]
        assert np.allclose(curve.individual[:, g], expected) and curve.average[g] == pytest.approx(expected.mean())
