"""tinyvae.objectives.iwae: the importance-weighted bound against a model whose log p(x) is known.

With the exact posterior of a linear-Gaussian VAE (``helpers.linear_gaussian_vae``)
every importance weight equals p(x), so the bound equals log p(x).
"""

import numpy as np
import pytest
from helpers import J, linear_gaussian_vae


def test_with_the_exact_posterior_iwae_is_log_px():
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    bound = model.elbo(x, rng=np.random.default_rng(1), n_samples=3, estimator="iwae")
    np.testing.assert_allclose(bound, log_px, rtol=1e-10)


def test_iwae_with_one_sample_equals_estimator_a_for_the_same_draw():
    model, x, _ = linear_gaussian_vae(exact_posterior=False)
    eps = np.random.default_rng(3).normal(size=(1, len(x), J))
    assert model.loss(x, eps=eps, estimator="iwae") == pytest.approx(
        model.loss(x, eps=eps, estimator="A"), rel=1e-12
    )
