"""The estimators' gradients and values against independent NumPy computations.

A VAE with no hidden layer has a linear encoder, (mu, logvar) = x We + be, and a linear
decoder, logits = z Wd + bd, so log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x) and the
score d log q(z_l|x) / d(mu, logvar) at a fixed z_l can be written out in a few lines of
NumPy, without any of the library's modules. The score-function estimator with the
leave-one-out baseline, the IWAE gradient's normalized importance weights and the exact
orderings of the bounds for one draw of the noise are checked against them.
"""

import math

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.objectives import IWAE, SGVB_A, ScoreFunction

D, J, B = 5, 3, 4
LOG_2PI = math.log(2 * math.pi)


def linear_vae(seed=0):
    """A float64 Bernoulli VAE with random (not tiny) linear encoder and decoder."""
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=D, hidden=(), z_dim=J, rng=rng, dtype=np.float64)
    for _, param, _ in model.parameters():
        param[...] = rng.normal(0.0, 0.7, size=param.shape)
    x = (rng.uniform(size=(B, D)) > 0.5).astype(np.float64)
    return model, x


def eps_for(L, seed):
    return np.random.default_rng(seed).standard_normal((L, B, J))


def by_hand(model, x, eps):
    """log w (L, B) and the score d log q(z|x) / d(mu, logvar) at fixed z, each (L, B, J)."""
    We = model.encoder.layers[0].params["W"]
    be = model.encoder.layers[0].params["b"]
    Wd = model.decoder.layers[0].params["W"]
    bd = model.decoder.layers[0].params["b"]
    h = x @ We + be
    mu, logvar = h[:, :J], h[:, J:]
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps  # (L, B, J)
    logits = z @ Wd + bd  # (L, B, D)
    log_px = np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)
    log_pz = -0.5 * np.sum(LOG_2PI + z**2, axis=-1)
    log_qz = -0.5 * np.sum(LOG_2PI + logvar + ((z - mu) / sigma) ** 2, axis=-1)
    dmu = (z - mu) / sigma**2  # d/dmu log N(z; mu, sigma^2)
    dlogvar = 0.5 * ((z - mu) ** 2 / sigma**2 - 1.0)  # d/dlogvar
    return log_px + log_pz - log_qz, dmu, dlogvar


def encoder_gradient(x, coef, dmu, dlogvar):
    """d loss / d(We, be) for loss = -1/B sum_{l,b} coef_lb log q(z_lb|x_b), z fixed."""
    g_mu = -np.einsum("lb,lbj->bj", coef, dmu) / B
    g_logvar = -np.einsum("lb,lbj->bj", coef, dlogvar) / B
    g = np.concatenate([g_mu, g_logvar], axis=1)  # d loss / dh, (B, 2J)
    return x.T @ g, g.sum(axis=0)


def grads_of(model, objective, x, eps):
    model.zero_grad()
    loss = objective.loss(x, eps=eps)
    objective.backward()
    return loss, {name: grad.copy() for name, _, grad in model.parameters()}


# -- the score-function estimator and its leave-one-out baseline ----------------------------


