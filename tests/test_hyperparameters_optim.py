"""Optimizers at non-default hyperparameters against literal, scalar transcriptions.

Each reference is written one Python float at a time from the paper's pseudo-code, for
two parameters of different shapes (so per-parameter state cannot be mixed up), over
several steps of a loss whose gradient depends on the current parameters.
"""

import math

import numpy as np
import pytest

import tinyvae as tv

STEPS = 12


def quadratic_grad(theta, k):
    """Gradient of sum_i c_i (theta_i - 1)^2 / 2 + a small step-dependent tilt."""
    c = np.linspace(0.5, 3.0, theta.size).reshape(theta.shape)
    return c * (theta - 1.0) + 0.1 * math.sin(k)


def start():
    rng = np.random.default_rng(0)
    return {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=4)}


def run(optimizer_cls, **hyper):
    """The library's trajectory: (params after each step, the optimizer)."""
    params = start()
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    opt = optimizer_cls([(name, params[name], grads[name]) for name in params], **hyper)
    trajectory = []
    for k in range(1, STEPS + 1):
        for name in params:
            grads[name][...] = quadratic_grad(params[name], k)
        opt.step()
        trajectory.append({name: p.copy() for name, p in params.items()})
    return trajectory, opt


def run_by_hand(update):
    """The same loop, each entry updated by ``update(state, name, i, theta, g, t)``."""
    params = {name: p.ravel().tolist() for name, p in start().items()}
    shapes = {name: p.shape for name, p in start().items()}
    state = {}
    trajectory = []
    for t in range(1, STEPS + 1):
        for name, flat in params.items():
            g = quadratic_grad(np.array(flat).reshape(shapes[name]), t).ravel().tolist()
            for i in range(len(flat)):
                flat[i] = update(state, name, i, flat[i], g[i], t)
        trajectory.append({name: np.array(f).reshape(shapes[name]) for name, f in params.items()})
    return trajectory, state


def assert_same(trajectory, expected, rtol):
    for step, (got, exp) in enumerate(zip(trajectory, expected), start=1):
        for name in got:
            np.testing.assert_allclose(
                got[name], exp[name], rtol=rtol, err_msg=f"{name} step {step}"
            )


def max_gap(a, b):
    return max(np.abs(x[n] - y[n]).max() for x, y in zip(a, b) for n in x)


# -- Adam ---------------------------------------------------------------------------------------

ADAM = [
    dict(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-3),
    dict(lr=0.3, beta1=0.5, beta2=0.7, eps=0.1),
    dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8),
]


def adam_by_hand(lr, beta1, beta2, eps, bias_correction):
    """Kingma & Ba (2014) Algorithm 1, one scalar at a time; lines m_hat/v_hat optional."""

    def update(state, name, i, theta, g, t):
        m, v = state.get((name, i), (0.0, 0.0))
        m = beta1 * m + (1 - beta1) * g  # biased first moment estimate
        v = beta2 * v + (1 - beta2) * g * g  # biased second raw moment estimate
        state[name, i] = (m, v)
        if bias_correction:
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            return theta - lr * m_hat / (math.sqrt(v_hat) + eps)
        return theta - lr * m / (math.sqrt(v) + eps)

    return run_by_hand(update)


@pytest.mark.parametrize("hyper", ADAM)
def test_adam_without_bias_correction_is_algorithm_1_without_the_hat_lines(hyper):
    got, _ = run(tv.Adam, bias_correction=False, **hyper)
    expected, _ = adam_by_hand(bias_correction=False, **hyper)
    assert_same(got, expected, rtol=1e-12)


@pytest.mark.parametrize("hyper", ADAM)
def test_adam_with_bias_correction_is_algorithm_1_and_differs_from_without(hyper):
    got, _ = run(tv.Adam, **hyper)
    expected, _ = adam_by_hand(bias_correction=True, **hyper)
    assert_same(got, expected, rtol=1e-12)
    without, _ = run(tv.Adam, bias_correction=False, **hyper)
    assert max_gap(got, without) > 1e-4


