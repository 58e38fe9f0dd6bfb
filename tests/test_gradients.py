"""Every backward pass against central finite differences, in float64.

Shapes and values are drawn by hypothesis; each check uses a random upstream
gradient, so a backward that is right only for dy = 1 fails.
"""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_function, check_loss, check_module

TOL = 1e-6
batch = st.integers(1, 6)
dim = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)


def off_kinks(x, margin=0.05):
    """Move values away from 0, where ReLU-style derivatives do not exist."""
    return np.where(x >= 0, x + margin, x - margin)


@pytest.mark.parametrize("name", sorted(tv.activations.ACTIVATIONS))
@given(B=batch, D=dim, seed=seeds)
def test_activation_backward(name, B, D, seed):
    rng = np.random.default_rng(seed)
    x = off_kinks(rng.normal(0, 2, (B, D)))
    report = check_module(tv.activations.ACTIVATIONS[name](), x, n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)


@pytest.mark.parametrize("init", ["glorot_uniform", "he_uniform", "aevb_normal", "pytorch"])
@given(B=batch, n_in=dim, n_out=dim, seed=seeds)
def test_linear_backward(init, B, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = tv.Linear(n_in, n_out, init=init, rng=rng, dtype=np.float64)
    report = check_module(layer, rng.normal(size=(B, n_in)), n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)
    assert {row["name"] for row in report.rows} == {"input 0", "W", "b"}


@pytest.mark.parametrize("activation", sorted(tv.activations.ACTIVATIONS))
@given(B=batch, hidden=st.lists(dim, max_size=2), seed=seeds)
def test_mlp_backward(activation, B, hidden, seed):
    rng = np.random.default_rng(seed)
    mlp = tv.MLP(3, hidden, 2, activation=activation, rng=rng, dtype=np.float64)
    for _, param, _ in mlp.parameters():  # random biases keep ReLU inputs off 0
        param[...] = rng.normal(0, 0.7, param.shape)
    report = check_module(mlp, rng.normal(size=(B, 3)), n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)


@given(L=st.integers(0, 3), B=batch, J=dim, seed=seeds)
def test_reparameterize_backward(L, B, J, seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=(B, J)), rng.normal(size=(B, J))
    eps = rng.normal(size=(L, B, J) if L else (B, J))
    report = check_module(tv.Reparameterize(), mu, logvar, eps, n_grads=2, rng=rng)
    assert report.passed(TOL), str(report)


@given(L=st.integers(0, 3), B=batch, D=dim, seed=seeds)
def test_gaussian_log_density_backward(L, B, D, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, D))
    mu = rng.normal(size=(L, B, D) if L else (B, D))   # broadcasts against x
    logvar = rng.normal(0, 0.5, size=(1, D))           # broadcasts over the batch
    report = check_module(tv.GaussianLogDensity(), x, mu, logvar, n_grads=3, rng=rng)
    assert report.passed(TOL), str(report)


@given(L=st.integers(0, 3), B=batch, D=dim, seed=seeds)
def test_bernoulli_backward(L, B, D, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(L, B, D) if L else (B, D))
    x = rng.uniform(size=(B, D))
    report = check_module(tv.BernoulliLogLikelihood(), logits, x, n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)


@given(B=batch, J=dim, seed=seeds)
def test_standard_normal_kl_backward(B, J, seed):
    rng = np.random.default_rng(seed)
    report = check_module(tv.StandardNormalKL(), rng.normal(size=(B, J)),
                          rng.normal(size=(B, J)), n_grads=2, rng=rng)
    assert report.passed(TOL), str(report)


@given(B=batch, J=dim, seed=seeds)
def test_gaussian_kl_backward(B, J, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.normal(size=(B, J)) for _ in range(4)]
    report = check_module(tv.GaussianKL(), *inputs, n_grads=4, rng=rng)
    assert report.passed(TOL), str(report)


def smallest_relu_input(model, x, eps):
    """The smallest |input| of any ReLU in the VAE for this x and noise."""
    smallest = np.inf

    def run(mlp, h):
        nonlocal smallest
        for layer in mlp.layers:
            if isinstance(layer, tv.ReLU):
                smallest = min(smallest, np.abs(h).min())
            h = layer.forward(h)
        return h

    h = run(model.encoder, x)
    mu, logvar = h[:, :model.z_dim], h[:, model.z_dim:]
    run(model.decoder, (mu + np.exp(0.5 * logvar) * eps).reshape(-1, model.z_dim))
    model.clear_cache()
    return smallest


