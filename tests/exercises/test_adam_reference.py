"""Exercise 18's reference, one step of Algorithm 1, is tinyvae's Adam, step for step."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.exercises.ex18_adam import adam_step


@pytest.mark.parametrize(
    "hyper",
    [{}, {"lr": 0.01, "beta1": 0.8, "beta2": 0.9999, "eps": 1e-6}],
    ids=["defaults", "other"],
)
def test_the_reference_equals_tv_adam_on_three_steps(hyper):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(3, 4))
    grad = np.zeros_like(theta)
    optimizer = tv.Adam([("w", theta, grad)], **hyper)
    state = theta.copy(), np.zeros_like(theta), np.zeros_like(theta), 0
    for step in range(1, 4):
        # gradients of four sizes, down to where eps matters
        grad[...] = rng.normal(size=theta.shape) * np.array([1.0, 1e-2, 1e-4, 1e-6])
        inputs = [a.copy() for a in state[:3]]
        new = adam_step(state[0], grad.copy(), state[1], state[2], state[3], **hyper)
        optimizer.step()
        # the reference leaves its inputs alone
        for before, after in zip(inputs, state[:3]):
            np.testing.assert_array_equal(before, after)
        assert new[3] == optimizer.t == step
        np.testing.assert_allclose(new[0], theta, rtol=1e-12, atol=0)
        np.testing.assert_allclose(new[1], optimizer.m["w"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(new[2], optimizer.v["w"], rtol=1e-12, atol=0)
        assert not np.allclose(new[0], inputs[0], rtol=1e-12, atol=0)  # a step was taken
        state = new
