"""On the credit-mlp demo, the gaps injected by analysis/demo/credit.py are detected with their documented sign."""

from __future__ import annotations

import pytest

from analysis.fairness import FairnessSpec, compute_fairness_slices

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def credit_result(demo_home):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(demo_home))
        spec = FairnessSpec(
            model_id="credit-mlp",
            split="test",
            sensitive=("sex", "age_band", "group"),
            intersections=(("age_band", "group"),),
            thresholds=(0.5,),
            n_bootstrap=1000,
            seed=0,
            min_slice=30,
        )
        first = compute_fairness_slices(spec)
        again = compute_fairness_slices(spec)
    return first, again


def gap(result, metric, **group):
    entry = next(s for s in result.slices_at(0.5) if dict(s.group) == group)
    return entry.vs_baseline[metric]


@pytest.mark.parametrize(
    ("group", "metric"),
    [
        # group D: lower incomes (base rate) and 20% label noise (accuracy); the model approves them less.
        ({"group": "D"}, "base_rate"),
        ({"group": "D"}, "accuracy"),
        ({"group": "D"}, "selection_rate"),
        # 18-25: short credit history (base rate) and 10% label noise (accuracy).
        ({"age_band": "18-25"}, "base_rate"),
        ({"age_band": "18-25"}, "accuracy"),
        # group C: higher debt ratio (base rate).
        ({"group": "C"}, "base_rate"),
    ],
)
# bench/demo_spread.py: the upper ends of these intervals are -0.084, -0.084, -0.057, -0.20, -0.087 and
# -0.025, identical to 7 digits on builds with 1 or 2 threads and oneDNN on or off (base rates are the
# generator's alone; the model's decisions at 0.5 did not change).
def test_injected_disadvantages_are_negative_gaps_whose_interval_excludes_zero(credit_result, group, metric):
    result, _ = credit_result
    comparison = gap(result, metric, **group)
    assert comparison.difference < 0
    assert comparison.ci_difference[1] < 0, comparison


def test_the_noisiest_intersection_is_the_least_accurate(credit_result):
    result, _ = credit_result
    young_d = gap(result, "accuracy", age_band="18-25", group="D")
    # measured -0.155 against -0.113 on every build (bench/demo_spread.py)
    assert young_d.difference < gap(result, "accuracy", group="D").difference


def test_scores_are_cached_by_revision_and_data(credit_result):
    first, again = credit_result
    assert "model scores were read from the result cache" in again.notes
    assert first.revision == again.revision and first.inputs == again.inputs
    assert first.to_dict()["slices"] == again.to_dict()["slices"]
