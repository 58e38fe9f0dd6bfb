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


def three_kinds_of_model(rng):
    """A diagonal, an IAF and a two-layer model, float64, with binary data for them."""
    models = {
        "diagonal": tv.VAE(12, (9,), 3, rng=rng, dtype=np.float64),
        "iaf": tv.VAE(12, (9,), 3, iaf_steps=2, rng=rng, dtype=np.float64),
        "two layers": tv.HierarchicalVAE(12, (9,), 4, (5,), 3, rng=rng, dtype=np.float64),
    }
    return models, (rng.random((7, 12)) < 0.4).astype(np.float64)


@pytest.mark.parametrize("kind", ["diagonal", "iaf", "two layers"])
def test_l_k_is_the_same_on_one_thread_or_several(kind):
    models, x = three_kinds_of_model(np.random.default_rng(5))
    model = models[kind]
    values, rngs = [], []
    for threads, max_rows in [(1, 20), (2, 20), (3, 7), (2, 1000)]:
        rng = np.random.default_rng(6)
        values.append(log_likelihood(model, x, k=40, rng=rng, threads=threads, max_rows=max_rows))
        rngs.append(rng.random())  # the caller's generator moved on by the same draws
    for value in values[1:]:
        np.testing.assert_allclose(value, values[0], rtol=1e-12)
    assert len(set(rngs)) == 1
    assert all(module.cache is None for _, module in model.modules())


def test_a_pending_forward_pass_is_not_disturbed_by_the_threads():
    """The threads work on copies of the model: the model's own caches stay as they were,
    except the encoder's, which the evaluation uses on the calling thread (and clears,
    as every evaluation does)."""
    models, x = three_kinds_of_model(np.random.default_rng(7))
    model = models["diagonal"]
    model.loss(x, rng=np.random.default_rng(8))
    decoder_cache = model.likelihood.decoder.layers[0].cache
    log_likelihood(model, x, k=30, rng=np.random.default_rng(9), threads=2, max_rows=14)
    assert model.likelihood.decoder.layers[0].cache is decoder_cache


def test_blas_gets_its_threads_back_after_an_evaluation():
    models, x = three_kinds_of_model(np.random.default_rng(10))
    before = tv.threads.blas_threads()
    log_likelihood(models["iaf"], x, k=30, rng=np.random.default_rng(11), threads=2)
    assert tv.threads.blas_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_a_bad_thread_count_is_refused_before_any_draw(bad):
    models, x = three_kinds_of_model(np.random.default_rng(12))
    rng = np.random.default_rng(13)
    state = rng.bit_generator.state
    with pytest.raises((TypeError, ValueError), match="threads"):
        log_likelihood(models["diagonal"], x, k=10, rng=rng, threads=bad)
    assert rng.bit_generator.state == state


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
