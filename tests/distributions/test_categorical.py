"""tinyvae.distributions.categorical: log-softmax, log Cat(y), entropy and sampling."""

import numpy as np
import pytest
from helpers import TOL, batch, seeds
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.distributions.categorical import (
    CategoricalEntropy,
    CategoricalExpectation,
    CategoricalLogDensity,
    log_softmax,
    one_hot,
    sample_categorical,
)
from tinyvae.gradcheck import check_module

classes = st.integers(2, 10)


@given(B=batch, K=classes, seed=seeds)
def test_log_density_backward(B, K, seed):
    rng = np.random.default_rng(seed)
    y = one_hot(rng.integers(0, K, B), K, np.float64)
    report = check_module(CategoricalLogDensity(), y, rng.normal(0, 3, (B, K)), constant=0, rng=rng)
    assert report.passed(TOL), str(report)


@given(B=batch, K=classes, seed=seeds)
def test_entropy_backward(B, K, seed):
    rng = np.random.default_rng(seed)
    report = check_module(CategoricalEntropy(), rng.normal(0, 3, (B, K)), rng=rng)
    assert report.passed(TOL), str(report)


def test_log_softmax_and_entropy_by_value_and_at_extreme_logits():
    a = np.array([[0.0, np.log(3.0)], [1000.0, -1000.0]])
    np.testing.assert_allclose(np.exp(log_softmax(a[:1])), [[0.25, 0.75]])
    assert np.isfinite(log_softmax(a)).all()
    entropy = CategoricalEntropy().forward(a)
    np.testing.assert_allclose(entropy, [-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), 0.0])
    uniform = CategoricalEntropy().forward(np.zeros((1, 10)))
    np.testing.assert_allclose(uniform, [np.log(10)])  # the largest entropy over 10 classes


def test_log_density_is_the_log_probability_of_the_label():
    logits = np.array([[2.0, 0.0, -1.0]])
    y = one_hot(np.array([0]), 3, np.float64)
    expected = 2.0 - np.log(np.exp(2.0) + 1.0 + np.exp(-1.0))
    np.testing.assert_allclose(CategoricalLogDensity().forward(y, logits), [expected])


def test_samples_have_the_probabilities_of_the_softmax():
    rng = np.random.default_rng(0)
    logits = np.tile(np.log([0.1, 0.2, 0.7]), (200_000, 1))
    draws = sample_categorical(logits, rng)
    assert (draws.sum(axis=1) == 1).all()
    np.testing.assert_allclose(draws.mean(axis=0), [0.1, 0.2, 0.7], atol=4e-3)


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.array([0, 10]), ValueError, r"labels: expected integers 0..9, got values from 0 to 10"),
        (np.array([-1, 3]), ValueError, "labels: expected integers 0..9"),
        (np.array([0.0, 1.0]), TypeError, "labels: expected integers"),
    ],
)
def test_one_hot_refuses_labels_out_of_range(labels, error, message):
    with pytest.raises(error, match=message):
        one_hot(labels, 10)


def test_the_density_refuses_rows_that_are_not_one_hot_before_its_cache_changes():
    density = CategoricalLogDensity()
    logits = np.zeros((2, 10))
    density.forward(one_hot(np.array([1, 2]), 10, np.float64), logits)
    pending = density.cache
    for y, message in [
        (np.ones((2, 10)), "one-hot rows"),
        (one_hot(np.array([1, 2]), 8, np.float64), "width 10"),
    ]:
        with pytest.raises(ValueError, match=message):
            density.forward(y, logits)
        assert density.cache is pending


@given(B=batch, K=classes, seed=seeds)
def test_expectation_backward(B, K, seed):
    rng = np.random.default_rng(seed)
    logits, values = rng.normal(0, 3, (B, K)), rng.normal(0, 5, (B, K))
    report = check_module(CategoricalExpectation(), logits, values, rng=rng)
    assert report.passed(TOL), str(report)


def test_expectation_is_the_probability_weighted_sum():
    logits = np.log(np.array([[0.2, 0.3, 0.5]]))
    values = np.array([[10.0, -2.0, 4.0]])
    np.testing.assert_allclose(CategoricalExpectation().forward(logits, values), [2.0 - 0.6 + 2.0])