@pytest.mark.parametrize("L", [2, 3, 6])
def test_score_function_baseline_is_the_mean_of_the_other_l_minus_1_samples(L):
    """Encoder gradient = -1/B sum_b 1/L sum_l (f_l - 1/(L-1) sum_{l' != l} f_l') s_l.

    The same number two ways: the leave-one-out form, and the sample-covariance form
    1/(L-1) sum_l (f_l - fbar) s_l (the leave-one-out form times L/(L-1), expanded).
    Dividing by L instead of L - 1, or leaving f_l in its own baseline, changes both.
    """
    model, x = linear_vae(seed=L)
    eps = eps_for(L, seed=10 + L)
    f, dmu, dlogvar = by_hand(model, x, eps)
    baseline = (f.sum(axis=0, keepdims=True) - f) / (L - 1)
    loo_W, loo_b = encoder_gradient(x, (f - baseline) / L, dmu, dlogvar)
    cov_W, cov_b = encoder_gradient(x, (f - f.mean(axis=0)) / (L - 1), dmu, dlogvar)
    np.testing.assert_allclose(loo_W, cov_W, rtol=1e-12)
    np.testing.assert_allclose(loo_b, cov_b, rtol=1e-12)

    _, grads = grads_of(model, ScoreFunction(model, L, baseline=True), x, eps)
    np.testing.assert_allclose(grads["encoder.layers.0.W"], loo_W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["encoder.layers.0.b"], loo_b, rtol=1e-10, atol=1e-12)

    # the wrong normalizations are really different here (the test can tell them apart)
    over_L = (f - (f.sum(axis=0) - f) / L) / L  # the others' sum divided by L
    with_own = (f - f.sum(axis=0) / (L - 1)) / L  # f_l left in its own baseline
    wrong_L, _ = encoder_gradient(x, over_L, dmu, dlogvar)
    wrong_own, _ = encoder_gradient(x, with_own, dmu, dlogvar)
    for wrong in (wrong_L, wrong_own):
        assert np.abs(wrong - loo_W).max() > 1e-3 * np.abs(loo_W).max()


