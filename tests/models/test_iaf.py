"""tinyvae.models.iaf: one IAF step, the flow posterior, and the VAE that uses it.

The log-determinant each step reports is compared with log|det J| of the
step's Jacobian computed by finite differences; the flow's log q(z_T|x) with
the base density minus the log|det| of the whole flow's Jacobian.
"""

import numpy as np
import pytest
from helpers import TOL, assert_finite_step, set_encoder_logvar

import tinyvae as tv
from tinyvae.gradcheck import check_loss, check_module, numerical_gradient
from tinyvae.models.iaf import IAFPosterior, IAFStep
from tinyvae.models.posterior import GaussianPosterior


def numeric_jacobian(f, z):
    """d f(z) / d z for one example z of shape (D,), by central differences: (D, D)."""
    D = len(z)
    J = np.empty((D, D))
    for i in range(D):
        dy = np.zeros(D)
        dy[i] = 1.0
        J[i] = numerical_gradient(lambda: f(z), z, dy)
    return J


@pytest.mark.parametrize("context", [0, 3])
def test_iaf_step_backward(context):
    rng = np.random.default_rng(context)
    step = IAFStep(4, (6,), context, order=[2, 0, 3, 1], rng=rng, dtype=np.float64)
    h = rng.normal(size=(5, context)) if context else None  # None: dh must be None
    report = check_module(step, rng.normal(size=(5, 4)), h, rng=rng)
    assert report.passed(TOL), str(report)


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 1, 0, 2]])
def test_log_det_is_log_abs_det_of_the_jacobian(order):
    rng = np.random.default_rng(5)
    step = IAFStep(4, (8, 8), 2, order=order, forget_bias=0.5, rng=rng, dtype=np.float64)
    h = rng.normal(size=(1, 2))
    z = rng.normal(size=4)
    _, log_det = step.forward(z[None], h)
    step.clear_cache()
    J = numeric_jacobian(lambda v: step.forward(v[None], h)[0][0], z)
    step.clear_cache()
    np.testing.assert_allclose(log_det[0], np.linalg.slogdet(J)[1], rtol=1e-8)
    # triangular in the step's order: z_new_i does not depend on later variables
    later = np.asarray(order)[None, :] > np.asarray(order)[:, None]
    assert np.all(np.abs(J[later]) < 1e-9)


