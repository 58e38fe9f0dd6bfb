"""The bounds against a model whose log p(x) is known, and the estimators' statistics.

A linear-Gaussian VAE, p(z) = N(0, I), p(x|z) = N(z Wm + bm, s2 I), has
log p(x) = log N(x; bm, Wm^T Wm + s2 I) in closed form. If the rows of Wm are
orthogonal its posterior is a diagonal Gaussian, so a linear encoder can be
set to the exact posterior, and then every importance weight equals p(x).
"""

import math

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.evaluation import active_units, log_likelihood
from tinyvae.gradient_variance import gradient_variance
from tinyvae.weight_prior import add_weight_prior

D, J, S2 = 6, 2, 0.3


def linear_gaussian_vae(exact_posterior, seed=0):
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=D, hidden=(), z_dim=J, likelihood="gaussian", rng=rng,
                   dtype=np.float64)
    q, _ = np.linalg.qr(rng.normal(size=(D, J)))
    Wm = (q * np.array([1.5, 0.7])).T                      # (J, D), orthogonal rows
    bm = rng.normal(size=D)
    dec = model.decoder.layers[0]
    dec.params["W"][...] = np.concatenate([Wm, np.zeros((J, D))], axis=1)
    dec.params["b"][...] = np.concatenate([bm, np.full(D, math.log(S2))])
    # exact posterior: Sigma = (I + Wm Wm^T / s2)^-1, mu = (x - bm) Wm^T Sigma / s2
    sigma = np.linalg.inv(np.eye(J) + Wm @ Wm.T / S2)
    A = Wm.T @ sigma / S2
    enc = model.encoder.layers[0]
    enc.params["W"][...] = np.concatenate([A, np.zeros((D, J))], axis=1)
    enc.params["b"][...] = np.concatenate([-bm @ A, np.log(np.diag(sigma))])
    if not exact_posterior:   # a worse encoder: the bounds get loose
        enc.params["W"][...] *= 0.7
        enc.params["b"][J:] -= 0.5
    cov = Wm.T @ Wm + S2 * np.eye(D)
    x = rng.multivariate_normal(bm, cov, size=200)
    diff = x - bm
    log_px = -0.5 * (D * math.log(2 * math.pi) + np.linalg.slogdet(cov)[1]
                     + np.sum(diff @ np.linalg.inv(cov) * diff, axis=1))
    return model, x, log_px


@pytest.mark.parametrize("estimator", ["A", "iwae"])
def test_with_the_exact_posterior_every_bound_is_log_px(estimator):
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    bound = model.elbo(x, rng=np.random.default_rng(1), n_samples=3, estimator=estimator)
    np.testing.assert_allclose(bound, log_px, rtol=1e-10)
    np.testing.assert_allclose(log_likelihood(model, x, k=7, rng=np.random.default_rng(1)),
                               log_px, rtol=1e-10)


def test_with_the_exact_posterior_estimator_b_is_log_px_in_expectation():
    model, x, log_px = linear_gaussian_vae(exact_posterior=True)
    bound = model.elbo(x, rng=np.random.default_rng(1), n_samples=20000)
    np.testing.assert_allclose(bound, log_px, atol=0.02)


def test_importance_weighted_bounds_grow_with_k_and_stay_below_log_px():
    model, x, log_px = linear_gaussian_vae(exact_posterior=False)
    rng = np.random.default_rng(2)
    elbo = model.elbo(x, rng=rng, n_samples=2000).mean()    # estimator B, many samples
    bounds = [log_likelihood(model, x, k=k, rng=rng).mean() for k in (1, 10, 100, 5000)]
    assert elbo < bounds[1] < bounds[2] < bounds[3]
    assert bounds[0] == pytest.approx(elbo, abs=0.5)           # L_1 is an ELBO (one draw)
    assert bounds[3] <= log_px.mean() + 0.01                     # up to Monte Carlo noise
    assert bounds[3] == pytest.approx(log_px.mean(), abs=0.05)  # and k = 5000 is close
    assert log_px.mean() - elbo > 0.5                            # the encoder is really off


def test_log_likelihood_does_not_depend_on_how_the_samples_are_chunked():
    model, x, _ = linear_gaussian_vae(exact_posterior=False)
    values = [log_likelihood(model, x, k=50, rng=np.random.default_rng(4), batch_size=64,
                             max_rows=max_rows) for max_rows in (64, 64 * 7, 64 * 50)]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-12)
    np.testing.assert_allclose(values[0], values[2], rtol=1e-12)


