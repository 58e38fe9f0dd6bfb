"""tinyvae.objectives.dropout_kl: the two KL approximations against a numeric KL, and gradients."""

import math

import numpy as np
import pytest

from tinyvae.gradcheck import check_module
from tinyvae.objectives.dropout_kl import (
    C1,
    C2,
    C3,
    KINGMA_CONSTANT,
    DropoutKL,
    neg_kl_kingma,
    neg_kl_molchanov,
)


def numeric_neg_kl(alpha):
    """1/2 log alpha - E[log |eps|], eps ~ N(1, alpha), by a midpoint rule over N(0, 1).

    The constant that makes it tend to 0 as alpha grows is -(Euler's gamma + log 2) / 2,
    the limit of 1/2 log alpha - E log |1 + sqrt(alpha) n| = -E log |n|.
    """
    edges = np.linspace(-12.0, 12.0, 2_000_000 + 1)
    n = 0.5 * (edges[:-1] + edges[1:]) + 1.234e-7  # off the singular point n = -1/sqrt(alpha)
    weights = np.exp(-0.5 * n * n) / math.sqrt(2 * math.pi) * (edges[1] - edges[0])
    expectation = np.sum(weights * np.log(np.abs(1.0 + math.sqrt(alpha) * n)))
    return 0.5 * math.log(alpha) - expectation - (0.5772156649015329 + math.log(2)) / 2


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0, 3.0, 10.0])
def test_molchanov_against_the_numeric_kl(alpha):
    approx = neg_kl_molchanov(np.array(math.log(alpha)))[0]
    assert approx == pytest.approx(numeric_neg_kl(alpha), abs=0.01)


def test_kingma_against_the_numeric_kl_up_to_its_constant():
    alphas = [0.05, 0.1, 0.3, 0.5, 1.0]
    approx = np.array([neg_kl_kingma(np.array(math.log(a)))[0] for a in alphas])
    numeric = np.array([numeric_neg_kl(a) for a in alphas])
    offsets = approx - numeric  # the polynomial's constant, nearly the same at every alpha
    assert np.max(np.abs(offsets - offsets.mean())) < 0.01


def test_kingma_values_are_the_papers_cubic():
    for alpha in (0.1, 0.5, 1.0):
        value = neg_kl_kingma(np.array(math.log(alpha)))[0]
        cubic = 0.5 * math.log(alpha) + C1 * alpha + C2 * alpha**2 + C3 * alpha**3
        assert value == pytest.approx(KINGMA_CONSTANT + cubic, abs=1e-12)
    # the constant makes the two fits agree at alpha = 1, where the KL is about 0.43 nats
    at_one = np.array(0.0)
    assert neg_kl_kingma(at_one)[0] == pytest.approx(neg_kl_molchanov(at_one)[0], abs=1e-12)
    assert -neg_kl_kingma(at_one)[0] == pytest.approx(-numeric_neg_kl(1.0), abs=0.01)
    # alpha is stopped at 1: beyond it the KL and its gradient stay put
    value, grad = neg_kl_kingma(np.array([0.0, 2.0]))
    assert value[0] == value[1] and grad[1] == 0.0


@pytest.mark.parametrize("approximation, low, high", [("kingma", -6, -0.05), ("molchanov", -8, 8)])
def test_gradients(approximation, low, high):
    rng = np.random.default_rng(0)
    report = check_module(DropoutKL(approximation), rng.uniform(low, high, size=(4, 5)), rng=rng)
    assert report.passed(1e-6), str(report)


def test_kl_is_finite_and_decreasing_in_alpha():
    log_alpha = np.linspace(-20, 20, 401)
    kl = DropoutKL("molchanov").forward(log_alpha)
    assert np.isfinite(kl).all() and np.all(np.diff(kl) < 0) and kl[-1] > 0


def test_unknown_approximation():
    with pytest.raises(ValueError, match="approximation"):
        DropoutKL("exact")
