"""tinyvae.distributions.bernoulli: the Bernoulli log-likelihood's value, stability and backward."""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.distributions.bernoulli import BernoulliLogLikelihood, check_bernoulli_data
from tinyvae.gradcheck import check_function


@given(shape=shapes, seed=seeds)
def test_bernoulli_equals_the_naive_formula_where_safe(shape, seed):
    rng = np.random.default_rng(seed)
    # beyond |l| ~ 12 the naive log(1 - p) itself loses digits, so stay inside
    logits = np.clip(rng.normal(0, 5, shape), -12, 12)
    x = rng.uniform(size=shape)
    p = 1 / (1 + np.exp(-logits))
    naive = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    np.testing.assert_allclose(BernoulliLogLikelihood().forward(logits, x), naive, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_is_finite_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4, 1e4, -1e4]], dtype=dtype)
    x = np.array([[1.0, 0.0, 0.0, 1.0]], dtype=dtype)
    module = BernoulliLogLikelihood()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        log_p = module.forward(logits, x)
        grad = module.backward(np.ones(1, dtype=dtype))
    # right answers cost ~0 nats, confidently wrong ones cost |logit| nats each
    assert log_p[0] == pytest.approx(-2e4, rel=1e-6)
    np.testing.assert_array_equal(grad, [[0, 0, -1, 1]])
    assert log_p.dtype == dtype


def test_bernoulli_of_an_empty_batch_is_empty():
    log_p = BernoulliLogLikelihood().forward(np.zeros((0, 3)), np.zeros((0, 3)))
    assert log_p.shape == (0,)


@pytest.mark.parametrize(
    "bad, found",
    [(255.0, r"values in \[0.5, 255\]"), (-0.5, r"values in \[-0.5, 0.5\]"), (np.nan, "NaN")],
)
def test_bernoulli_targets_outside_unit_interval_are_refused_at_the_door(bad, found):
    # the density trusts its caller; the model's doors check the data once
    x = np.array([[0.5, bad]])
    with pytest.raises(ValueError, match=r"\[0, 1\]; got " + found):
        check_bernoulli_data(x)
    model = tv.VAE(x_dim=2, hidden=(3,), z_dim=2, rng=np.random.default_rng(0), dtype=np.float64)
    with pytest.raises(ValueError, match=r"x: (contains NaN|Bernoulli data must lie in \[0, 1\])"):
        model.loss(x, rng=np.random.default_rng(0))


@given(shape=shapes, seed=seeds)
def test_bernoulli_equals_a_log_sigmoid_formula_for_large_logits(shape, seed):
    """x log sigmoid(l) + (1 - x) log sigmoid(-l), with log sigmoid(l) = -logaddexp(0, -l)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 200, shape)
    x = rng.uniform(size=shape)
    reference = np.sum(-x * np.logaddexp(0, -logits) - (1 - x) * np.logaddexp(0, logits), -1)
    np.testing.assert_allclose(BernoulliLogLikelihood().forward(logits, x), reference, rtol=1e-12)


@given(L=st.integers(0, 3), B=batch, D=dim, seed=seeds)
def test_bernoulli_backward(L, B, D, seed):
    """Against central finite differences in float64, with a random upstream gradient."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(L, B, D) if L else (B, D))
    x = rng.uniform(size=(B, D))
    density = BernoulliLogLikelihood()  # 0.1's backward: dlogits alone, x is data
    report = check_function(
        density.forward, lambda dy: (density.backward(dy), None), logits, x, constant=1, rng=rng
    )
    assert report.passed(TOL), str(report)
