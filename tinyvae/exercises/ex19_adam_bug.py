"""Exercise 19: find the bug in an Adam step that folds the bias corrections into the step size.

Algorithm 1 of Kingma & Ba (2014) divides m and v by (1 - beta1^t) and
(1 - beta2^t). Section 2 of the paper notes that the two divisions can be
folded into the step size, which saves two array operations per parameter:

    lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)
    theta <- theta - lr_t m / (sqrt(v) + eps_hat)

with eps_hat = eps sqrt(1 - beta2^t) for the same numbers as Algorithm 1.

The step in the skeleton does this, and has a bug of the kind that is
easy to publish: it runs, it trains, and it is not Adam. Find it and fix
it, so that ``adam_step`` returns exactly what Algorithm 1 returns (the
skeleton's docstring writes Algorithm 1 out line by line). The diagnosis
says what your step computes instead. Before you fix it, work out what the
bug costs: is the first step too large or too small, and by what factor,
with beta1 = 0.9 and beta2 = 0.999? And later on?
"""

import numpy as np

from .ex18_adam import adam_step, trial
from .exercise import Exercise, Mistake


def _quiet(step):
    """A mistake's step with NumPy's warnings off (a catalogue entry may divide by 0)."""

    def quiet_step(*args, **kwargs):
        with np.errstate(divide="ignore", invalid="ignore"):
            return step(*args, **kwargs)

    return quiet_step


def _moments(g, m, v, t, beta1, beta2):
    return t + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g


