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


def problems_of(report):
    assert not report.passed() and not report
    return " | ".join(report.problems)


def test_a_backward_that_forgets_to_return_fails():
    class NoReturn(tv.Tanh):
        def backward(self, dy):
            super().backward(dy)

    report = check_module(NoReturn(), np.ones((2, 2)))
    assert "backward returned nothing (a missing `return`?)" in problems_of(report)
    assert "FAILED" in str(report) and "PASSED" not in str(report)


def test_none_where_a_gradient_is_due_and_a_gradient_for_data_fail():
    rng = np.random.default_rng(0)
    mu, logvar, eps = (rng.normal(size=(3, 2)) for _ in range(3))

    class ForgetsLogvar(tv.Reparameterize):
        def backward(self, dz):
            dmu, _, _ = super().backward(dz)
            return dmu, None, None

    assert "input 1: backward gave None" in problems_of(
        check_module(ForgetsLogvar(), mu, logvar, eps, constant=2)
    )

    class DifferentiatesNoise(tv.Reparameterize):
        def backward(self, dz):
            dmu, dlogvar, _ = super().backward(dz)
            return dmu, dlogvar, dz

    assert "input 2: backward gave a gradient, but this input is data or noise" in problems_of(
        check_module(DifferentiatesNoise(), mu, logvar, eps, constant=2)
    )

    class TwoOfThree(tv.Reparameterize):
        def backward(self, dz):
            return super().backward(dz)[:2]

    assert "returned 2 gradient(s) for 3 inputs" in problems_of(
        check_module(TwoOfThree(), mu, logvar, eps, constant=2)
    )


def test_a_misshapen_or_transposed_gradient_fails():
    x = np.random.default_rng(0).normal(size=(3, 2))

    class Summed(tv.Tanh):
        def backward(self, dy):
            return super().backward(dy).sum(axis=0)  # would broadcast silently

    class Transposed(tv.Tanh):
        def backward(self, dy):
            return super().backward(dy).T

    assert "shape (2,), expected (3, 2)" in problems_of(check_module(Summed(), x))
    assert "shape (2, 3), expected (3, 2) (transposed?)" in problems_of(
        check_module(Transposed(), x)
    )


def test_check_requires_accumulation_into_grads():
    class Overwrites(tv.Linear):
        def backward(self, dy):
            x = self.take()
            self.grads["W"][...] = x.T @ dy  # = instead of +=
            self.grads["b"] += dy.sum(axis=0)
            return dy @ self.params["W"].T

    class Rebinds(tv.Linear):
        def backward(self, dy):
            x = self.take()
            self.grads["W"] = self.grads["W"] + x.T @ dy  # a new array
            self.grads["b"] += dy.sum(axis=0)
            return dy @ self.params["W"].T

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    report = check_module(Overwrites(3, 2, rng=rng, dtype=np.float64), x)
    assert [row["name"] for row in report.rows if row["rel_error"] >= TOL] == ["W"]
    assert "W: backward replaced the array grads['W']" in problems_of(
        check_module(Rebinds(3, 2, rng=rng, dtype=np.float64), x)
    )


def test_a_sign_flip_and_an_ignored_upstream_gradient_are_wrong():
    x = np.random.default_rng(1).normal(size=(4, 3))

    class SignFlip(tv.Tanh):
        def backward(self, dy):
            return -super().backward(dy)

    class IgnoresDy(tv.Tanh):
        def backward(self, dy):
            return super().backward(np.ones_like(dy))

    for wrong in (SignFlip(), IgnoresDy()):
        report = check_module(wrong, x)
        assert not report and report.rows[0]["verdict"] == "wrong", str(report)


def test_a_wrong_gradient_of_a_later_input_or_a_later_parameter_fails_alone():
    rng = np.random.default_rng(2)
    x, mu, logvar = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    class HalfDlogvar(tv.distributions.GaussianLogDensity):
        def backward(self, dlogp):
            dx, dmu, dlogvar = super().backward(dlogp)
            return dx, dmu, 0.5 * dlogvar

    report = check_module(HalfDlogvar(), x, mu, logvar)
    assert [row["verdict"] for row in report.rows] == ["good", "good", "wrong"]

    mlp = tv.MLP(3, [4], 2, activation="tanh", rng=rng, dtype=np.float64)
    last = mlp.layers[-1]
    original = last.backward

    def wrong_last_bias(dy):
        dx = original(dy)
        last.grads["b"] += 0.1 * dy.sum(axis=0)  # 10 % too much
        return dx

    last.backward = wrong_last_bias
    report = check_module(mlp, x[:, :3])
    assert [row["name"] for row in report.rows if row["rel_error"] >= TOL] == ["layers.2.b"]


def test_a_wrong_small_gradient_is_caught():
    """A gradient of size ~1e-3 that is 10 % off is wrong, not round-off."""
    x = np.random.default_rng(3).normal(size=(5,))
    report = check_function(lambda v: 5e-4 * v * v, lambda dy: 1.1e-3 * x * dy, x)
    assert not report and report.max_error > 1e-2


def test_errors_between_the_bands_say_look_again():
    x = np.random.default_rng(4).normal(size=(5,))
    report = check_function(np.sin, lambda dy: dy * np.cos(x) * (1 + 1e-5), x)
    assert report.rows[0]["verdict"] == "look again (a kink? float32?)"
    assert check_function(np.sin, lambda dy: dy * np.cos(x), x).rows[0]["verdict"] == "good"


def test_nothing_checked_is_not_a_pass():
    report = check_function(lambda v: v, lambda dy: None, np.ones(3), constant=0)
    assert not report and "nothing was checked" in str(report)


def test_check_loss_leaves_no_cache_behind():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=rng, dtype=np.float64)
    x, eps = rng.uniform(size=(2, 4)), rng.normal(size=(2, 2))
    assert check_loss(model, lambda: model.loss(x, eps=eps)).passed(TOL)
    with pytest.raises(RuntimeError, match="forward"):
        model.backward()


def test_a_strided_view_as_input_is_differentiated_too():
    x = np.random.default_rng(5).normal(size=(4, 6))[:, ::2]  # not contiguous
    report = check_module(tv.Tanh(), x)
    assert report and report.rows[0]["verdict"] == "good", str(report)


def test_check_loss_catches_a_backward_that_ignores_dloss():
    """check_loss draws a random upstream dloss: a backward that always backpropagates
    1 (a common slip: model.backward() inside, the argument dropped) fails, and one that
    honours it passes. With dloss = 1 both would pass."""

    class IgnoresDloss(tv.VAE):
        def backward(self, dloss=1.0):
            super().backward(1.0)

    rng = np.random.default_rng(0)
    kwargs = dict(x_dim=5, hidden=(4,), z_dim=2, activation="tanh", dtype=np.float64)
    x = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64)
    eps = rng.normal(size=(3, 2))
    good = tv.VAE(rng=np.random.default_rng(1), **kwargs)
    assert check_loss(good, lambda: good.loss(x, eps=eps)).passed(TOL)
    bad = IgnoresDloss(rng=np.random.default_rng(1), **kwargs)
    assert not check_loss(bad, lambda: bad.loss(x, eps=eps)).passed(TOL)
