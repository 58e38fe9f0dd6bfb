"""Values (not gradients) of the densities, the KL terms and the sampler."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyvae as tv

seeds = st.integers(0, 2**32 - 1)
shapes = st.tuples(st.integers(1, 8), st.integers(1, 6))


@given(shape=shapes, seed=seeds)
def test_kl_to_standard_normal_is_nonnegative(shape, seed):
    rng = np.random.default_rng(seed)
    kl = tv.StandardNormalKL().forward(rng.normal(0, 2, shape), rng.normal(0, 2, shape))
    assert kl.shape == shape[:1]
    assert np.all(kl >= 0)


@given(shape=shapes, seed=seeds)
def test_kl_between_gaussians_is_nonnegative_and_zero_only_when_equal(shape, seed):
    rng = np.random.default_rng(seed)
    mu1, logvar1, mu2, logvar2 = (rng.normal(0, 2, shape) for _ in range(4))
    kl = tv.GaussianKL().forward(mu1, logvar1, mu2, logvar2)
    assert np.all(kl > 0)
    np.testing.assert_allclose(tv.GaussianKL().forward(mu1, logvar1, mu1, logvar1), 0,
                               atol=1e-12)


def test_kl_is_zero_for_the_prior_itself():
    zeros = np.zeros((3, 4))
    np.testing.assert_array_equal(tv.StandardNormalKL().forward(zeros, zeros), 0)


@given(shape=shapes, seed=seeds)
def test_the_two_kls_agree_when_the_second_is_standard(shape, seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=shape), rng.normal(size=shape)
    zeros = np.zeros(shape)
    np.testing.assert_allclose(tv.StandardNormalKL().forward(mu, logvar),
                               tv.GaussianKL().forward(mu, logvar, zeros, zeros), rtol=1e-12)


def test_kl_matches_a_monte_carlo_estimate():
    """E_q[log q(z) - log p(z)] by sampling agrees with the closed form."""
    rng = np.random.default_rng(0)
    mu, logvar = np.array([[0.5, -1.0]]), np.array([[-0.3, 0.4]])
    mu2, logvar2 = np.array([[0.1, 0.2]]), np.array([[0.2, -0.5]])
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((200_000, 2))
    density = tv.GaussianLogDensity()
    estimate = np.mean(density.forward(z, mu, logvar) - density.forward(z, mu2, logvar2))
    exact = tv.GaussianKL().forward(mu, logvar, mu2, logvar2)[0]
    assert estimate == pytest.approx(exact, abs=0.01)


@given(shape=shapes, seed=seeds)
def test_gaussian_log_density_matches_the_textbook_formula(shape, seed):
    rng = np.random.default_rng(seed)
    x, mu, logvar = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    sigma = np.exp(0.5 * logvar)
    pdf = np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(tv.GaussianLogDensity().forward(x, mu, logvar),
                               np.log(pdf).sum(axis=-1), rtol=1e-10)


@given(shape=shapes, seed=seeds)
def test_bernoulli_equals_the_naive_formula_where_safe(shape, seed):
    rng = np.random.default_rng(seed)
    # beyond |l| ~ 12 the naive log(1 - p) itself loses digits, so stay inside
    logits = np.clip(rng.normal(0, 5, shape), -12, 12)
    x = rng.uniform(size=shape)
    p = 1 / (1 + np.exp(-logits))
    naive = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    np.testing.assert_allclose(tv.BernoulliLogLikelihood().forward(logits, x), naive,
                               rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_is_finite_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 1e4, -1e4]], dtype=dtype)
    x = np.array([[1.0, 0.0, 0.0, 1.0]], dtype=dtype)
    module = tv.BernoulliLogLikelihood()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        log_p = module.forward(logits, x)
        grad = module.backward(np.ones(1, dtype=dtype))
    # right answers cost ~0 nats, confidently wrong ones cost |logit| nats each
    assert log_p[0] == pytest.approx(-2e4, rel=1e-6)
    np.testing.assert_array_equal(grad, [[0, 0, -1, 1]])
    assert log_p.dtype == dtype


def test_bernoulli_of_an_empty_batch_is_empty():
    log_p = tv.BernoulliLogLikelihood().forward(np.zeros((0, 3)), np.zeros((0, 3)))
    assert log_p.shape == (0,)


@pytest.mark.parametrize("bad, found", [(255.0, r"values in \[0.5, 255\]"),
                                        (-0.5, r"values in \[-0.5, 0.5\]"),
                                        (np.nan, "NaN")])
def test_bernoulli_rejects_targets_outside_unit_interval(bad, found):
    with pytest.raises(ValueError, match=r"\[0, 1\]; got " + found):
        tv.BernoulliLogLikelihood().forward(np.zeros((1, 2)), np.array([[0.5, bad]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reparameterized_samples_have_the_right_moments(dtype):
    rng = np.random.default_rng(1)
    n = 400_000
    mu = np.array([[1.5, -2.0, 0.0]], dtype=dtype)
    logvar = np.array([[0.0, np.log(4.0), np.log(0.01)]], dtype=dtype)
    eps = tv.sample_eps(rng, (n, 1, 3), dtype)
    z = tv.Reparameterize().forward(mu, logvar, eps)[:, 0]
    assert z.dtype == dtype
    var = np.exp(logvar[0].astype(np.float64))
    # sample mean within 5 standard errors; sample variance within 2 %
    np.testing.assert_array_less(np.abs(z.mean(0) - mu[0]), 5 * np.sqrt(var / n))
    np.testing.assert_allclose(z.var(0, dtype=np.float64), var, rtol=0.02)


def test_sigmoid_and_softplus_are_stable():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, sp = tv.sigmoid(x), tv.softplus(x)
    np.testing.assert_allclose(s, [0, 1 / (1 + np.exp(50)), 0.5, 1 / (1 + np.exp(-50)), 1])
    np.testing.assert_allclose(sp, [0, np.log1p(np.exp(-50)), np.log(2), 50, 1e4])


@given(shape=shapes, seed=seeds)
def test_bernoulli_equals_a_log_sigmoid_formula_for_large_logits(shape, seed):
    """x log sigmoid(l) + (1 - x) log sigmoid(-l), with log sigmoid(l) = -logaddexp(0, -l)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 200, shape)
    x = rng.uniform(size=shape)
    reference = np.sum(-x * np.logaddexp(0, -logits) - (1 - x) * np.logaddexp(0, logits), -1)
    np.testing.assert_allclose(tv.BernoulliLogLikelihood().forward(logits, x), reference,
                               rtol=1e-12)
