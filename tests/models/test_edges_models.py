"""Reconstructions, samples, dreams and the active-unit count checked by value.

The encoder and decoder are re-run by hand from the parameters (relu MLPs with one
hidden layer), and the noise is re-drawn from a twin generator seeded the same way, so
every output of the model is compared with an independent computation, number by number.
"""

import math

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.evaluation import active_units
from tinyvae.objectives import WakeSleep

D, H, J = 6, 5, 3

CONFIGS = [
    pytest.param("bernoulli", False, np.float64, id="bernoulli-f64"),
    pytest.param("bernoulli", False, np.float32, id="bernoulli-f32"),
    pytest.param("gaussian", False, np.float64, id="gaussian-f64"),
    pytest.param("gaussian", True, np.float64, id="gaussian-bounded-f64"),
    pytest.param("gaussian", True, np.float32, id="gaussian-bounded-f32"),
]


def make_model(likelihood, bounded, dtype, seed=0, logvar_shift=0.0):
    """Random parameters of order one, so that sigma = exp(logvar / 2) is far from 1."""
    rng = np.random.default_rng(seed)
    model = tv.VAE(
        x_dim=D,
        hidden=(H,),
        z_dim=J,
        likelihood=likelihood,
        bounded_mean=bounded,
        rng=rng,
        dtype=dtype,
    )
    for _, param, _ in model.parameters():
        param[...] = rng.normal(0.0, 0.8, size=param.shape)
    model.encoder.layers[-1].params["b"][J:] += 0.8  # logvar around 0.8, not 0
    if likelihood == "gaussian":
        model.decoder.layers[-1].params["b"][D:] += logvar_shift
    return model


def mlp_by_hand(net, v):
    """relu MLP with one hidden layer, in float64."""
    first, last = net.layers[0], net.layers[-1]
    h = np.maximum(v @ first.params["W"].astype(np.float64) + first.params["b"], 0.0)
    return h @ last.params["W"].astype(np.float64) + last.params["b"].astype(np.float64)


def encode_by_hand(model, x):
    out = mlp_by_hand(model.encoder, x.astype(np.float64))
    return out[:, :J], out[:, J:]


def mean_by_hand(model, z):
    """E[x|z]: 1 / (1 + e^-logits), or mu_x (through 1 / (1 + e^-a) when bounded)."""
    out = mlp_by_hand(model.decoder, z.astype(np.float64))
    if model.likelihood_name == "bernoulli":
        return 1.0 / (1.0 + np.exp(-out))
    mu_x = out[:, :D]
    return 1.0 / (1.0 + np.exp(-mu_x)) if model.bounded_mean else mu_x


def logvar_x_by_hand(model, z):
    return mlp_by_hand(model.decoder, z.astype(np.float64))[:, D:]


def tolerance(dtype):
    return {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 2e-5, "atol": 2e-6}


def data(n=7, seed=1):
    return (np.random.default_rng(seed).uniform(size=(n, D)) > 0.5).astype(np.float64)


# -- reconstruct, decode_mean, sample ------------------------------------------------------------


@pytest.mark.parametrize(("likelihood", "bounded", "dtype"), CONFIGS)
def test_reconstruct_is_the_mean_of_p_x_given_one_sampled_z(likelihood, bounded, dtype):
    """reconstruct(x, rng) = E[x | z], z = mu + exp(logvar / 2) eps, eps from the same rng."""
    model = make_model(likelihood, bounded, dtype)
    x = data().astype(dtype)
    got = model.reconstruct(x, np.random.default_rng(5))
    eps = np.random.default_rng(5).standard_normal((len(x), J), dtype=model.dtype)
    mu, logvar = encode_by_hand(model, x)
    assert np.abs(logvar).mean() > 0.3  # sigma is not 1
    z = mu + np.exp(logvar / 2) * eps
    expected = mean_by_hand(model, z)
    assert got.shape == (len(x), D) and got.dtype == model.dtype
    np.testing.assert_allclose(got, expected, **tolerance(dtype))
    # it is not the reconstruction at the posterior mean, nor with sigma = exp(logvar)
    for wrong_z in (mu, mu + np.exp(logvar) * eps):
        assert np.abs(mean_by_hand(model, wrong_z) - got).max() > 1e-3


