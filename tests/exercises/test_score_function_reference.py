"""Exercise 11's reference is what tinyvae's ScoreFunction sends into log q(z_l|x)."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.exercises.ex11_score_function import score_coefficients


def captured_score(baseline, dloss, L=4, B=3, seed=0):
    """Run ScoreFunction's loss and backward; return f = log w and backward_log_prob's input."""
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=5, hidden=(4,), z_dim=2, activation="tanh", rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(B, 5)) > 0.5).astype(np.float64)
    objective = tv.ScoreFunction(model, n_samples=L, baseline=baseline)
    captured = []
    posterior = model.posterior
    original = posterior.backward_log_prob

    def spy(dlog_q):
        captured.append(np.array(dlog_q))
        return original(dlog_q)

    posterior.backward_log_prob = spy
    try:
        loss = objective.loss(x, rng=rng)
        f = objective.saved.copy()  # log p(x, z_l) - log q(z_l|x), (L, B)
        objective.backward(dloss)
    finally:
        del posterior.backward_log_prob
    assert f.shape == (L, B)
    assert np.isclose(-f.mean(), loss)  # the bound is the mean of f over samples and batch
    assert len(captured) == 1
    return f, captured[0]


@pytest.mark.parametrize("baseline", [False, True])
def test_the_reference_is_what_the_library_sends_into_log_q(baseline):
    # dloss = -B makes the upstream gradient of every example's bound exactly 1
    B = 3
    f, sent = captured_score(baseline, dloss=-B, B=B)
    np.testing.assert_allclose(score_coefficients(f, baseline), sent, rtol=1e-12, atol=0)


@pytest.mark.parametrize("baseline", [False, True])
def test_the_library_scales_the_coefficients_by_the_upstream_gradient(baseline):
    B, dloss = 3, 0.7
    f, sent = captured_score(baseline, dloss=dloss, B=B, seed=1)
    want = -dloss / B * score_coefficients(f, baseline)  # loss = -1/B sum_b bound_b
    np.testing.assert_allclose(want, sent, rtol=1e-12, atol=0)


def test_the_leave_one_out_baseline_leaves_sample_l_out():
    f = np.array([[1.0, 10.0], [2.0, 20.0], [6.0, 60.0]])  # L = 3, B = 2
    # b_0 = (2 + 6) / 2 = 4, b_1 = (1 + 6) / 2 = 3.5, b_2 = (1 + 2) / 2 = 1.5
    want = np.array([[1 - 4, 10 - 40], [2 - 3.5, 20 - 35], [6 - 1.5, 60 - 15]]) / 3
    np.testing.assert_allclose(score_coefficients(f, True), want)
    np.testing.assert_allclose(score_coefficients(f, False), f / 3)