def test_forget_bias_starts_sigma_near_one():
    step = IAFStep(6, (10,), forget_bias=2.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(step.made.layers[-1].params["b"][6:], 2.0)
    np.testing.assert_array_equal(step.made.layers[-1].params["b"][:6], 0.0)


def make_posterior(steps, context=3, J=4, D=6, seed=0):
    rng = np.random.default_rng(seed)
    encoder = tv.MLP(D, (8,), 2 * J + context, "tanh", rng=rng, dtype=np.float64, input_grad=False)
    posterior = IAFPosterior(encoder, J, steps, (7,), context, rng=rng, dtype=np.float64)
    return posterior, rng


@pytest.mark.parametrize("steps, context, L", [(1, 3, 1), (3, 3, 2), (2, 0, 3)])
def test_iaf_posterior_backward(steps, context, L):
    posterior, rng = make_posterior(steps, context)
    x, eps = rng.normal(size=(5, 6)), rng.normal(size=(L, 5, 4))
    report = check_module(posterior, x, eps, constant=(0, 1), rng=rng)
    assert report.passed(TOL), str(report)
    assert any(name.startswith("steps.") for name in (row["name"] for row in report.rows))


def test_steps_alternate_their_order():
    posterior, _ = make_posterior(3)
    orders = [step.made.order.tolist() for step in posterior.steps]
    assert orders == [[0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]]


def test_log_q_is_base_density_minus_log_det_of_the_whole_flow():
    posterior, rng = make_posterior(3, J=3)
    x, eps = rng.normal(size=(1, 6)), rng.normal(size=(1, 3))
    mu, logvar, h = posterior.encode(x)
    z, log_q = posterior.sample_from((mu, logvar, h), eps)

    def flow(z0):
        return posterior._flow(z0[None, None], h)[0][0, 0]

    z0 = mu[0] + np.exp(0.5 * logvar[0]) * eps[0]
    J = numeric_jacobian(flow, z0)
    posterior.clear_cache()
    base = np.sum(-0.5 * (np.log(2 * np.pi) + logvar[0] + eps[0] ** 2))
    np.testing.assert_allclose(log_q[0], base - np.linalg.slogdet(J)[1], rtol=1e-8)
    np.testing.assert_allclose(z[0], flow(z0))


def test_zero_steps_is_the_gaussian_posterior_bit_for_bit():
    rng = np.random.default_rng(7)
    encoder = tv.MLP(6, (8,), 8, "tanh", rng=rng, dtype=np.float64, input_grad=False)
    iaf = IAFPosterior(encoder, 4, 0, (5,), context_dim=0, rng=rng, dtype=np.float64)
    gaussian = GaussianPosterior(encoder, 4)
    x, eps, dz = rng.normal(size=(5, 6)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    dlog_q = rng.normal(size=(2, 5))
    results = []
    for posterior in (iaf, gaussian):
        encoder.zero_grad()
        z, log_q = posterior.forward(x, eps)
        posterior.backward(dz, dlog_q)
        grads = [grad.copy() for _, _, grad in encoder.parameters()]
        results.append((z, log_q, grads, posterior.sample(x, eps[0]), posterior.mean(x)))
    (z1, q1, g1, s1, m1), (z2, q2, g2, s2, m2) = results
    assert np.array_equal(z1, z2) and np.array_equal(q1, q2) and np.array_equal(m1, m2)
    assert all(np.array_equal(a, b) for a, b in zip(g1, g2))
    assert all(np.array_equal(a, b) for a, b in zip(s1, s2))


def test_evaluation_paths_match_the_training_forward_and_keep_nothing():
    posterior, rng = make_posterior(2)
    x, eps = rng.normal(size=(5, 6)), rng.normal(size=(3, 5, 4))
    z, log_q = posterior.forward(x, eps)
    posterior.clear_cache()
    z_eval, log_q_eval = posterior.sample(x, eps)
    np.testing.assert_allclose(z_eval, z)
    np.testing.assert_allclose(log_q_eval, log_q)
    assert all(module.cache is None for _, module in posterior.modules())
    assert posterior.mean(x).shape == (5, 4)
    z2, log_q2 = posterior.sample(x, eps[0])  # one sample per example: (B, J) and (B,)
    assert z2.shape == (5, 4) and log_q2.shape == (5,)


def test_backward_needs_a_forward():
    posterior, rng = make_posterior(1)
    with pytest.raises(RuntimeError, match="without a matching forward"):
        posterior.backward(np.zeros((1, 5, 4)), np.zeros((1, 5)))


def test_bad_posterior_arguments():
    encoder = tv.MLP(6, (8,), 11, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="steps"):
        IAFPosterior(encoder, 4, -1, (7,), 3)
    with pytest.raises(ValueError, match="context_dim"):
        IAFPosterior(encoder, 4, 1, (7,), -2)
    with pytest.raises(ValueError, match="forget_bias"):
        IAFPosterior(encoder, 4, 1, (7,), 3, forget_bias=float("nan"))


# -- the VAE with an IAF posterior ----------------------------------------------------


def iaf_vae(steps=2, seed=0, dtype=np.float64):
    return tv.VAE(
        8,
        (6,),
        z_dim=3,
        activation="tanh",
        iaf_steps=steps,
        iaf_hidden=(5,),
        iaf_context=4,
        rng=np.random.default_rng(seed),
        dtype=dtype,
    )


@pytest.mark.parametrize("estimator", ["A", "iwae"])
def test_vae_objectives_through_the_flow(estimator):
    model = iaf_vae()
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=(5, 8)) < 0.5).astype(np.float64)
    eps = rng.normal(size=(3, 5, 3))
    report = check_loss(model, lambda: model.loss(x, eps=eps, estimator=estimator), rng=rng)
    assert report.passed(TOL), str(report)
    assert any(row["name"].startswith("posterior.steps.") for row in report.rows)


def test_estimators_that_need_more_than_samples_refuse_the_flow():
    model = iaf_vae()
    assert model.estimator == "A"
    with pytest.raises(TypeError, match="closed-form KL"):
        tv.SGVB_B(model)
    with pytest.raises(TypeError, match="log_prob"):
        tv.ScoreFunction(model)
    with pytest.raises(TypeError, match="log_prob"):
        tv.WakeSleep(model)
    with pytest.raises(ValueError, match="estimator: 'B'"):
        tv.VAE(8, iaf_steps=1, estimator="B")


