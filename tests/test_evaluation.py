"""tinyvae.evaluation: L_k, active units and gradient variance.

L_k is checked against a linear-Gaussian VAE whose log p(x) is known in
closed form (``helpers.linear_gaussian_vae``).
"""

import numpy as np
import pytest
from helpers import linear_gaussian_vae

import tinyvae as tv
from tinyvae.evaluation import active_units, gradient_variance, log_likelihood


def test_with_the_exact_posterior_l_k_is_log_px():
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    np.testing.assert_allclose(
        log_likelihood(model, x, k=7, rng=np.random.default_rng(1)), log_px, rtol=1e-10
    )


def test_importance_weighted_bounds_grow_with_k_and_stay_below_log_px():
    model, x, log_px = linear_gaussian_vae(exact_posterior=False)
    rng = np.random.default_rng(2)
    elbo = model.elbo(x, rng=rng, n_samples=2000).mean()  # estimator B, many samples
    bounds = [log_likelihood(model, x, k=k, rng=rng).mean() for k in (1, 10, 100, 5000)]
    assert elbo < bounds[1] < bounds[2] < bounds[3]
    assert bounds[0] == pytest.approx(elbo, abs=0.5)  # L_1 is an ELBO (one draw)
    assert bounds[3] <= log_px.mean() + 0.01  # up to Monte Carlo noise
    assert bounds[3] == pytest.approx(log_px.mean(), abs=0.05)  # and k = 5000 is close
    assert log_px.mean() - elbo > 0.5  # the encoder is really off


def test_log_likelihood_does_not_depend_on_how_the_samples_are_chunked():
    model, x, _ = linear_gaussian_vae(exact_posterior=False)
    values = [
        log_likelihood(
            model, x, k=50, rng=np.random.default_rng(4), batch_size=64, max_rows=max_rows
        )
        for max_rows in (64, 64 * 7, 64 * 50)
    ]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-12)
    np.testing.assert_allclose(values[0], values[2], rtol=1e-12)


def test_active_units_count_the_units_that_vary_with_x():
    rng = np.random.default_rng(7)
    model = tv.VAE(x_dim=6, hidden=(), z_dim=4, rng=rng, dtype=np.float64)
    model.encoder.layers[0].params["W"][:, [1, 3]] = 0.0  # mu_1 and mu_3 ignore x
    count, variances = active_units(model, rng.uniform(size=(500, 6)))
    assert count == 2
    assert variances[1] == 0 and variances[3] == 0


def test_variance_ordering_score_function_then_a_then_b():
    rng = np.random.default_rng(6)
    model = tv.VAE(x_dim=12, hidden=(8,), z_dim=3, rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(10, 12)) > 0.5).astype(np.float64)

    def total(estimator, baseline=False):
        stats = gradient_variance(model, x, estimator, 60, rng, n_samples=2, baseline=baseline)
        return sum(s["variance"] for s in stats.values())

    score, score_baseline, a, b = total("score"), total("score", True), total("A"), total("B")
    assert score > 3 * score_baseline > 3 * a and a > 2 * b