@pytest.mark.parametrize("hyper", ADAM)
def test_bias_corrected_moments_are_m_and_v_over_one_minus_beta_to_the_t(hyper):
    _, opt = run(tv.Adam, **hyper)
    _, state = adam_by_hand(bias_correction=True, **hyper)
    b1, b2 = hyper["beta1"], hyper["beta2"]
    for name, param, _ in opt.parameters:
        m = np.array([state[name, i][0] for i in range(param.size)]).reshape(param.shape)
        v = np.array([state[name, i][1] for i in range(param.size)]).reshape(param.shape)
        np.testing.assert_allclose(opt.m[name], m, rtol=1e-12)
        np.testing.assert_allclose(opt.v[name], v, rtol=1e-12)
        m_hat, v_hat = opt.bias_corrected_moments(name)
        np.testing.assert_allclose(m_hat, m / (1 - b1**STEPS), rtol=1e-12)
        np.testing.assert_allclose(v_hat, v / (1 - b2**STEPS), rtol=1e-12)
        m_hat += 1.0  # copies: looking at them changes no state
        v_hat += 1.0
        np.testing.assert_allclose(opt.m[name], m, rtol=1e-12)
        np.testing.assert_allclose(opt.v[name], v, rtol=1e-12)


def test_bias_corrected_moments_after_one_step_are_the_gradient_and_its_square():
    """t = 1: m_hat = g and v_hat = g^2 exactly, whatever beta1 and beta2."""
    g = np.array([0.3, -2.0, 5.0])
    param = np.zeros(3)
    opt = tv.Adam([("p", param, g)], lr=0.1, beta1=0.7, beta2=0.9)
    opt.step()
    m_hat, v_hat = opt.bias_corrected_moments("p")
    np.testing.assert_allclose(m_hat, g, rtol=1e-14)
    np.testing.assert_allclose(v_hat, g * g, rtol=1e-14)
    # and the first step moves every entry by lr g / (|g| + eps) ~ lr sign(g)
    np.testing.assert_allclose(param, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_without_bias_correction_takes_a_small_first_step():
    """t = 1 without correction: lr (1 - beta1) g / (sqrt(1 - beta2) |g| + eps)."""
    g = np.array([0.3, -2.0])
    param = np.zeros(2)
    opt = tv.Adam([("p", param, g)], lr=0.1, beta1=0.7, beta2=0.9, eps=0.01, bias_correction=False)
    opt.step()
    expected = -0.1 * 0.3 * g / (math.sqrt(0.1) * np.abs(g) + 0.01)
    np.testing.assert_allclose(param, expected, rtol=1e-14)


# -- SGD with momentum ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lr", "momentum"), [(0.03, 0.7), (0.1, 0.95), (0.2, 0.0)])
def test_sgd_momentum_follows_the_heavy_ball_recursion(lr, momentum):
    """v <- momentum v - lr g;  theta <- theta + v."""

    def update(state, name, i, theta, g, t):
        v = momentum * state.get((name, i), 0.0) - lr * g
        state[name, i] = v
        return theta + v

    got, opt = run(tv.SGD, lr=lr, momentum=momentum)
    expected, state = run_by_hand(update)
    assert_same(got, expected, rtol=1e-12)
    for name, param, _ in opt.parameters:
        velocity = np.array([state[name, i] for i in range(param.size)]).reshape(param.shape)
        np.testing.assert_allclose(opt.velocity[name], velocity, rtol=1e-12)


def test_sgd_momentum_changes_the_trajectory():
    plain, _ = run(tv.SGD, lr=0.03)
    heavy, _ = run(tv.SGD, lr=0.03, momentum=0.7)
    assert max_gap(plain, heavy) > 1e-2


def test_sgd_second_step_by_hand():
    """Constant g: theta_1 = -lr g, theta_2 = theta_1 - (momentum + 1) lr g."""
    g = np.array([1.0, -3.0])
    param = np.zeros(2)
    opt = tv.SGD([("p", param, g)], lr=0.5, momentum=0.6)
    opt.step()
    np.testing.assert_allclose(param, -0.5 * g, rtol=1e-15)
    opt.step()
    np.testing.assert_allclose(param, -0.5 * g - 1.6 * 0.5 * g, rtol=1e-15)


# -- AdaGrad ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lr", "eps"), [(0.1, 0.5), (0.3, 2.0), (0.05, 1e-8)])
def test_adagrad_follows_its_recursion_with_eps_outside_the_root(lr, eps):
    """s <- s + g^2;  theta <- theta - lr g / (sqrt(s) + eps)."""

    def update(state, name, i, theta, g, t):
        s = state.get((name, i), 0.0) + g * g
        state[name, i] = s
        return theta - lr * g / (math.sqrt(s) + eps)

    got, opt = run(tv.AdaGrad, lr=lr, eps=eps)
    expected, state = run_by_hand(update)
    assert_same(got, expected, rtol=1e-12)
    for name, param, _ in opt.parameters:
        s = np.array([state[name, i] for i in range(param.size)]).reshape(param.shape)
        np.testing.assert_allclose(opt.sum_sq[name], s, rtol=1e-12)


def test_adagrad_eps_matters_at_a_non_default_value():
    small, _ = run(tv.AdaGrad, lr=0.1)
    large, _ = run(tv.AdaGrad, lr=0.1, eps=0.5)
    assert max_gap(small, large) > 1e-2


def test_adagrad_first_step_by_hand():
    """t = 1: theta = -lr g / (|g| + eps); with eps = |g| the step is half of lr sign(g)."""
    g = np.array([2.0, -2.0])
    param = np.zeros(2)
    tv.AdaGrad([("p", param, g)], lr=0.1, eps=2.0).step()
    np.testing.assert_allclose(param, [-0.05, 0.05], rtol=1e-15)


# -- SGD with Nesterov momentum --------------------------------------------------------------


@pytest.mark.parametrize(("lr", "momentum"), [(0.03, 0.7), (0.1, 0.95), (0.01, 0.5)])
def test_nesterov_follows_sutskever_et_al_with_the_gradient_at_the_look_ahead_point(lr, momentum):
    """v <- momentum v - lr g(phi + momentum v);  phi <- phi + v, with phi the point of
    Sutskever et al. (2013) and theta = phi + momentum v the look-ahead point we store."""

    def update(state, name, i, theta, g, t):
        v = state.get((name, i), 0.0)
        phi = theta - momentum * v  # g is the gradient at theta, the look-ahead point
        v = momentum * v - lr * g
        state[name, i] = v
        return (phi + v) + momentum * v  # the next look-ahead point

    got, opt = run(tv.SGD, lr=lr, momentum=momentum, nesterov=True)
    expected, state = run_by_hand(update)
    assert_same(got, expected, rtol=1e-11)
    heavy, _ = run(tv.SGD, lr=lr, momentum=momentum)
    assert max_gap(got, heavy) > 1e-4


def test_nesterov_first_two_steps_by_hand():
    """Constant g: theta_1 = -(1 + m) lr g;  theta_2 = theta_1 - (1 + m + m^2) lr g."""
    g = np.array([1.0, -3.0])
    param = np.zeros(2)
    opt = tv.SGD([("p", param, g)], lr=0.5, momentum=0.6, nesterov=True)
    opt.step()
    np.testing.assert_allclose(param, -1.6 * 0.5 * g, rtol=1e-15)
    opt.step()
    np.testing.assert_allclose(param, -1.6 * 0.5 * g - 1.96 * 0.5 * g, rtol=1e-15)


# -- RMSProp --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lr", "rho", "eps"), [(0.01, 0.9, 1e-8), (0.1, 0.5, 0.3), (0.03, 0.99, 1.0)]
)
def test_rmsprop_follows_its_recursion(lr, rho, eps):
    """v <- rho v + (1 - rho) g^2;  theta <- theta - lr g / (sqrt(v) + eps)."""

    def update(state, name, i, theta, g, t):
        v = rho * state.get((name, i), 0.0) + (1 - rho) * g * g
        state[name, i] = v
        return theta - lr * g / (math.sqrt(v) + eps)

    got, opt = run(tv.RMSProp, lr=lr, rho=rho, eps=eps)
    expected, state = run_by_hand(update)
    assert_same(got, expected, rtol=1e-12)
    for name, param, _ in opt.parameters:
        v = np.array([state[name, i] for i in range(param.size)]).reshape(param.shape)
        np.testing.assert_allclose(opt.v[name], v, rtol=1e-12)