@pytest.mark.parametrize(("likelihood", "bounded", "dtype"), CONFIGS)
def test_decode_mean_is_e_x_given_z(likelihood, bounded, dtype):
    model = make_model(likelihood, bounded, dtype, seed=2)
    z = np.random.default_rng(3).standard_normal((4, J)) * 2.0
    got = model.decode_mean(z)
    np.testing.assert_allclose(got, mean_by_hand(model, z.astype(dtype)), **tolerance(dtype))
    if likelihood == "bernoulli" or bounded:
        assert got.min() > 0 and got.max() < 1
    else:
        assert got.min() < 0 or got.max() > 1  # unbounded: a sigmoid here would be wrong


@pytest.mark.parametrize(("likelihood", "bounded", "dtype"), CONFIGS)
def test_sample_is_e_x_given_z_for_z_from_the_prior(likelihood, bounded, dtype):
    model = make_model(likelihood, bounded, dtype, seed=4)
    got = model.sample_means(6, np.random.default_rng(9))
    z = np.random.default_rng(9).standard_normal((6, J), dtype=model.dtype)
    assert got.shape == (6, D) and got.dtype == model.dtype
    np.testing.assert_allclose(got, mean_by_hand(model, z), **tolerance(dtype))


def test_decode_returns_the_raw_decoder_outputs():
    """Bernoulli: logits; Gaussian: (mu_x before or after the sigmoid, logvar_x)."""
    z = np.random.default_rng(0).standard_normal((3, J))
    bern = make_model("bernoulli", False, np.float64, seed=6)
    out = mlp_by_hand(bern.decoder, z)
    np.testing.assert_allclose(bern.decode(z), out, rtol=1e-13)
    for bounded in (False, True):
        gauss = make_model("gaussian", bounded, np.float64, seed=7)
        out = mlp_by_hand(gauss.decoder, z)
        mu_x, logvar_x = gauss.decode(z)
        expected_mu = 1 / (1 + np.exp(-out[:, :D])) if bounded else out[:, :D]
        np.testing.assert_allclose(mu_x, expected_mu, rtol=1e-13)
        np.testing.assert_allclose(logvar_x, out[:, D:], rtol=1e-13)


# -- wake-sleep dreams ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bernoulli_dreams_are_the_twin_generators_draws(dtype):
    """z = normal draws, then x = (u < sigmoid(logits(z))) with u uniform, in that order."""
    model = make_model("bernoulli", False, dtype, seed=10)
    z, x = WakeSleep(model).dream(50, np.random.default_rng(11))
    twin = np.random.default_rng(11)
    z_exp = twin.standard_normal((50, J), dtype=model.dtype)
    p = mean_by_hand(model, z_exp)
    u = twin.random(p.shape)
    np.testing.assert_array_equal(z, z_exp)
    # away from u == p (where float32 rounding of p could flip the comparison)
    clear = np.abs(u - p) > 1e-5
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(x[clear], (u < p)[clear].astype(x.dtype))
    assert x.dtype == model.dtype and set(np.unique(x)) <= {0.0, 1.0}


def test_bernoulli_dream_pixel_frequencies_are_their_probabilities():
    """Over many dreams, pixel d is on with frequency E_z[sigmoid(logits_d(z))] (and, among
    dreams with p_d > 0.5 versus < 0.5, with the matching conditional frequencies)."""
    model = make_model("bernoulli", False, np.float64, seed=12)
    model.decoder.layers[-1].params["b"][...] = [-2.5, -1.0, 0.0, 0.7, 1.5, 3.0]
    n = 20000
    z, x = WakeSleep(model).dream(n, np.random.default_rng(13))
    p = mean_by_hand(model, z)
    se = np.sqrt(p.mean(0) * (1 - p.mean(0)) / n)
    np.testing.assert_array_less(np.abs(x.mean(0) - p.mean(0)), 5 * se)
    assert np.abs(p.mean(0) - 0.5).max() > 0.3  # 1 - p would be caught
    # conditional on z: E[(x - p)] = 0 within every bin of p
    for low, high in ((0.0, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 1.0)):
        sel = (p >= low) & (p < high)
        if sel.sum() > 1000:
            resid = (x - p)[sel]
            assert abs(resid.mean()) < 5 * math.sqrt(0.25 / sel.sum())


