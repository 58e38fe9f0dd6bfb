"""tinyvae.distributions.reparameterize: z = mu + sigma * eps, its moments and its backward."""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.distributions.reparameterize import Reparameterize, sample_eps
from tinyvae.gradcheck import check_module


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reparameterized_samples_have_the_right_moments(dtype):
    rng = np.random.default_rng(1)
    n = 400_000
    mu = np.array([[1.5, -2.0, 0.0]], dtype=dtype)
    logvar = np.array([[0.0, np.log(4.0), np.log(0.01)]], dtype=dtype)
    eps = sample_eps(rng, (n, 1, 3), dtype)
    z = Reparameterize().forward(mu, logvar, eps)[:, 0]
    assert z.dtype == dtype
    var = np.exp(logvar[0].astype(np.float64))
    # sample mean within 5 standard errors; sample variance within 2 %
    np.testing.assert_array_less(np.abs(z.mean(0) - mu[0]), 5 * np.sqrt(var / n))
    np.testing.assert_allclose(z.var(0, dtype=np.float64), var, rtol=0.02)


@given(L=st.integers(0, 3), B=batch, J=dim, seed=seeds)
def test_reparameterize_backward(L, B, J, seed):
    """Against central finite differences in float64, with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=(B, J)), rng.normal(size=(B, J))
    eps = rng.normal(size=(L, B, J) if L else (B, J))
    report = check_module(Reparameterize(), mu, logvar, eps, n_grads=2, rng=rng)
    assert report.passed(TOL), str(report)
