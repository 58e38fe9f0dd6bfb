"""tinyvae.gradcheck: the checker itself must catch wrong backward passes.

Every backward pass of the library is checked with it (tests/nn/,
tests/distributions/, tests/models/, tests/objectives/); here it is shown
failing what is wrong -- by a factor, in one parameter, by NaN, by a missing,
misshapen or overwritten gradient -- and refusing float32.
"""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.gradcheck import check_function, check_loss, check_module

TOL = 1e-6


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
            return super().backward(dy).sum(axis=0)  # would broadcast silently

    with pytest.raises(ValueError, match=r"expected shape \(3, 2\)"):
        check_module(SummedGradient(), mu)


def test_check_requires_accumulation_into_grads():
    class Overwrites(tv.Linear):
        def backward(self, dy):
            x = self._pop_cache()
            self.grads["W"][...] = x.T @ dy  # = instead of +=
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