def test_iwae_with_one_sample_equals_estimator_a_for_the_same_draw():
    model, x, _ = linear_gaussian_vae(exact_posterior=False)
    eps = np.random.default_rng(3).normal(size=(1, len(x), J))
    assert model.loss(x, eps=eps, estimator="iwae") == pytest.approx(
        model.loss(x, eps=eps, estimator="A"), rel=1e-12)


def test_score_function_and_reparameterized_gradients_agree_in_expectation():
    rng = np.random.default_rng(4)
    model = tv.VAE(x_dim=5, hidden=(4,), z_dim=2, activation="tanh", rng=rng,
                   dtype=np.float64)
    x = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64)
    grads = {}
    for estimator, baseline in (("A", False), ("score", False), ("score", True)):
        model.zero_grad()
        model.loss(x, rng=np.random.default_rng(5), n_samples=400_000, estimator=estimator,
                   baseline=baseline)
        model.backward()
        grads[estimator, baseline] = np.concatenate(
            [g.ravel() for n, _, g in model.parameters() if n.startswith("encoder")])
    reference = grads["A", False]
    for key in (("score", False), ("score", True)):
        error = np.linalg.norm(grads[key] - reference) / np.linalg.norm(reference)
        assert error < 0.05, (key, error)


def test_variance_ordering_score_function_then_a_then_b():
    rng = np.random.default_rng(6)
    model = tv.VAE(x_dim=12, hidden=(8,), z_dim=3, rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(10, 12)) > 0.5).astype(np.float64)

    def total(estimator, baseline=False):
        stats = gradient_variance(model, x, estimator, 60, rng, n_samples=2, baseline=baseline)
        return sum(s["variance"] for s in stats.values())

    score, score_baseline, a, b = total("score"), total("score", True), total("A"), total("B")
    assert score > 3 * score_baseline > 3 * a and a > 2 * b


def test_score_baseline_needs_two_samples():
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_samples >= 2"):
        model.loss(np.zeros((2, 4), np.float32), rng=np.random.default_rng(0),
                   estimator="score", baseline=True)
    with pytest.raises(ValueError, match="estimator"):
        model.loss(np.zeros((2, 4), np.float32), rng=np.random.default_rng(0), estimator="C")


def test_active_units_count_the_units_that_vary_with_x():
    rng = np.random.default_rng(7)
    model = tv.VAE(x_dim=6, hidden=(), z_dim=4, rng=rng, dtype=np.float64)
    model.encoder.layers[0].params["W"][:, [1, 3]] = 0.0    # mu_1 and mu_3 ignore x
    count, variances = active_units(model, rng.uniform(size=(500, 6)))
    assert count == 2
    assert variances[1] == 0 and variances[3] == 0


def test_weight_prior_adds_theta_to_the_gradient():
    rng = np.random.default_rng(8)
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=rng, dtype=np.float64)
    model.zero_grad()
    penalty = add_weight_prior(model, scale=2.0)
    for _, param, grad in model.parameters():
        np.testing.assert_array_equal(grad, 2.0 * param)
    assert penalty == pytest.approx(sum(np.sum(p ** 2) for _, p, _ in model.parameters()))


def test_aevb_setup_trains(tmp_path):
    """Estimator A, N/M scaling, weight prior and AdaGrad together improve the bound."""
    rng = np.random.default_rng(9)
    prototypes = rng.uniform(size=(4, 16)) > 0.5
    x = prototypes[rng.integers(4, size=400)].astype(np.float32)
    model = tv.VAE(x_dim=16, hidden=(20,), z_dim=2, activation="tanh", init="aevb_normal",
                   rng=rng)
    before = -model.elbo(x, rng=rng).mean()
    history = tv.fit(model, tv.AdaGrad(model.parameters(), lr=0.1), x, x, epochs=20,
                     batch_size=50, rng=rng, estimator="A", scale_to_dataset=True,
                     weight_prior=True, progress=False, verbose=False)
    # 16 bits from 4 prototypes: about 11 nats at the start, log 4 = 1.4 at best
    assert before > 10 and history.test_loss[-1] < 5
