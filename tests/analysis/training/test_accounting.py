"""dp-accounting as installed (--no-deps), against its own published example values, and our wrapper."""

from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.training.accounting import Accountant, compute_dp_guarantee

PROJECT = Path(__file__).resolve().parents[3]


def test_installed_version_is_the_pinned_one():
    pins = dict(
        line.split("==")
        for line in (PROJECT / "requirements-nodeps.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert metadata.version("dp-accounting") == pins["dp-accounting"]


def test_rdp_matches_the_libraries_published_values():
    import dp_accounting
    from dp_accounting.rdp import rdp_privacy_accountant as rdp

    # rdp_privacy_accountant_test.test_compute_epsilon_delta_pure_dp
    epsilon, order = rdp.compute_epsilon(range(2, 33), [1.1] * 31, delta=1e-5)
    assert epsilon == pytest.approx(1.32783806176) and order == 32
    # rdp_privacy_accountant_test.test_compute_rdp_poisson_sampled_gaussian
    orders = [1.5, 2.5, 5, 50, 100]
    accountant = rdp.RdpAccountant(orders=orders)
    event = dp_accounting.PoissonSampledDpEvent(0.01, dp_accounting.GaussianDpEvent(2.5))
    accountant.compose(dp_accounting.SelfComposedDpEvent(event, 50))
    expected = [6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02, 1.67416308e02]
    np.testing.assert_allclose(accountant._rdp, expected, rtol=1e-4)


def test_pld_matches_the_libraries_published_value():
    import dp_accounting
    from dp_accounting import pld

    # pld_privacy_accountant_test.test_gaussian_basic: sigma sqrt(3), 3 compositions: epsilon 1 at delta 0.126936
    accountant = pld.PLDAccountant()
    accountant.compose(dp_accounting.GaussianDpEvent(noise_multiplier=np.sqrt(3)), 3)
    assert accountant.get_epsilon(0.126936) == pytest.approx(1.0, abs=1e-3)


def test_our_wrapper_composes_poisson_sampled_gaussian_steps():
    import dp_accounting
    from dp_accounting import rdp

    guarantee = compute_dp_guarantee(n_examples=1000, batch_size=50, epochs=2.5, noise_multiplier=1.3, l2_norm_clip=1)
    assert guarantee.steps == 50 and guarantee.sampling_probability == pytest.approx(0.05)
    direct = rdp.RdpAccountant()
    step = dp_accounting.PoissonSampledDpEvent(0.05, dp_accounting.GaussianDpEvent(1.3))
    direct.compose(step, 50)
    assert guarantee.epsilon == pytest.approx(direct.get_epsilon(1e-3)) and guarantee.delta == 1e-3


def test_epsilon_moves_the_documented_way():
    def eps(**changes):
        settings = {"n_examples": 2000, "batch_size": 64, "epochs": 1, "noise_multiplier": 1.0, "l2_norm_clip": 1.0}
        return compute_dp_guarantee(**{**settings, **changes}).epsilon

    base = eps()
    assert eps(epochs=3) > base and eps(batch_size=128) > base and eps(noise_multiplier=2.0) < base
    pld = compute_dp_guarantee(
        n_examples=2000, batch_size=64, epochs=1, noise_multiplier=1.0, l2_norm_clip=1.0, accountant=Accountant.PLD
    )
    assert 0 < pld.epsilon <= base  # PLD is the tighter accountant
    assert pld.delta == 1 / 2000


def test_no_finite_epsilon_and_bad_values_are_named():
    with pytest.raises(AnalysisInputError, match="noise multiplier 0 gives no finite epsilon"):
        compute_dp_guarantee(n_examples=100, batch_size=10, epochs=1, noise_multiplier=0, l2_norm_clip=1.0)
    with pytest.raises(AnalysisInputError, match="unknown accountant 'moments'"):
        compute_dp_guarantee(
            n_examples=100, batch_size=10, epochs=1, noise_multiplier=1, l2_norm_clip=1.0, accountant="moments"
        )
    with pytest.raises(AnalysisInputError, match="batch size 500"):
        compute_dp_guarantee(n_examples=100, batch_size=500, epochs=1, noise_multiplier=1, l2_norm_clip=1.0)