def test_rmsprop_first_step_by_hand():
    """t = 1: v = (1 - rho) g^2, so the step is lr g / (sqrt(1 - rho) |g| + eps)."""
    g = np.array([2.0, -0.5])
    param = np.zeros(2)
    tv.RMSProp([("p", param, g)], lr=0.1, rho=0.75, eps=0.0625).step()
    np.testing.assert_allclose(param, -0.1 * g / (0.5 * np.abs(g) + 0.0625), rtol=1e-15)


# -- AdaMax ---------------------------------------------------------------------------------------

ADAMAX = [
    dict(lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8),
    dict(lr=0.05, beta1=0.5, beta2=0.8, eps=1e-3),
    dict(lr=0.2, beta1=0.0, beta2=0.5, eps=1e-8),
]


@pytest.mark.parametrize("hyper", ADAMAX)
def test_adamax_follows_algorithm_2(hyper):
    """Kingma & Ba (2014) Algorithm 2, one scalar at a time (u with torch's + eps)."""
    lr, beta1, beta2, eps = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["eps"]

    def update(state, name, i, theta, g, t):
        m, u = state.get((name, i), (0.0, 0.0))
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, abs(g) + eps)  # the exponentially weighted infinity norm
        state[name, i] = (m, u)
        return theta - (lr / (1 - beta1**t)) * m / u

    got, opt = run(tv.AdaMax, **hyper)
    expected, state = run_by_hand(update)
    assert_same(got, expected, rtol=1e-12)
    for name, param, _ in opt.parameters:
        u = np.array([state[name, i][1] for i in range(param.size)]).reshape(param.shape)
        np.testing.assert_allclose(opt.u[name], u, rtol=1e-12)


