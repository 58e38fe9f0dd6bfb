"""tinyvae.nn.bayes_linear: three ways to sample a Gaussian-weight layer, and their backward."""

import numpy as np
import pytest
from helpers import TOL, seeds
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.gradcheck import check_module
from tinyvae.nn.bayes_linear import MODES, BayesianLinear


def layer(mode, rng, n_in=4, n_out=3):
    bayes = BayesianLinear(n_in, n_out, mode=mode, rng=rng, dtype=np.float64)
    bayes.params["logvar"][...] = rng.normal(-1.0, 0.5, size=(n_in, n_out))
    return bayes


@pytest.mark.parametrize("mode", MODES)
@given(seed=seeds, M=st.integers(1, 6))
def test_backward(mode, seed, M):
    rng = np.random.default_rng(seed)
    bayes = layer(mode, rng)
    A, noise = rng.normal(size=(M, 4)), rng.normal(size=bayes.noise_shape(M))
    report = check_module(bayes, A, noise, constant=(1,), rng=rng)
    assert report.passed(TOL), str(report)
    assert {row["name"] for row in report.rows} == {"input 0", "theta", "logvar", "b"}


def test_a_row_of_zeros_has_no_noise_and_finite_gradients():
    rng = np.random.default_rng(1)
    bayes = layer("local", rng)
    A = rng.normal(size=(3, 4))
    A[1] = 0.0
    B = bayes.forward(A, rng.normal(size=(3, 3)))
    np.testing.assert_array_equal(B[1], bayes.params["b"])
    dA, _ = bayes.backward(rng.normal(size=(3, 3)))
    assert np.isfinite(dA).all() and np.isfinite(bayes.grads["logvar"]).all()


def test_local_reparameterization_has_the_moments_of_weight_samples():
    """B = A W with W ~ q: mean A theta + b and variance (A * A) sigma^2, by Monte Carlo."""
    rng = np.random.default_rng(2)
    A = rng.normal(size=(2, 4))
    separate = layer("separate", rng)
    n = 40_000
    samples = separate.forward(np.repeat(A, n, axis=0), rng.normal(size=(2 * n, 4, 3)))
    separate.clear_cache()
    samples = samples.reshape(2, n, 3)
    mean = A @ separate.params["theta"] + separate.params["b"]
    var = (A * A) @ np.exp(separate.params["logvar"])
    np.testing.assert_allclose(samples.mean(axis=1), mean, atol=5 * np.sqrt(var.max() / n))
    np.testing.assert_allclose(samples.var(axis=1), var, rtol=0.05)
    local = BayesianLinear(4, 3, mode="local", dtype=np.float64)
    for name in ("theta", "logvar", "b"):
        local.params[name][...] = separate.params[name]
    local_samples = local.forward(np.repeat(A, n, axis=0), rng.normal(size=(2 * n, 3)))
    local.clear_cache()
    np.testing.assert_allclose(local_samples.reshape(2, n, 3).var(axis=1), var, rtol=0.05)


def test_shared_noise_is_one_weight_matrix_for_the_batch():
    rng = np.random.default_rng(3)
    bayes = layer("shared", rng)
    A, eps = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    W = bayes.params["theta"] + np.exp(0.5 * bayes.params["logvar"]) * eps
    np.testing.assert_allclose(bayes.forward(A, eps), A @ W + bayes.params["b"])
    bayes.clear_cache()
    separate = layer("separate", np.random.default_rng(3))
    same = separate.forward(A, np.broadcast_to(eps, (5, 4, 3)))
    np.testing.assert_allclose(same, A @ W + bayes.params["b"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "dropout"}, "mode"),
        ({"init_logvar": float("nan")}, "init_logvar"),
        ({"in_features": 0}, "in_features"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = {"in_features": 4, "out_features": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        BayesianLinear(**arguments)
