"""Activations at non-default hyperparameters, shared copies and parameter de-duplication.

The default slope of LeakyReLU (0.01) and alpha of ELU (1.0) hide a layer that ignores
its hyperparameter: every test here uses other values, so a forward or a backward that
fell back to the default would fail. The references are written out with Python floats
and ``math``, independently of the library's array code.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_function, check_module, numerical_gradient
from tinyvae.nn import ELU, MLP, LeakyReLU, Linear, Module

SLOPES = [0.2, 0.5, 1.7]  # 1.7 > 1: max(x, slope x) would no longer be the formula
ALPHAS = [0.3, 2.0]


def off_kink(shape, seed, margin=0.1):
    """float64 inputs of both signs, at least ``margin`` away from the kink at 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(margin, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    x.flat[0], x.flat[1] = -2.5, 1.5  # both branches, whatever the draw
    return x


def leaky_relu_reference(x, slope):
    return np.array([v if v > 0 else slope * v for v in x.ravel().tolist()]).reshape(x.shape)


def leaky_relu_derivative(x, slope):
    return np.array([1.0 if v > 0 else slope for v in x.ravel().tolist()]).reshape(x.shape)


def elu_reference(x, alpha):
    return np.array([v if v > 0 else alpha * math.expm1(v) for v in x.ravel().tolist()]).reshape(
        x.shape
    )


def elu_derivative(x, alpha):
    return np.array([1.0 if v > 0 else alpha * math.exp(v) for v in x.ravel().tolist()]).reshape(
        x.shape
    )


# -- LeakyReLU --------------------------------------------------------------------------------


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_forward_is_the_closed_form_at_this_slope(slope):
    x = off_kink((4, 5), seed=0)
    np.testing.assert_allclose(LeakyReLU(slope).forward(x), leaky_relu_reference(x, slope), 0, 0)


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_backward_is_one_or_the_slope(slope):
    x = off_kink((4, 5), seed=1)
    dy = np.random.default_rng(2).standard_normal(x.shape)
    layer = LeakyReLU(slope)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(dy), dy * leaky_relu_derivative(x, slope), 1e-15)


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_passes_a_float64_gradient_check_at_this_slope(slope):
    report = check_module(LeakyReLU(slope), off_kink((3, 4), seed=3), n_grads=1)
    assert report.passed(), str(report)


@pytest.mark.parametrize("slope", SLOPES)
def test_leaky_relu_does_not_fall_back_to_the_default_slope(slope):
    """On negative inputs forward and backward both scale by *this* slope, not 0.01."""
    x = np.array([[-1.0, -2.0]])
    layer = LeakyReLU(slope)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    assert y.tolist() == [[-slope, -2.0 * slope]]
    assert dx.tolist() == [[slope, slope]]
    assert y.tolist() != LeakyReLU().forward(x).tolist()


def test_two_leaky_relus_keep_their_own_slopes():
    """The slope is per instance: making a second layer does not change the first."""
    x = np.array([-4.0])
    a, b = LeakyReLU(0.2), LeakyReLU(0.5)
    assert a.forward(x).tolist() == [-0.8] and b.forward(x).tolist() == [-2.0]


# -- ELU --------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_forward_is_the_closed_form_at_this_alpha(alpha):
    x = off_kink((4, 5), seed=4)
    np.testing.assert_allclose(ELU(alpha).forward(x), elu_reference(x, alpha), rtol=1e-15)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_backward_is_one_or_alpha_exp_x(alpha):
    x = off_kink((4, 5), seed=5)
    dy = np.random.default_rng(6).standard_normal(x.shape)
    layer = ELU(alpha)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(dy), dy * elu_derivative(x, alpha), rtol=1e-14)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_passes_a_float64_gradient_check_at_this_alpha(alpha):
    report = check_module(ELU(alpha), off_kink((3, 4), seed=7), n_grads=1)
    assert report.passed(), str(report)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_saturates_at_minus_alpha_and_is_the_identity_far_right(alpha):
    """ELU(-inf) = -alpha: the saturation level is alpha itself; no overflow at +1000."""
    x = np.array([-1000.0, -50.0, 1000.0])
    layer = ELU(alpha)
    with np.errstate(over="raise", invalid="raise"):
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(x))
    assert y.tolist() == [-alpha, -alpha, 1000.0]
    # d/dx alpha (e^x - 1) = alpha e^x -> 0 on the left, 1 on the right. The backward
    # computes it from the output as y + alpha, exact to round-off of alpha (not of alpha e^x)
    np.testing.assert_allclose(
        dx, [0.0, alpha * math.exp(-50.0), 1.0], rtol=1e-12, atol=4 * np.spacing(alpha)
    )