def test_vae_with_iaf_evaluates_trains_and_checkpoints(tmp_path):
    rng = np.random.default_rng(2)
    x = (rng.uniform(size=(40, 8)) < 0.5).astype(np.float32)
    model = iaf_vae(dtype=np.float32)
    assert np.isfinite(model.elbo(x, rng=rng)).all()
    assert np.isfinite(tv.log_likelihood(model, x[:5], k=20, rng=rng)).all()
    assert tv.active_units(model, x)[1].shape == (3,)
    data = tv.Batches(x, batch_size=10)
    history = tv.fit(model, tv.Adam(model.parameters()), data, epochs=2, rng=rng, progress=False)
    assert np.isfinite(history.train_loss).all()
    path = tmp_path / "iaf.npz"
    tv.save_checkpoint(path, model)
    again = iaf_vae(seed=9, dtype=np.float32)
    tv.load_checkpoint(path, again)
    np.testing.assert_array_equal(
        again.elbo(x, eps=np.zeros((40, 3), np.float32)),
        model.elbo(x, eps=np.zeros((40, 3), np.float32)),
    )
    with pytest.raises(tv.CheckpointError, match="iaf_steps"):
        tv.load_checkpoint(path, iaf_vae(steps=1, dtype=np.float32))


def test_vae_iaf_arguments():
    with pytest.raises(ValueError, match="iaf_steps"):
        tv.VAE(8, iaf_steps=-1)
    with pytest.raises(ValueError, match="iaf_hidden"):
        tv.VAE(8, iaf_steps=1, iaf_hidden=())
    with pytest.raises(ValueError, match="iaf_context"):
        tv.VAE(8, iaf_steps=1, iaf_context=-1)
    assert "iaf_steps" not in tv.VAE(8).config()  # Gaussian checkpoints keep their config


def test_an_encoder_of_the_wrong_width_is_refused():
    rng = np.random.default_rng(0)
    encoder = tv.MLP(6, (5,), 2 * 2 + 1, rng=rng, dtype=np.float64, input_grad=False)
    posterior = IAFPosterior(encoder, 2, 2, (4,), context_dim=3, rng=rng, dtype=np.float64)
    x, eps = rng.normal(size=(5, 6)), rng.normal(size=(5, 2))
    for call in (lambda: posterior.forward(x, eps), lambda: posterior.sample(x, eps)):
        with pytest.raises(ValueError, match="encoder: expected 7 outputs"):
            call()
        assert all(module.cache is None for _, module in posterior.modules())


def test_vae_refuses_the_two_layer_estimator():
    with pytest.raises(ValueError, match=r"needs a posterior with forward_top_kl\(\)"):
        tv.VAE(8, estimator="B_top")


@pytest.mark.parametrize("logvar", [80.0, -80.0])
def test_stays_finite_in_float32_at_an_extreme_encoder_variance(logvar):
    # With sigma = e^40 the MADE's hidden units and its output's gradient are both huge;
    # their product overflows only for connections the mask cuts, which must give 0, not NaN.
    model = iaf_vae(dtype=np.float32)
    set_encoder_logvar(model, logvar)
    objective = tv.SGVB_A(model)
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=(5, 8)) < 0.5).astype(np.float32)
    assert_finite_step(objective, lambda: objective.loss(x, rng=rng))


def test_log_det_stays_finite_where_the_gate_underflows_in_float32():
    """log sigma = log sigmoid(s) is computed as -softplus(-s): for s = -200, sigmoid(s)
    underflows to 0 in float32 and log(sigmoid(s)) would be -inf; the stable form gives
    about s, and its gradient 1 - sigma stays finite too."""
    step = IAFStep(3, (4,), rng=np.random.default_rng(0))  # float32
    step.made.layers[-1].params["W"][...] = 0.0
    step.made.layers[-1].params["b"][3:] = -200.0  # s = -200 for every variable
    z = np.ones((2, 3), np.float32)
    z_new, log_det = step.forward(z, None)
    assert np.isfinite(log_det).all() and np.isfinite(z_new).all()
    np.testing.assert_allclose(log_det, -600.0, rtol=1e-6)  # sum_i log sigmoid(-200) = -600
    dz, _ = step.backward(np.ones((2, 3), np.float32), np.ones(2, np.float32))
    assert np.isfinite(dz).all()
