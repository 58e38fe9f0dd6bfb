"""tinyvae.distributions.gaussian: the Gaussian log-density's value and its backward."""

import math

import numpy as np
from helpers import TOL, batch, dim, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.distributions.gaussian import GaussianLogDensity
from tinyvae.gradcheck import check_module


@given(shape=shapes, seed=seeds)
def test_gaussian_log_density_matches_the_textbook_formula(shape, seed):
    rng = np.random.default_rng(seed)
    x, mu, logvar = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    sigma = np.exp(0.5 * logvar)
    pdf = np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(
        GaussianLogDensity().forward(x, mu, logvar), np.log(pdf).sum(axis=-1), rtol=1e-10
    )


@given(L=st.integers(0, 3), B=batch, D=dim, seed=seeds)
def test_gaussian_log_density_backward(L, B, D, seed):
    """Against central finite differences in float64, with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, D))
    mu = rng.normal(size=(L, B, D) if L else (B, D))  # broadcasts against x
    logvar = rng.normal(0, 0.5, size=(1, D))  # broadcasts over the batch
    report = check_module(GaussianLogDensity(), x, mu, logvar, n_grads=3, rng=rng)
    assert report.passed(TOL), str(report)