@pytest.mark.parametrize("alpha", ALPHAS)
def test_elu_does_not_fall_back_to_alpha_one(alpha):
    x = np.array([-1.0])
    layer = ELU(alpha)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    assert y[0] == pytest.approx(alpha * math.expm1(-1.0), rel=1e-15, abs=0)
    assert dx[0] == pytest.approx(alpha * math.exp(-1.0), rel=1e-15, abs=0)
    assert abs(dx[0] - math.exp(-1.0)) > 0.1  # what alpha = 1 would give


@given(
    slope=st.floats(0.0, 3.0),
    alpha=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**16),
)
def test_any_slope_and_alpha_pass_a_gradient_check(slope, alpha, seed):
    x = off_kink((2, 3), seed=seed)
    for layer in (LeakyReLU(slope), ELU(alpha)):
        report = check_module(layer, x.copy(), n_grads=1)
        assert report.passed(), f"{type(layer).__name__}\n{report}"


# -- shared_copy ------------------------------------------------------------------------------


def linear64(seed, n_in=3, n_out=2):
    layer = Linear(n_in, n_out, rng=np.random.default_rng(seed), dtype=np.float64)
    layer.params["b"][...] = np.random.default_rng(seed + 1).standard_normal(n_out)
    return layer


def test_shared_copy_shares_parameter_and_gradient_arrays_but_not_the_cache():
    layer = linear64(0)
    layer.forward(np.ones((1, 3)))  # a pending cache must not leak into the copy
    twin = layer.shared_copy()
    for name in ("W", "b"):
        assert twin.params[name] is layer.params[name]
        assert twin.grads[name] is layer.grads[name]
    assert twin.cache is None and layer.cache is not None
    layer.params["W"][0, 0] += 1.0  # an optimizer step on one is seen by the other
    np.testing.assert_array_equal(twin.forward(np.eye(3)), layer.forward(np.eye(3)))


@pytest.mark.parametrize("order", ["original_first", "copy_first"])
def test_two_applications_before_either_backward_sum_their_gradients(order):
    """y1 = layer(x1), y2 = twin(x2): dW = x1^T dy1 + x2^T dy2, each dx from its own cache."""
    layer = linear64(1)
    twin = layer.shared_copy()
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    dy1, dy2 = rng.standard_normal((4, 2)), rng.standard_normal((5, 2))
    layer.forward(x1)
    twin.forward(x2)
    if order == "original_first":
        dx1, dx2 = layer.backward(dy1), twin.backward(dy2)
    else:
        dx2, dx1 = twin.backward(dy2), layer.backward(dy1)
    W = layer.params["W"]
    np.testing.assert_allclose(layer.grads["W"], x1.T @ dy1 + x2.T @ dy2, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], dy1.sum(0) + dy2.sum(0), rtol=1e-13)
    np.testing.assert_allclose(dx1, dy1 @ W.T, rtol=1e-13)
    np.testing.assert_allclose(dx2, dy2 @ W.T, rtol=1e-13)