@pytest.mark.parametrize("L", [1, 4])
def test_score_function_without_baseline_is_one_over_l_sum_f_times_score(L):
    model, x = linear_vae(seed=20 + L)
    eps = eps_for(L, seed=30 + L)
    f, dmu, dlogvar = by_hand(model, x, eps)
    W, b = encoder_gradient(x, f / L, dmu, dlogvar)
    _, grads = grads_of(model, ScoreFunction(model, L), x, eps)
    np.testing.assert_allclose(grads["encoder.layers.0.W"], W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["encoder.layers.0.b"], b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("baseline", [False, True])
def test_score_function_value_and_decoder_gradient_are_estimator_a(baseline):
    """Only the encoder's gradient changes: the value is 1/L sum log w, the decoder's
    gradient the reparameterized one, for the same noise."""
    L = 3
    model, x = linear_vae(seed=40)
    eps = eps_for(L, seed=41)
    f, _, _ = by_hand(model, x, eps)
    loss_s, grads_s = grads_of(model, ScoreFunction(model, L, baseline=baseline), x, eps)
    loss_a, grads_a = grads_of(model, SGVB_A(model, L), x, eps)
    assert loss_s == pytest.approx(-f.mean(), rel=1e-13, abs=0)
    assert loss_a == pytest.approx(-f.mean(), rel=1e-13, abs=0)
    for name in ("decoder.layers.0.W", "decoder.layers.0.b"):
        np.testing.assert_allclose(grads_s[name], grads_a[name], rtol=1e-12)


def test_leave_one_out_baseline_with_two_samples_swaps_them():
    """L = 2: b_1 = f_2 and b_2 = f_1, so the gradient is (f_1 - f_2)(s_1 - s_2) / 2."""
    model, x = linear_vae(seed=50)
    eps = eps_for(2, seed=51)
    f, dmu, dlogvar = by_hand(model, x, eps)
    coef_swapped = np.stack([f[0] - f[1], f[1] - f[0]]) / 2
    W, b = encoder_gradient(x, coef_swapped, dmu, dlogvar)
    _, grads = grads_of(model, ScoreFunction(model, 2, baseline=True), x, eps)
    np.testing.assert_allclose(grads["encoder.layers.0.W"], W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["encoder.layers.0.b"], b, rtol=1e-10, atol=1e-12)


# -- IWAE: the gradient weights are the normalized importance weights ---------------------------


def normalized_weights(f):
    """w_l / sum_l' w_l' per column, from log w with Python floats and math.fsum."""
    out = np.empty_like(f)
    for b in range(f.shape[1]):
        col = f[:, b].tolist()
        m = max(col)
        total = math.fsum(math.exp(v - m) for v in col)
        out[:, b] = [math.exp(v - m) / total for v in col]
    return out


@pytest.mark.parametrize("L", [2, 5])
def test_iwae_gradient_is_the_normalized_weight_average_of_per_sample_gradients(L):
    """grad(-bound) = -1/B sum_b sum_l w~_lb grad log w_lb (Burda et al. eq. 14).

    Each grad log w_lb is estimator A's gradient for the single example b and the single
    noise eps[l, b]; the weights come from by_hand's log w. Uniform weights 1/L (estimator
    A), unnormalized ones, or weights missing the log L in their normalizer all differ.
    """
    model, x = linear_vae(seed=60 + L)
    eps = eps_for(L, seed=70 + L)
    f, _, _ = by_hand(model, x, eps)
    weights = normalized_weights(f)
    assert np.ptp(weights) > 0.05  # the weights are far from uniform

    expected = {name: np.zeros_like(p) for name, p, _ in model.parameters()}
    one = SGVB_A(model, 1)
    for b in range(B):
        for k in range(L):
            _, g = grads_of(model, one, x[b : b + 1], eps[k : k + 1, b : b + 1])  # -grad log w
            for name in expected:
                expected[name] += weights[k, b] * g[name] / B

    iwae = IWAE(model, L)
    model.zero_grad()
    loss = iwae.loss(x, eps=eps)
    np.testing.assert_allclose(iwae.weights, weights, rtol=1e-12)
    np.testing.assert_allclose(iwae.weights.sum(axis=0), 1.0, rtol=1e-14)
    iwae.backward()
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(grad, expected[name], rtol=1e-10, atol=1e-13, err_msg=name)
    # and the value: log 1/L sum_l w_l
    lse = [m + math.log(math.fsum(math.exp(v - m) for v in col)) for col, m in zip(f.T, f.max(0))]
    assert loss == pytest.approx(-(np.mean(lse) - math.log(L)), rel=1e-13, abs=0)


# -- orderings that hold exactly for one draw of the noise ----------------------------------------


def test_iwae_with_one_sample_is_estimator_a_in_value_and_gradient():
    model, x = linear_vae(seed=80)
    eps = eps_for(1, seed=81)
    loss_i, grads_i = grads_of(model, IWAE(model, 1), x, eps)
    loss_a, grads_a = grads_of(model, SGVB_A(model, 1), x, eps)
    assert loss_i == pytest.approx(loss_a, rel=1e-14, abs=0)
    for name in grads_a:
        np.testing.assert_allclose(grads_i[name], grads_a[name], rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", range(5))
def test_iwae_is_at_least_estimator_a_and_at_most_the_largest_log_weight(seed):
    """log mean_l w_l >= mean_l log w_l (Jensen, per example, for the same eps);
    and log mean_l w_l <= max_l log w_l."""
    L = 4
    model, x = linear_vae(seed=90)
    eps = eps_for(L, seed=100 + seed)
    f, _, _ = by_hand(model, x, eps)
    iwae = IWAE(model, L).bound(x, eps=eps)
    a = SGVB_A(model, L).bound(x, eps=eps)
    np.testing.assert_allclose(a, f.mean(axis=0), rtol=1e-13)
    assert np.all(iwae > a + 1e-3)  # strict: the log-weights differ
    assert np.all(iwae <= f.max(axis=0) + 1e-12)
    assert np.all(iwae >= f.max(axis=0) - math.log(L) - 1e-12)


def test_iwae_equals_estimator_a_when_every_sample_is_the_same():
    """With L copies of one eps all weights are equal: log mean w = log w = mean log w."""
    L = 5
    model, x = linear_vae(seed=110)
    eps1 = eps_for(1, seed=111)
    eps = np.repeat(eps1, L, axis=0)
    a1 = SGVB_A(model, 1).bound(x, eps=eps1)
    np.testing.assert_allclose(IWAE(model, L).bound(x, eps=eps), a1, rtol=1e-13)
    np.testing.assert_allclose(SGVB_A(model, L).bound(x, eps=eps), a1, rtol=1e-13)
    loss, grads = grads_of(model, IWAE(model, L), x, eps)
    loss1, grads1 = grads_of(model, SGVB_A(model, 1), x, eps1)
    assert loss == pytest.approx(loss1, rel=1e-13, abs=0)
    for name in grads1:
        np.testing.assert_allclose(grads[name], grads1[name], rtol=1e-11, err_msg=name)
