"""tinyvae.distributions.kl: the closed-form KL divergences, their values and backward passes."""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds, shapes
from hypothesis import given

from tinyvae.distributions.gaussian import GaussianLogDensity
from tinyvae.distributions.kl import GaussianKL, StandardNormalKL
from tinyvae.gradcheck import check_module


@given(shape=shapes, seed=seeds)
def test_kl_to_standard_normal_is_nonnegative(shape, seed):
    rng = np.random.default_rng(seed)
    kl = StandardNormalKL().forward(rng.normal(0, 2, shape), rng.normal(0, 2, shape))
    assert kl.shape == shape[:1]
    assert np.all(kl >= 0)


@given(shape=shapes, seed=seeds)
def test_kl_between_gaussians_is_nonnegative_and_zero_only_when_equal(shape, seed):
    rng = np.random.default_rng(seed)
    mu1, logvar1, mu2, logvar2 = (rng.normal(0, 2, shape) for _ in range(4))
    kl = GaussianKL().forward(mu1, logvar1, mu2, logvar2)
    assert np.all(kl > 0)
    np.testing.assert_allclose(GaussianKL().forward(mu1, logvar1, mu1, logvar1), 0, atol=1e-12)


def test_kl_is_zero_for_the_prior_itself():
    zeros = np.zeros((3, 4))
    np.testing.assert_array_equal(StandardNormalKL().forward(zeros, zeros), 0)


@given(shape=shapes, seed=seeds)
def test_the_two_kls_agree_when_the_second_is_standard(shape, seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=shape), rng.normal(size=shape)
    zeros = np.zeros(shape)
    np.testing.assert_allclose(
        StandardNormalKL().forward(mu, logvar),
        GaussianKL().forward(mu, logvar, zeros, zeros),
        rtol=1e-12,
    )


def test_kl_matches_a_monte_carlo_estimate():
    """E_q[log q(z) - log p(z)] by sampling agrees with the closed form."""
    rng = np.random.default_rng(0)
    mu, logvar = np.array([[0.5, -1.0]]), np.array([[-0.3, 0.4]])
    mu2, logvar2 = np.array([[0.1, 0.2]]), np.array([[0.2, -0.5]])
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((200_000, 2))
    density = GaussianLogDensity()
    estimate = np.mean(density.forward(z, mu, logvar) - density.forward(z, mu2, logvar2))
    exact = GaussianKL().forward(mu, logvar, mu2, logvar2)[0]
    assert estimate == pytest.approx(exact, abs=0.01)


@given(B=batch, J=dim, seed=seeds)
def test_standard_normal_kl_backward(B, J, seed):
    """Against central finite differences in float64, with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    report = check_module(
        StandardNormalKL(), rng.normal(size=(B, J)), rng.normal(size=(B, J)), n_grads=2, rng=rng
    )
    assert report.passed(TOL), str(report)


@given(B=batch, J=dim, seed=seeds)
def test_gaussian_kl_backward(B, J, seed):
    """Against central finite differences in float64, with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    inputs = [rng.normal(size=(B, J)) for _ in range(4)]
    report = check_module(GaussianKL(), *inputs, n_grads=4, rng=rng)
    assert report.passed(TOL), str(report)