def test_adamax_u_is_the_weighted_max_norm_of_the_past_gradients():
    """u_t = max(beta2^(t-1) |g_1|, ..., beta2 |g_(t-1)|, |g_t|) (Adam section 7.1), up to eps."""
    rng = np.random.default_rng(3)
    gradients = rng.normal(size=(7, 5)) * np.array([1, 10, 0.1, 100, 1e-3])
    beta2 = 0.7
    grad = np.zeros(5)
    opt = tv.AdaMax([("p", np.zeros(5), grad)], beta2=beta2, eps=1e-30)
    for t, g in enumerate(gradients, start=1):
        grad[...] = g
        opt.step()
        weights = beta2 ** np.arange(t - 1, -1, -1)[:, None]  # beta2^(t-i) for i = 1..t
        np.testing.assert_allclose(
            opt.u["p"], np.max(weights * np.abs(gradients[:t]), axis=0), rtol=1e-14
        )


def test_adamax_first_step_has_size_lr():
    """t = 1: m / (1 - beta1) = g and u = |g|, so every entry moves by lr sign(g)."""
    g = np.array([0.3, -20.0, 1e-4])
    param = np.zeros(3)
    tv.AdaMax([("p", param, g)], lr=0.002, eps=1e-12).step()
    np.testing.assert_allclose(param, -0.002 * np.sign(g), rtol=1e-7)


def test_adamax_keeps_a_parameter_with_zero_gradient_still():
    """The paper's u would be 0 there, and the update 0 / 0."""
    param = np.ones(2)
    tv.AdaMax([("p", param, np.zeros(2))]).step()
    np.testing.assert_array_equal(param, np.ones(2))


# -- the step size decay of Adam section 6.1 ------------------------------------------------------


@pytest.mark.parametrize(
    ("optimizer_cls", "hyper", "update"),
    [
        (
            tv.SGD,
            dict(lr=0.1, momentum=0.9, nesterov=True),
            lambda s, key, theta, g, lr: (
                s.__setitem__(key, 0.9 * s.get(key, 0.0) - lr * g),
                theta + 0.9 * s[key] - lr * g,
            )[1],
        ),
        (
            tv.AdaGrad,
            dict(lr=0.3, eps=1e-8),
            lambda s, key, theta, g, lr: (
                s.__setitem__(key, s.get(key, 0.0) + g * g),
                theta - lr * g / (math.sqrt(s[key]) + 1e-8),
            )[1],
        ),
    ],
    ids=["sgd-nesterov", "adagrad"],
)
def test_inverse_sqrt_decay_uses_lr_over_sqrt_t_at_step_t(optimizer_cls, hyper, update):
    lr = hyper["lr"]
    got, opt = run(optimizer_cls, lr_decay="inverse_sqrt", **hyper)
    expected, _ = run_by_hand(
        lambda state, name, i, theta, g, t: update(state, (name, i), theta, g, lr / math.sqrt(t))
    )
    assert_same(got, expected, rtol=1e-12)
    assert opt.current_lr() == pytest.approx(lr / math.sqrt(STEPS), rel=1e-15)
    constant, _ = run(optimizer_cls, **hyper)
    assert max_gap(got, constant) > 1e-3