@_quiet
def _as_given(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _plain_eps(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return theta - lr_t * m / (np.sqrt(v) + eps), m, v, t


@_quiet
def _corrected_twice(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr_t * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@_quiet
def _eps_fixed_instead(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    return theta - lr * m / (np.sqrt(v) + eps), m, v, t


@_quiet
def _t_counted_late(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)  # t before this step
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t + 1


@_quiet
def _m_corrected_too(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * (m / (1 - beta1**t)) / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _upside_down(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * (1 - beta1**t) / np.sqrt(1 - beta2**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _no_square_root(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * (1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _betas_swapped(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta1**t) / (1 - beta2**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _lr_t_multiplied(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) * (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _eps_hat_divided(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps / np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _eps_hat_scaled_twice(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat * np.sqrt(1 - beta2**t)), m, v, t


@_quiet
def _corrected_state(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat, t


@_quiet
def _first_moment_only(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr / (1 - beta1**t)
    return theta - lr_t * m / (np.sqrt(v) + eps), m, v, t


@_quiet
def _first_moment_only_eps_hat(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr / (1 - beta1**t) * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _one_minus_beta1_to_the_t(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1) ** t  # (1 - beta1)^t, not 1 - beta1^t
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


@_quiet
def _eps_hat_inside_sqrt(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / np.sqrt(v + eps_hat), m, v, t


@_quiet
def _eps_hat_with_old_t(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _, m, v = _moments(g, m, v, t, beta1, beta2)
    lr_t = lr * np.sqrt(1 - beta2 ** (t + 1)) / (1 - beta1 ** (t + 1))  # this step's t
    eps_hat = eps * np.sqrt(1 - beta2**t)  # the step before's t
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t + 1


@_quiet
def _t_incremented_twice(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t, m, v = _moments(g, m, v, t, beta1, beta2)
    t = t + 1  # "t counts the step we are taking": a second increment
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    return theta - lr_t * m / (np.sqrt(v) + eps_hat), m, v, t


EXERCISE = Exercise(
    number=19,
    chapter="ch. 7",
    slug="adam_bug",
    title="Adam: find the bug in a step with the bias corrections folded into the step size",
    target="adam_step",
    reference=adam_step,
    trial=trial,
    solution="tinyvae/optim.py, Adam.step: it folds the corrections into step_size and "
    "eps_hat and uses both (tests/test_hyperparameters_optim.py checks it against "
    "Algorithm 1 line by line)",
    hints=[
        "Every line is right but one. Which of the numbers the step computes is never used?",
        "lr_t is computed and the update uses lr: the bias corrections never reach theta, so "
        "this is Adam without them. What does that do to the size of the steps?",
        "With the same m and v, the buggy step is (1 - beta1^t) / sqrt(1 - beta2^t) times "
        "Adam's: at t = 1, 0.1 / 0.0316 = 3.16 with beta2 = 0.999 (10 with 0.9999); it peaks "
        "near t = 12 at 6.6 (20.7) and is still 1.3 (3.2) at t = 1000. The fix: "
        "theta = theta - lr_t * m / (np.sqrt(v) + eps_hat), with eps_hat as it is.",
    ],
    mistakes=[
        Mistake(
            "as given",
            _as_given,
            "this is the step as given: theta moves as in Adam without the bias corrections "
            "(the early steps too large, the more so the closer beta2 is to 1; Adam section "
            "6.4). The corrections are computed: what keeps them from reaching theta?",
        ),
        Mistake(
            "plain eps",
            _plain_eps,
            "the step size is fixed, but with eps where eps_hat belongs: lr_t m / (sqrt(v) + "
            "eps) is Algorithm 1 only with eps_hat = eps sqrt(1 - beta2^t), because sqrt(v) "
            "is sqrt(1 - beta2^t) times sqrt(v_hat) (it shows where gradients are small)",
        ),
        Mistake(
            "corrected twice",
            _corrected_twice,
            "the corrections are applied twice: lr_t already divides by (1 - beta1^t) and "
            "multiplies by sqrt(1 - beta2^t); use it with the raw m and v, not m_hat and v_hat",
        ),
        Mistake(
            "upside down",
            _upside_down,
            "the step size is upside down: lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t), "
            "since m_hat = m / (1 - beta1^t) and sqrt(v_hat) = sqrt(v) / sqrt(1 - beta2^t)",
        ),
        Mistake(
            "m corrected on top of lr_t",
            _m_corrected_too,
            "m is bias-corrected twice: lr_t already divides by (1 - beta1^t), so use it with "
            "the raw m; dividing m by (1 - beta1^t) as well makes the early steps too large",
        ),
        Mistake(
            "eps fixed instead of the step size",
            _eps_fixed_instead,
            "theta moves as in Adam without the bias corrections, and with eps for eps_hat: "
            "eps_hat = eps sqrt(1 - beta2^t) was right (sqrt(v) is sqrt(1 - beta2^t) times "
            "sqrt(v_hat)), the bug is elsewhere. The corrections are computed: what keeps "
            "them from reaching theta?",
        ),
        Mistake(
            "t incremented after the step",
            _t_counted_late,
            "off by one in the step size: t counts the steps taken before this one, so update "
            "t first (t + 1) and use the new t in lr_t and eps_hat (at the start, the old "
            "t = 0 makes lr_t = 0 / 0, NaN)",
        ),
        Mistake(
            "no square root",
            _no_square_root,
            "theta moves by (1 - beta2^t) where only its square root belongs: lr_t without "
            "the square root, or v corrected a second time inside sqrt(v) (the two give the "
            "same steps); v is divided by (1 - beta2^t) once, inside sqrt(v_hat), so only its "
            "square root comes out",
        ),
        Mistake(
            "betas swapped in the step size",
            _betas_swapped,
            "the step size has beta1 and beta2 swapped: m's correction divides by "
            "(1 - beta1^t) and v's, inside the square root, brings out sqrt(1 - beta2^t); "
            "lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)",
        ),
        Mistake(
            "step size multiplies by (1 - beta1^t)",
            _lr_t_multiplied,
            "the step size multiplies by (1 - beta1^t) where it divides: m_hat = "
            "m / (1 - beta1^t), so lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)",
        ),
        Mistake(
            "eps_hat divided",
            _eps_hat_divided,
            "eps_hat divides eps by sqrt(1 - beta2^t) where it multiplies: sqrt(v) is "
            "sqrt(1 - beta2^t) times sqrt(v_hat), so eps shrinks with it, eps_hat = "
            "eps sqrt(1 - beta2^t) (it shows where gradients are small)",
        ),
        Mistake(
            "eps_hat scaled twice",
            _eps_hat_scaled_twice,
            "eps_hat is scaled by sqrt(1 - beta2^t) twice: eps_hat = eps sqrt(1 - beta2^t) "
            "already holds the factor; add eps_hat itself to sqrt(v) (it shows where "
            "gradients are small)",
        ),
        Mistake(
            "bias-corrected state",
            _corrected_state,
            "theta is right, but the m and v you return are the bias-corrected m_hat and "
            "v_hat: the state the next step starts from must be the raw averages m and v (the "
            "correction is applied afresh at every step, from t)",
        ),
        Mistake(
            "first moment only",
            _first_moment_only,
            "only m is corrected: lr / (1 - beta1^t) is AdaMax's step size (whose u needs no "
            "correction); Adam's v needs one too, the factor sqrt(1 - beta2^t), with eps_hat",
        ),
        Mistake(
            "first moment only, with eps_hat",
            _first_moment_only_eps_hat,
            "only m is corrected: lr / (1 - beta1^t) leaves out v's correction, the factor "
            "sqrt(1 - beta2^t) in lr_t (eps_hat has it, lr_t must too)",
        ),
        Mistake(
            "(1 - beta1)^t in lr_t",
            _one_minus_beta1_to_the_t,
            "lr_t divides by (1 - beta1)^t, a power of 1 - beta1: the correction is "
            "1 - beta1^t, one minus the t-th power of beta1 (mind the brackets: 1 - beta1**t)",
        ),
        Mistake(
            "eps_hat inside the sqrt",
            _eps_hat_inside_sqrt,
            "the step size is fixed, but eps_hat moved inside the square root: it is added to "
            "sqrt(v), as eps is to sqrt(v_hat) in Algorithm 1, not to v (exercise 18 names the "
            "same mistake; it shows where gradients are small; hint 3 of 3 writes the fix)",
        ),
        Mistake(
            "t incremented twice",
            _t_incremented_twice,
            "the step size is fixed, but t is incremented twice, so lr_t and eps_hat use t + 2 "
            "and the t returned runs two steps per step: t counts the steps taken, and this "
            "step adds one; the line at the top already did it (hint 3 of 3 writes the fix)",
        ),
        Mistake(
            "eps_hat with the old t",
            _eps_hat_with_old_t,
            "the step size is fixed, but eps_hat uses the old t, one step behind lr_t: t "
            "counts the steps taken before this one, so increment t first and use the new t in "
            "both (at the start, the old t = 0 makes eps_hat 0; it shows where gradients are "
            "small; hint 3 of 3 keeps eps_hat as given)",
        ),
    ],
)
