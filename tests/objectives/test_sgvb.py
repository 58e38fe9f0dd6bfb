"""tinyvae.objectives.sgvb: AEVB's estimators A and B against a model whose log p(x) is known.

With the exact posterior of a linear-Gaussian VAE (``helpers.linear_gaussian_vae``)
every importance weight equals p(x), so each bound equals log p(x).
"""

import numpy as np
from helpers import linear_gaussian_vae


def test_with_the_exact_posterior_estimator_a_is_log_px():
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    bound = model.elbo(x, rng=np.random.default_rng(1), n_samples=3, estimator="A")
    np.testing.assert_allclose(bound, log_px, rtol=1e-10)


def test_with_the_exact_posterior_estimator_b_is_log_px_in_expectation():
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    bound = model.elbo(x, rng=np.random.default_rng(1), n_samples=20000)
    np.testing.assert_allclose(bound, log_px, atol=0.02)