@pytest.mark.parametrize("estimator", ["B", "A", "iwae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_bounded"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@given(B=batch, L=st.integers(1, 3), hidden=st.lists(dim, max_size=2), seed=seeds)
# gradients of ~1e-6 whose finite differences are mostly round-off (see gradcheck.rel_error)
@example(B=3, L=2, hidden=[1, 1], seed=263)
def test_whole_vae_loss_backward(estimator, likelihood, activation, B, L, hidden, seed):
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=5, hidden=hidden, z_dim=2, activation=activation,
                   likelihood=likelihood.split("_")[0], bounded_mean="bounded" in likelihood,
                   rng=rng, dtype=np.float64)
    for _, param, _ in model.parameters():
        param[...] = rng.normal(0, 0.5, param.shape)
    x = rng.uniform(size=(B, 5))
    eps = rng.normal(size=(L, B, 2))
    # a finite difference that steps across a ReLU kink measures no derivative
    assume(activation != "relu" or smallest_relu_input(model, x, eps) > 1e-3)
    report = check_loss(model, lambda: model.loss(x, eps=eps, estimator=estimator), rng=rng)
    assert report.passed(TOL), str(report)
    assert len(report.rows) == len(list(model.parameters()))


def test_check_catches_a_wrong_backward():
    """The checker must fail a backward that is wrong, even by a factor."""

    class BadTanh(tv.Tanh):
        def backward(self, dy):
            return 1.01 * super().backward(dy)

    x = np.random.default_rng(0).normal(size=(4, 3))
    report = check_module(BadTanh(), x)
    assert not report.passed(TOL)
    assert "FAIL" in str(report)


def test_check_catches_a_wrong_parameter_gradient():
    class BadLinear(tv.Linear):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["b"] *= 0  # forgets the bias gradient
            return dx

    rng = np.random.default_rng(0)
    report = check_module(BadLinear(3, 2, rng=rng, dtype=np.float64), rng.normal(size=(4, 3)))
    failing = [row["name"] for row in report.rows if row["rel_error"] >= TOL]
    assert failing == ["b"]


def test_check_function_on_a_plain_function():
    x = np.linspace(-2, 2, 7)
    report = check_function(np.sin, lambda dy: dy * np.cos(x), x)
    assert report.passed(TOL)
    report = check_function(np.sin, lambda dy: dy * np.sin(x), x)
    assert not report.passed(TOL)


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        check_module(tv.Tanh(), np.ones((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="astype"):
        check_module(tv.Linear(2, 2), np.ones((2, 2)))  # float32 parameters


def test_report_names_the_worst_entry():
    x = np.zeros(5)
    report = check_function(lambda v: v, lambda dy: dy + (np.arange(5) == 3), x)
    row = report.rows[0]
    assert row["worst_index"] == (3,)
    assert row["analytic"] - row["numeric"] == pytest.approx(1.0)


def test_check_fails_nan_gradients():
    class NaNTanh(tv.Tanh):
        def backward(self, dy):
            return super().backward(dy) * np.nan

    report = check_module(NaNTanh(), np.ones((2, 2)))
    assert not report.passed(TOL)
    assert report.max_error == float("inf")


def test_check_refuses_missing_or_misshapen_gradients():
    class ForgetsLogvar(tv.Reparameterize):
        def backward(self, dz):
            return super().backward(dz)[0]

    rng = np.random.default_rng(0)
    mu, logvar, eps = (rng.normal(size=(3, 2)) for _ in range(3))
    with pytest.raises(ValueError, match="returned 1 gradients, expected 2"):
        check_module(ForgetsLogvar(), mu, logvar, eps, n_grads=2)

    class SummedGradient(tv.Tanh):
        def backward(self, dy):
            return super().backward(dy).sum(axis=0)   # would broadcast silently

    with pytest.raises(ValueError, match=r"expected shape \(3, 2\)"):
        check_module(SummedGradient(), mu)


def test_check_requires_accumulation_into_grads():
    class Overwrites(tv.Linear):
        def backward(self, dy):
            x = self._pop_cache()
            self.grads["W"][...] = x.T @ dy             # = instead of +=
            self.grads["b"] += dy.sum(axis=0)
            return dy @ self.params["W"].T

    class Rebinds(tv.Linear):
        def backward(self, dy):
            x = self._pop_cache()
            self.grads["W"] = self.grads["W"] + x.T @ dy  # a new array
            self.grads["b"] += dy.sum(axis=0)
            return dy @ self.params["W"].T

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    report = check_module(Overwrites(3, 2, rng=rng, dtype=np.float64), x, n_grads=1)
    assert [row["name"] for row in report.rows if row["rel_error"] >= TOL] == ["W"]
    with pytest.raises(ValueError, match="in place"):
        check_module(Rebinds(3, 2, rng=rng, dtype=np.float64), x, n_grads=1)


def test_check_loss_leaves_no_cache_behind():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=rng, dtype=np.float64)
    x, eps = rng.uniform(size=(2, 4)), rng.normal(size=(2, 2))
    assert check_loss(model, lambda: model.loss(x, eps=eps)).passed(TOL)
    with pytest.raises(RuntimeError, match="forward"):
        model.backward()


def test_first_layer_without_input_gradient():
    """input_grad=False skips dL/dx (the input is data) and says so with None."""
    rng = np.random.default_rng(0)
    layer = tv.Linear(3, 2, rng=rng, dtype=np.float64, input_grad=False)
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    assert layer.backward(dy) is None
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy)
    mlp = tv.MLP(3, (4,), 2, rng=rng, dtype=np.float64, input_grad=False)
    for _, param, _ in mlp.parameters():
        param[...] = rng.normal(0, 0.7, param.shape)
    report = check_module(mlp, x, n_grads=0, rng=rng)   # parameters only
    assert report.passed(TOL) and len(report.rows) == 4
