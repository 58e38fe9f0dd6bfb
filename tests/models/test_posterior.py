"""The posterior's and the prior's own gradients, and log q at the sample in float32."""

import numpy as np
import pytest
from helpers import random_vae

from tinyvae.distributions import GaussianLogDensity
from tinyvae.gradcheck import check_function, check_module
from tinyvae.models.posterior import GaussianPosterior
from tinyvae.models.prior import StandardNormalPrior


@pytest.mark.parametrize("sigma", [1.0, 1e-2, 1e-4, 1e-6])
def test_log_q_at_the_sample_stays_exact_when_sigma_is_tiny_next_to_mu(sigma):
    """log q(z|x) at z = mu + sigma eps is computed from eps, not from (z - mu)^2 / sigma^2:
    in float32 z - mu cancels catastrophically once sigma << |mu| (an overconfident
    posterior, as wake-sleep's sleep phase makes), which the density form suffers from."""
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 2, (500, 3)).astype(np.float32)
    logvar = np.full_like(mu, 2 * np.log(sigma))
    eps = rng.standard_normal((20, 500, 3), dtype=np.float32)
    exact = GaussianPosterior.sample_from(
        (mu.astype(np.float64), logvar.astype(np.float64)), eps.astype(np.float64)
    )[1]
    z, log_q = GaussianPosterior.sample_from((mu, logvar), eps)
    assert log_q.dtype == np.float32
    np.testing.assert_allclose(log_q, exact, atol=1e-5)
    # the density form of the same number is what loses it
    if sigma <= 1e-4:
        density = GaussianLogDensity().forward(z, mu, logvar)
        assert np.abs(density - exact).max() > 1e-3


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3)])
def test_the_prior_gradient_in_z_passes_a_float64_check(shape):
    z = np.random.default_rng(1).normal(size=shape)
    report = check_module(StandardNormalPrior(3, np.float64), z, n_grads=1)
    assert report.passed(), str(report)


@pytest.mark.parametrize("shape", [(4, 2), (3, 4, 2)])
def test_log_q_at_a_given_z_has_the_right_gradient_in_z(shape):
    """backward_log_prob returns dz (the encoder's gradients are checked by the sleep phase)."""
    rng = np.random.default_rng(2)
    posterior = random_vae("bernoulli", (3,), rng, activation="tanh").posterior
    z, x = rng.normal(size=shape), rng.uniform(size=(4, 5))
    report = check_function(
        posterior.forward_log_prob, posterior.backward_log_prob, z, x, n_grads=1
    )
    assert report.passed(), str(report)
    assert [row["name"] for row in report.rows] == ["input 0"]
