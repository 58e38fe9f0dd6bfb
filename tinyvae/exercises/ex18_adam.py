"""Exercise 18: one step of Adam, Algorithm 1 of Kingma & Ba (2014), with bias correction.

Adam keeps two running averages per parameter, of the gradient g and of its
square, and divides one by the square root of the other. One step, from the
step count t (the number of steps taken so far, 0 at the start):

    t <- t + 1
    m <- beta1 m + (1 - beta1) g            (biased first moment estimate)
    v <- beta2 v + (1 - beta2) g^2          (biased second raw moment estimate)
    m_hat = m / (1 - beta1^t)               (bias-corrected first moment)
    v_hat = v / (1 - beta2^t)               (bias-corrected second raw moment)
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps)

m and v start at 0, so early on they are too small: after one step m is
(1 - beta1) g. The corrections of Adam section 3 divide that bias out; without
them the first ~1/(1 - beta2) steps have the wrong size (Adam Figure 4).

Write ``adam_step(theta, g, m, v, t, lr, beta1, beta2, eps)``: it returns
``(theta_new, m_new, v_new, t_new)`` and leaves its inputs unchanged.
"""

import numpy as np

from .exercise import Exercise, Mistake


def adam_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Algorithm 1 of Kingma & Ba (2014), one step, line by line."""
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v, t


def trial(adam_step, rng):
    shape = (2, 3)
    # gradients of three sizes (one per column): eps matters next to the smallest
    scale = np.array([1.0, 1e-2, 1e-4])
    theta0 = rng.normal(size=shape)
    grads = rng.normal(size=(3, *shape)) * scale
    # the state after 9 steps, for one step with beta2 close to 1
    theta9 = rng.normal(size=shape)
    g9 = rng.normal(size=shape) * scale
    m9 = 0.5 * rng.normal(size=shape) * scale
    v9 = (1 - 0.9999**9) * (rng.uniform(0.5, 2.0, size=shape) * scale) ** 2

    out = {}
    theta, m, v, t = theta0.copy(), np.zeros(shape), np.zeros(shape), 0
    for step, g in enumerate(grads, start=1):
        theta, m, v, t = adam_step(theta, g.copy(), m, v, t, lr=0.01)
        out[f"theta after step {step}"] = np.array(theta, np.float64)
    out["m after step 3"] = np.array(m, np.float64)
    out["v after step 3"] = np.array(v, np.float64)
    out["t after step 3"] = np.array(t, np.float64)

    theta, m, v = theta9.copy(), m9.copy(), v9.copy()
    new = adam_step(theta, g9, m, v, 9, lr=0.01, beta1=0.9, beta2=0.9999, eps=1e-8)
    out["theta (one step from t = 9, beta2 = 0.9999)"] = np.array(new[0], np.float64)
    out["m (one step from t = 9)"] = np.array(new[1], np.float64)
    out["v (one step from t = 9)"] = np.array(new[2], np.float64)

    # two steps with small betas: with beta * t < 1, a bias correction 1 - beta * t for
    # 1 - beta^t stays positive and shows (with the usual betas it is negative, a NaN)
    theta_s, m_s, v_s, t_s = theta0.copy(), np.zeros(shape), np.zeros(shape), 0
    for g in grads[:2]:
        step = adam_step(theta_s, g.copy(), m_s, v_s, t_s, lr=0.01, beta1=0.3, beta2=0.2)
        theta_s, m_s, v_s, t_s = step
    out["theta after step 2 (beta1 = 0.3, beta2 = 0.2)"] = np.array(theta_s, np.float64)

    out["theta, m, v passed in (unchanged)"] = np.stack([theta, m, v])
    return out


def _moments(g, m, v, t, beta1, beta2):
    """The first lines of Algorithm 1, right, for the mistakes that go wrong after them."""
    return t + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g


def _quiet(step):
    """A mistake's step with NumPy's warnings off (a catalogue entry may divide by 0)."""

    def quiet_step(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return step(*args, **kwargs)

    return quiet_step


@_quiet
def _no_bias_correction(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return theta - lr * m / (np.sqrt(v) + eps), m, v, t + 1


@_quiet
def _off_by_one(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)  # t before this step: 1 - beta1^0 = 0 at the start
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t + 1


@_quiet
def _returns_old_t(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v, _ = adam_step(theta, g, m, v, t, lr, beta1, beta2, eps)
    return theta, m, v, t  # the t passed in, not the incremented one


@_quiet
def _powers_one_ahead(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat = m / (1 - beta1 ** (t + 1))  # t already counts this step: one too many
    v_hat = v / (1 - beta2 ** (t + 1))
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _returns_corrected_moments(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat, t


@_quiet
def _m_and_v_returned_swapped(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    theta, m, v, t = adam_step(theta, g, m, v, t, lr, beta1, beta2, eps)
    return theta, v, m, t


@_quiet
def _corrections_swapped(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta2**t), v / (1 - beta1**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _betas_swapped(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta2 * m + (1 - beta2) * g  # each moment averaged with the other's beta,
    v = beta1 * v + (1 - beta1) * g * g
    m_hat, v_hat = m / (1 - beta2**t), v / (1 - beta1**t)  # and corrected with it, too
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _betas_swapped_in_the_averages(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta2 * m + (1 - beta2) * g  # the averages swapped, the corrections not
    v = beta1 * v + (1 - beta1) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _v_from_abs_g(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.abs(g)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _v_from_g(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _swapped_weights(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = (1 - beta1) * m + beta1 * g
    v = (1 - beta2) * v + beta2 * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _eps_inside_sqrt(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), m, v, t


@_quiet
def _ascends(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta + lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _beta_times_t(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 * t), v / (1 - beta2 * t)  # beta times t, not beta to the t
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _clipped_g(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_step(theta, np.clip(g, -1.0, 1.0), m, v, t, lr, beta1, beta2, eps)


@_quiet
def _one_minus_beta_to_the_t(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1) ** t, v / (1 - beta2) ** t  # (1 - beta)^t, not 1 - beta^t
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _no_square_root(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (v_hat + eps), m, v, t


@_quiet
def _v_from_new_m(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * m * m  # the new m squared, not g squared
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t + 1


@_quiet
def _sqrt_v_over_correction(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    return theta - lr * m_hat / (np.sqrt(v) / (1 - beta2**t) + eps), m, v, t


@_quiet
def _step_before_moments(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)  # the moments before g
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g, t


# the betas swapped in the averages, with or without their corrections: one diagnosis
BETAS_SWAPPED = (
    "m and v are averaged with each other's beta: m with beta2 and v with beta1; the first "
    "moment m decays with beta1, the second raw moment v with beta2, and each moment's bias "
    "correction uses the beta of its own average (hint 3 of 3 writes both updates)"
)

EXERCISE = Exercise(
    number=18,
    chapter="ch. 7",
    slug="adam",
    title="Adam: one step of Algorithm 1, with bias correction",
    target="adam_step",
    reference=adam_step,
    trial=trial,
    solution="tinyvae/optim.py, Adam.step (regrouped so the corrections are two scalars; "
    "the Adam docstring writes out Algorithm 1 line by line)",
    hints=[
        "Do the lines of Algorithm 1 in order, and start with t: it counts the steps taken, "
        "so this step is number t + 1, and the bias corrections use the new t.",
        "m and v are averages that weight the old value by beta and the new one by "
        "(1 - beta); v averages g^2. Then m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).",
        "t = t + 1; m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g*g; "
        "theta = theta - lr * (m/(1-beta1**t)) / (np.sqrt(v/(1-beta2**t)) + eps); "
        "return theta, m, v, t (new arrays: no -= or *= on the inputs).",
    ],
    mistakes=[
        Mistake(
            "(1 - beta)^t for 1 - beta^t",
            _one_minus_beta_to_the_t,
            "the bias corrections divide by (1 - beta)^t, a power of 1 - beta: Algorithm 1 "
            "divides by 1 - beta^t, one minus the t-th power of beta (the weight the zero "
            "start still holds after t steps); at t = 1 the two agree",
        ),
        Mistake(
            "sqrt(v) divided by 1 - beta2^t",
            _sqrt_v_over_correction,
            "the step divides sqrt(v) by 1 - beta2^t: the correction belongs inside the "
            "square root, v_hat = v / (1 - beta2^t) and then sqrt(v_hat)",
        ),
        Mistake(
            "the step with the moments before g",
            _step_before_moments,
            "theta moves with m and v from before this step: update m and v with this step's "
            "gradient g first, then take the step from them (Algorithm 1's order)",
        ),
        Mistake(
            "no square root of v_hat",
            _no_square_root,
            "the step divides by v_hat + eps, without the square root: v_hat estimates the "
            "squared gradient, and the step divides by its square root, a gradient's scale",
        ),
        Mistake(
            "v from the new m",
            _v_from_new_m,
            "v averages the new m squared where the gradient squared belongs: v is the "
            "moving average of g * g, the raw second moment of the gradient itself",
        ),
        Mistake(
            "no bias correction",
            _no_bias_correction,
            "missing bias correction: at t = 1, m_hat = m / (1 - beta1) is g, but m is only "
            "0.1 g; divide m by (1 - beta1^t) and v by (1 - beta2^t)",
        ),
        Mistake(
            "off-by-one t",
            _off_by_one,
            "off by one in the bias correction: t counts the steps taken before this one, so "
            "update t first (t + 1) and use the new t in 1 - beta1^t and 1 - beta2^t (at the "
            "start, the old t = 0 divides by 1 - beta^0 = 0)",
        ),
        Mistake(
            "old t returned",
            _returns_old_t,
            "theta's bias corrections use a stale step count: t came back unchanged, or the "
            "t passed in was used in 1 - beta^t after the increment; the step count is part "
            "of the state, so increment it, use the new t, and return it (hint 1 of 3 says "
            "so)",
        ),
        Mistake(
            "bias-correction powers one step ahead",
            _powers_one_ahead,
            "theta's bias corrections are one step ahead: t was already updated to t + 1, so "
            "beta^(t + 1) counts this step twice; use the new t itself in 1 - beta1^t and "
            "1 - beta2^t",
        ),
        Mistake(
            "bias-corrected state returned",
            _returns_corrected_moments,
            "the m and v you return are the bias-corrected m_hat and v_hat: the state the next "
            "step starts from must be the raw averages m and v (the correction is applied "
            "afresh at every step, from t), so every later step starts from the wrong state",
        ),
        Mistake(
            "m and v returned swapped",
            _m_and_v_returned_swapped,
            "m and v are returned in the wrong order, (theta, v, m, t): the next step then "
            "updates each moment from the other (a negative v gives NaN in its square root); "
            "return (theta_new, m_new, v_new, t_new)",
        ),
        Mistake(
            "bias corrections swapped",
            _corrections_swapped,
            "theta's bias corrections are swapped: m is divided by 1 - beta2^t and v by "
            "1 - beta1^t; each moment is corrected with its own beta, m with beta1, v with "
            "beta2",
        ),
        Mistake("betas swapped", _betas_swapped, BETAS_SWAPPED),
        Mistake("betas swapped in the averages", _betas_swapped_in_the_averages, BETAS_SWAPPED),
        Mistake(
            "v from |g|",
            _v_from_abs_g,
            "v averages |g|, the gradient's size, where Adam averages its square: "
            "v = beta2 v + (1 - beta2) g^2, the second raw moment, whose square root has "
            "the scale of g",
        ),
        Mistake(
            "v from g",
            _v_from_g,
            "v averages the squared gradient: v = beta2 v + (1 - beta2) g^2, not g",
        ),
        Mistake(
            "swapped moment weights",
            _swapped_weights,
            "the moment weights are swapped: the new gradient gets (1 - beta), the old moment "
            "beta: m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2",
        ),
        Mistake(
            "eps inside the sqrt",
            _eps_inside_sqrt,
            "eps belongs outside the square root: lr m_hat / (sqrt(v_hat) + eps), not "
            "sqrt(v_hat + eps) (it shows where the gradients are small, near sqrt(eps))",
        ),
        Mistake(
            "ascends",
            _ascends,
            "you stepped up the gradient: Adam minimizes, "
            "theta_new = theta - lr m_hat / (sqrt(v_hat) + eps)",
        ),
        Mistake(
            "g clipped",
            _clipped_g,
            "theta, m and v come from a g clipped to [-1, 1] before the update: Algorithm 1 "
            "takes the gradient as it is, and its step is already bounded (about lr at most, "
            "m_hat / sqrt(v_hat) is scale-free); clipping changes m and v wherever |g| > 1, "
            "so every later step too "
            "(hint 3 of 3 writes the step)",
        ),
        Mistake(
            "beta times t",
            _beta_times_t,
            "theta's bias corrections multiply beta by t where beta is raised to the power t "
            "(beta**t): 1 - beta t equals 1 - beta^t at t = 1 only, and with beta2 = 0.999 it "
            "is negative from t = 2 on, a NaN in the square root (hint 2 of 3 writes the "
            "corrections)",
        ),
    ],
)