@pytest.mark.parametrize("bias_correction", [True, False])
def test_adam_with_inverse_sqrt_decay_is_algorithm_1_with_lr_over_sqrt_t(bias_correction):
    hyper = dict(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-3)
    got, _ = run(tv.Adam, lr_decay="inverse_sqrt", bias_correction=bias_correction, **hyper)
    b1, b2, eps = hyper["beta1"], hyper["beta2"], hyper["eps"]

    def update(state, name, i, theta, g, t):
        m, v = state.get((name, i), (0.0, 0.0))
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        state[name, i] = (m, v)
        c1, c2 = (1 - b1**t, 1 - b2**t) if bias_correction else (1.0, 1.0)
        return theta - (0.05 / math.sqrt(t)) * (m / c1) / (math.sqrt(v / c2) + eps)

    expected, _ = run_by_hand(update)
    assert_same(got, expected, rtol=1e-12)


def _rmsprop(state, key, theta, g, lr):
    state[key] = 0.9 * state.get(key, 0.0) + 0.1 * g * g
    return theta - lr * g / (math.sqrt(state[key]) + 1e-8)


def _adamax(state, key, theta, g, lr, t):
    m, u = state.get(key, (0.0, 0.0))
    m, u = 0.9 * m + 0.1 * g, max(0.999 * u, abs(g) + 1e-8)
    state[key] = (m, u)
    return theta - (lr / (1 - 0.9**t)) * m / u


@pytest.mark.parametrize("name", ["rmsprop", "adamax"])
def test_rmsprop_and_adamax_decay_their_step_size_too(name):
    lr = 0.02
    if name == "rmsprop":
        got, _ = run(tv.RMSProp, lr=lr, lr_decay="inverse_sqrt")
        expected, _ = run_by_hand(
            lambda state, n, i, theta, g, t: _rmsprop(state, (n, i), theta, g, lr / math.sqrt(t))
        )
    else:
        got, _ = run(tv.AdaMax, lr=lr, lr_decay="inverse_sqrt")
        expected, _ = run_by_hand(
            lambda state, n, i, theta, g, t: _adamax(state, (n, i), theta, g, lr / math.sqrt(t), t)
        )
    assert_same(got, expected, rtol=1e-12)


EXACT_REPRS = [
    (lambda p: tv.Adam(p), "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"),
    (
        lambda p: tv.Adam(p, lr=0.01, bias_correction=False, lr_decay="inverse_sqrt"),
        "Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08, lr_decay='inverse_sqrt', "
        "bias_correction=False)",
    ),
    (lambda p: tv.AdaMax(p), "AdaMax(lr=0.002, beta1=0.9, beta2=0.999, eps=1e-08)"),
    (lambda p: tv.RMSProp(p, rho=0.5), "RMSProp(lr=0.001, rho=0.5, eps=1e-08)"),
    (lambda p: tv.AdaGrad(p), "AdaGrad(lr=0.01, eps=1e-08)"),
    (lambda p: tv.SGD(p, momentum=0.9), "SGD(lr=0.01, momentum=0.9)"),
    (
        lambda p: tv.SGD(p, momentum=0.9, nesterov=True, lr_decay="inverse_sqrt"),
        "SGD(lr=0.01, momentum=0.9, lr_decay='inverse_sqrt', nesterov=True)",
    ),
]


@pytest.mark.parametrize(("make", "text"), EXACT_REPRS, ids=[t for _, t in EXACT_REPRS])
def test_repr_names_every_setting_that_changes_the_trajectory(make, text):
    """fit stores repr(optimizer) in a checkpoint and refuses to resume under another."""
    assert repr(make([("p", np.zeros(2), np.zeros(2))])) == text