class Twice(Module):
    """y = f(f(x)) with one network applied twice, through a shared copy."""

    def __init__(self, net):
        super().__init__()
        self.first, self.second = net, net.shared_copy()

    def forward(self, x):
        return self.second.forward(self.first.forward(x))

    def backward(self, dy):
        return self.first.backward(self.second.backward(dy))


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "elu"])
def test_a_network_applied_twice_through_a_shared_copy_passes_a_gradient_check(activation):
    """Every layer's cache (Linear's input, the activation's mask or output) must be its own.

    A shared copy that shared the children's caches would backpropagate the second
    application with the first one's activations; one that copied the parameters
    would lose one application's gradient. check_module differentiates f(f(x)) in
    every (shared, listed-once) parameter.
    """
    net = MLP(3, (4,), 3, activation=activation, rng=np.random.default_rng(3), dtype=np.float64)
    for _, param, _ in net.parameters():
        param[...] = np.random.default_rng(param.size).standard_normal(param.shape)
    model = Twice(net)
    assert [name for name, _, _ in model.parameters()] == [
        "first.layers.0.W",
        "first.layers.0.b",
        "first.layers.2.W",
        "first.layers.2.b",
    ]
    x = np.random.default_rng(4).standard_normal((5, 3))
    report = check_module(model, x, n_grads=1)
    assert report.passed(), str(report)


def test_function_of_two_applications_matches_finite_differences_in_the_input():
    """d/dx [f(x) + f(2x)] through the original and the copy, by check_function."""
    net = MLP(2, (3,), 2, activation="tanh", rng=np.random.default_rng(5), dtype=np.float64)
    twin = net.shared_copy()

    def forward(x):
        return net.forward(x) + twin.forward(2.0 * x)

    def backward(dy):
        return net.backward(dy) + 2.0 * twin.backward(dy)

    report = check_function(forward, backward, np.random.default_rng(6).standard_normal((4, 2)))
    assert report.passed(), str(report)


# -- parameters(): each array once --------------------------------------------------------------


class TwoPaths(Module):
    def __init__(self, shared, other):
        super().__init__()
        self.a, self.b, self.c = shared, other, shared
        self.layers = [shared, shared.shared_copy()]


def test_a_parameter_reachable_by_several_paths_is_listed_once_under_its_first_name():
    shared, other = linear64(7), linear64(8)
    model = TwoPaths(shared, other)
    names = [name for name, _, _ in model.parameters()]
    assert names == ["a.W", "a.b", "b.W", "b.b"]
    assert model.num_parameters() == 2 * (3 * 2 + 2)
    ids = [id(param) for _, param, _ in model.parameters()]
    assert len(set(ids)) == len(ids)


def test_equal_values_in_different_arrays_are_not_merged():
    """De-duplication is by identity: two layers with the same numbers are two layers."""
    first = linear64(9)
    second = linear64(9)
    assert np.array_equal(first.params["W"], second.params["W"])
    model = TwoPaths(first, second)
    assert [name for name, _, _ in model.parameters()] == ["a.W", "a.b", "b.W", "b.b"]


def test_a_vae_lists_the_encoder_and_decoder_once_though_its_parts_hold_them_too():
    vae = tv.VAE(x_dim=5, hidden=(4,), z_dim=2, rng=np.random.default_rng(0), dtype=np.float64)
    names = [name for name, _, _ in vae.parameters()]
    assert all(name.startswith(("encoder.", "decoder.")) for name in names)
    expected = (5 * 4 + 4) + (4 * 4 + 4) + (2 * 4 + 4) + (4 * 5 + 5)
    assert vae.num_parameters() == expected


def test_an_optimizer_steps_a_shared_parameter_once():
    """Listed twice, an SGD step would move a shared weight by 2 lr g instead of lr g."""
    shared = linear64(10)
    model = TwoPaths(shared, linear64(11))
    W0 = shared.params["W"].copy()
    for _, _, grad in model.parameters():
        grad[...] = 1.0
    tv.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_allclose(shared.params["W"], W0 - 0.1, rtol=0, atol=1e-15)


def test_zero_grad_reaches_a_shared_copy_gradients():
    layer = linear64(12)
    twin = layer.shared_copy()
    layer.forward(np.ones((2, 3)))
    layer.backward(np.ones((2, 2)))
    twin.zero_grad()
    assert not layer.grads["W"].any() and not layer.grads["b"].any()


def test_numerical_gradient_helper_sanity():
    """The finite-difference helper itself, on y = x^3 (so the checks above mean something)."""
    x = np.array([0.5, -1.5, 2.0])
    grad = numerical_gradient(lambda: x**3, x, np.ones(3))
    np.testing.assert_allclose(grad, 3 * np.array([0.5, -1.5, 2.0]) ** 2, rtol=1e-9)
