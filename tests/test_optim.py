"""Optimizers reproduce trajectories computed by hand from their papers' equations."""

import math

import numpy as np
import pytest

import tinyvae as tv


class Quadratic(tv.Module):
    """f(theta) = 1/2 sum a_i theta_i^2 with gradient a * theta: a known landscape."""

    def __init__(self, theta, a):
        super().__init__()
        self.add_param("theta", np.array(theta, dtype=np.float64))
        self.a = np.array(a, dtype=np.float64)

    def compute_grad(self):
        self.zero_grad()
        self.grads["theta"] += self.a * self.params["theta"]


def run(optimizer_class, steps=6, **hyper):
    model = Quadratic([1.0, -2.0, 0.5], [1.0, 10.0, 0.1])
    opt = optimizer_class(model.parameters(), **hyper)
    trajectory = []
    for _ in range(steps):
        model.compute_grad()
        opt.step()
        trajectory.append(model.params["theta"].copy())
    return np.array(trajectory)


def by_hand(update, steps=6):
    """Apply a scalar update rule to each coordinate with plain Python floats."""
    theta, a = [1.0, -2.0, 0.5], [1.0, 10.0, 0.1]
    state = [dict() for _ in theta]
    rows = []
    for t in range(1, steps + 1):
        for i in range(3):
            g = a[i] * theta[i]
            theta[i] = update(theta[i], g, t, state[i])
        rows.append(list(theta))
    return np.array(rows)


def test_adam_follows_algorithm_1():
    alpha, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8

    def adam(theta, g, t, s):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1**t)
        v_hat = s["v"] / (1 - b2**t)
        return theta - alpha * m_hat / (math.sqrt(v_hat) + eps)

    np.testing.assert_allclose(run(tv.Adam, lr=alpha), by_hand(adam), rtol=1e-13)


def test_adam_first_step_has_size_lr_whatever_the_gradient_scale():
    """Thanks to the bias corrections, m_hat / sqrt(v_hat) = sign(g) at t = 1."""
    start = np.array([1.0, -2.0, 0.5])
    first = run(tv.Adam, steps=1, lr=0.01)[0]
    np.testing.assert_allclose(np.abs(first - start), 0.01, rtol=1e-6)


def test_adam_defaults_are_the_papers():
    opt = tv.Adam(Quadratic([1.0], [1.0]).parameters())
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps) == (1e-3, 0.9, 0.999, 1e-8)


def test_sgd_with_momentum_follows_its_equations():
    lr, mu = 0.05, 0.9

    def sgd(theta, g, t, s):
        s["v"] = mu * s.get("v", 0.0) - lr * g
        return theta + s["v"]

    np.testing.assert_allclose(run(tv.SGD, lr=lr, momentum=mu), by_hand(sgd), rtol=1e-13)


def test_plain_sgd_is_gradient_descent():
    np.testing.assert_allclose(
        run(tv.SGD, steps=1, lr=0.1)[0],
        np.array([1.0, -2.0, 0.5]) * (1 - 0.1 * np.array([1, 10, 0.1])),
    )


def test_adagrad_follows_its_equations():
    lr, eps = 0.3, 1e-8

    def adagrad(theta, g, t, s):
        s["s"] = s.get("s", 0.0) + g * g
        return theta - lr * g / (math.sqrt(s["s"]) + eps)

    np.testing.assert_allclose(run(tv.AdaGrad, lr=lr), by_hand(adagrad), rtol=1e-13)


@pytest.mark.parametrize("optimizer_class", [tv.Adam, tv.SGD, tv.AdaGrad, tv.RMSProp, tv.AdaMax])
def test_state_round_trip_continues_identically(optimizer_class):
    model_a = Quadratic([1.0, -2.0, 0.5], [1.0, 10.0, 0.1])
    opt_a = optimizer_class(model_a.parameters(), lr=0.1)
    for _ in range(3):
        model_a.compute_grad()
        opt_a.step()
    model_b = Quadratic([0.0, 0.0, 0.0], [1.0, 10.0, 0.1])
    opt_b = optimizer_class(model_b.parameters(), lr=0.1)
    model_b.load_state_dict(model_a.state_dict())
    opt_b.load_state_dict(opt_a.state_dict())
    for model, opt in ((model_a, opt_a), (model_b, opt_b)):
        model.compute_grad()
        opt.step()
    np.testing.assert_array_equal(model_a.params["theta"], model_b.params["theta"])


def test_mismatched_state_is_rejected_before_changing_anything():
    opt = tv.Adam(Quadratic([1.0, 2.0], [1.0, 1.0]).parameters())
    other = tv.Adam(Quadratic([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]).parameters())
    before = opt.state_dict()
    with pytest.raises(ValueError, match="theta"):
        opt.load_state_dict(other.state_dict())
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