def test_gaussian_dreams_are_the_twin_generators_draws():
    """z = normal draws, then x = mu_x(z) + exp(logvar_x(z) / 2) * normal draws."""
    model = make_model("gaussian", True, np.float64, seed=14, logvar_shift=1.0)
    z, x = WakeSleep(model).dream(40, np.random.default_rng(15))
    twin = np.random.default_rng(15)
    z_exp = twin.standard_normal((40, J))
    noise = twin.standard_normal((40, D))
    expected = mean_by_hand(model, z_exp) + np.exp(logvar_x_by_hand(model, z_exp) / 2) * noise
    np.testing.assert_array_equal(z, z_exp)
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("bounded", [False, True])
def test_gaussian_dreams_have_the_decoders_mean_and_variance(bounded):
    """(x - mu_x(z)) / exp(logvar_x(z) / 2) is standard normal over many dreams."""
    model = make_model("gaussian", bounded, np.float64, seed=16, logvar_shift=1.5)
    n = 20000
    z, x = WakeSleep(model).dream(n, np.random.default_rng(17))
    logvar_x = logvar_x_by_hand(model, z)
    assert np.abs(logvar_x.mean()) > 0.5  # so exp(logvar) and exp(logvar / 2) differ
    r = (x - mean_by_hand(model, z)) / np.exp(logvar_x / 2)
    assert abs(r.mean()) < 5 / math.sqrt(r.size)
    assert abs(r.var() - 1.0) < 5 * math.sqrt(2 / r.size)
    np.testing.assert_allclose(r.var(axis=0), 1.0, atol=5 * math.sqrt(2 / n))


# -- active units ---------------------------------------------------------------------------------


def linear_encoder_model(scales):
    """mu_u = scales[u] * x_0 (+ a constant): Var_x(mu_u) = scales[u]^2 Var(x_0)."""
    model = tv.VAE(x_dim=D, hidden=(), z_dim=len(scales), rng=np.random.default_rng(0))
    model = model.astype(np.float64)
    enc = model.encoder.layers[0]
    enc.params["W"][...] = 0.0
    enc.params["W"][0, : len(scales)] = scales
    enc.params["b"][...] = 0.3  # a constant shift changes no variance
    enc.params["W"][1, len(scales) :] = 5.0  # logvar varies a lot: it must not count
    return model


def half_on_x(n=400):
    """x_0 is 0 for half the rows and 1 for the other half: Var(x_0) = 1/4 exactly."""
    x = (np.random.default_rng(0).uniform(size=(n, D)) > 0.5).astype(np.float64)
    x[:, 0] = np.arange(n) % 2
    return x


def test_active_units_counts_variances_just_above_the_threshold_and_not_just_below():
    threshold = 0.01
    above = 2 * math.sqrt(threshold * (1 + 1e-6))  # Var = threshold (1 + 1e-6)
    below = 2 * math.sqrt(threshold * (1 - 1e-6))  # Var = threshold (1 - 1e-6)
    model = linear_encoder_model([above, below, 0.0, above])
    x = half_on_x()
    count, variances = active_units(model, x, threshold=threshold)
    np.testing.assert_allclose(
        variances,
        [threshold * (1 + 1e-6), threshold * (1 - 1e-6), 0.0, threshold * (1 + 1e-6)],
        rtol=1e-9,
        atol=1e-18,
    )
    assert count == 2


def test_the_threshold_argument_moves_the_count():
    # Var(mu_u) = scale^2 / 4: 0.0025, 0.009025, 0.04, 0.16, 0.64
    model = linear_encoder_model([0.1, 0.19, 0.4, 0.8, 1.6])
    x = half_on_x()
    counts = [active_units(model, x, threshold=t)[0] for t in (0.001, 0.005, 0.02, 0.1, 0.5, 1.0)]
    assert counts == [5, 4, 3, 2, 1, 0]
    assert active_units(model, x)[0] == 3  # the default threshold is 1e-2


def test_a_variance_equal_to_the_threshold_is_not_counted():
    """Var = 0.0625 exactly (x_0 / 2 takes the values 0 and 1/2); the count is Var > t."""
    model = linear_encoder_model([0.5])
    count, variances = active_units(model, half_on_x(), threshold=0.0625)
    assert variances.tolist() == [0.0625]
    assert count == 0
    assert active_units(model, half_on_x(), threshold=0.0625 - 1e-12)[0] == 1
