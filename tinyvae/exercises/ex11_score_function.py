"""Exercise 11: the score-function (REINFORCE) gradient, with a leave-one-out baseline.

The bound of one example x, estimated from L samples z_l ~ q(z|x), is

    bound = 1/L sum_l f_l,      f_l = log p(x, z_l) - log q(z_l|x).

The reparameterization trick sends the encoder's gradient through z. The
"naive" Monte Carlo estimator that AEVB section 2.2 sets against it does
not: z_l is held fixed, and

    grad_phi E_q[f(z)] = E_q[f(z) grad_phi log q(z|x)]
                       ~ 1/L sum_l f_l grad_phi log q(z_l|x)

(the likelihood-ratio or REINFORCE estimator, Williams 1992). f itself also
depends on phi, through -log q(z|x); that term's expectation is
-E_q[grad_phi log q] = 0, so it is left out. AEVB finds this estimator's
variance too high to be practical. A baseline b_l subtracted from f_l lowers
it (Mnih & Gregor 2014) and keeps it unbiased as long as b_l does not depend
on z_l. With L >= 2 samples there is one for free, the mean of the other
L - 1 samples (Kool et al. 2019, "leave-one-out"):

    b_l = 1/(L - 1) sum_{k != l} f_k,
    grad_phi bound ~ 1/L sum_l (f_l - b_l) grad_phi log q(z_l|x).

Write ``score_coefficients(f, baseline)``: given f of shape (L, B) (constants),
return the (L, B) coefficients c with

    grad_phi bound_b ~ sum_l c[l, b] grad_phi log q(z_lb|x_b),

that is c_l = f_l / L without a baseline and c_l = (f_l - b_l) / L with it.
This is the gradient tinyvae sends into log q(z_l|x) (posterior.backward_log_prob),
for an upstream gradient of 1 on each example's bound.
"""

import numpy as np

from .exercise import Exercise, Mistake


def score_coefficients(f, baseline=False):
    """c_l = (f_l - b_l) / L, with b_l the mean of the other L - 1 samples (or b_l = 0)."""
    L = f.shape[0]
    if baseline:
        f = f - (f.sum(axis=0) - f) / (L - 1)  # the sum of the others, over L - 1
    return f / L


def trial(score_coefficients, rng):
    # L = 4 samples of B = 3 examples; f = log w, a few nats either side of -20
    f = rng.normal(-20.0, 3.0, size=(4, 3))
    return {
        "coefficients (no baseline)": np.array(score_coefficients(f.copy(), False), np.float64),
        "coefficients (leave-one-out)": np.array(score_coefficients(f.copy(), True), np.float64),
    }


def _baseline_includes_l(f, baseline=False):
    L = f.shape[0]
    if baseline:
        f = f - f.mean(axis=0)
    return f / L


def _baseline_over_l(f, baseline=False):
    L = f.shape[0]
    if baseline:
        f = f - (f.sum(axis=0) - f) / L
    return f / L


def _baseline_over_batch(f, baseline=False):
    L, B = f.shape
    if baseline:
        f = f - (f.sum(axis=1, keepdims=True) - f) / (B - 1)
    return f / L


def _others_summed_over_batch(f, baseline=False):
    L = f.shape[0]
    if baseline:
        f = f - (f.sum(axis=1, keepdims=True) - f) / (L - 1)  # axis 1 is the batch
    return f / L


def _baselined_over_l_minus_1(f, baseline=False):
    L = f.shape[0]
    if baseline:
        b = (f.sum(axis=0) - f) / (L - 1)
        return (f - b) / (L - 1)  # the baseline's count, L - 1, for the bound's L
    return f / L


def _always_baseline(f, baseline=False):
    L = f.shape[0]
    return (f - (f.sum(axis=0) - f) / (L - 1)) / L


def _direct_term(f, baseline=False):
    # d f_l / d phi through -log q(z_l|x) adds -1/L to every coefficient
    L = f.shape[0]
    f = f - 1.0
    if baseline:
        f = f - (f.sum(axis=0) - f) / (L - 1)
    return f / L


def _no_one_over_l(f, baseline=False):
    L = f.shape[0]
    if baseline:
        f = f - (f.sum(axis=0) - f) / (L - 1)
    return f


def _baseline_not_over_l(f, baseline=False):
    L = f.shape[0]
    c = f / L
    if baseline:
        c = c - (f.sum(axis=0) - f) / (L - 1)  # the baseline subtracted after the 1/L
    return c


def _baseline_ignored(f, baseline=False):
    return f / f.shape[0]  # "a baseline leaves the expectation alone, so c is the same"


def _sign_flipped(f, baseline=False):
    return -score_coefficients(f, baseline)


EXERCISE = Exercise(
    number=11,
    chapter="AEVB",
    slug="score_function",
    title="score function: REINFORCE coefficients, leave-one-out baseline",
    target="score_coefficients",
    reference=score_coefficients,
    trial=trial,
    solution="tinyvae/objectives/score_function.py, ScoreFunction.backward_bound "
    "(what it passes to posterior.backward_log_prob, for dbound = 1)",
    hints=[
        "The log-derivative trick: the bound estimates E_q[f(z)], whose gradient in phi goes "
        "through the density q_phi(z|x) alone (f held constant); write the derivative of q "
        "through the derivative of log q, then estimate the expectation with the L samples. "
        "Axis 0 of f is the samples, axis 1 the batch: c is (L, B), and a baseline never "
        "mixes examples.",
        "grad_phi q = q grad_phi log q, so grad_phi E_q[f] = E_q[f grad_phi log q] "
        "~ 1/L sum_l f_l grad_phi log q(z_l|x): without the baseline, c = f / L.",
        "With the baseline, c_l = (f_l - b_l) / L; the sum of the other samples is the sum "
        "over axis 0 minus f itself. b = (f.sum(axis=0) - f) / (L - 1); "
        "return (f - b) / L if baseline else f / L.",
    ],
    mistakes=[
        Mistake(
            "baseline includes sample l",
            _baseline_includes_l,
            "your baseline is the mean over all L samples, f_l included: the baseline must "
            "leave sample l out, or it depends on z_l and biases the gradient (here by the "
            "factor (L - 1)/L); b_l = (sum_k f_k - f_l) / (L - 1)",
        ),
        Mistake(
            "divides the others' sum by L",
            _baseline_over_l,
            "your baseline divides the sum of the other samples by L: there are L - 1 of "
            "them, b_l = (sum_k f_k - f_l) / (L - 1)",
        ),
        Mistake(
            "baseline over the batch",
            _baseline_over_batch,
            "your baseline averages over the batch (axis 1), mixing different examples: "
            "b_l is the mean of the other L - 1 samples of the same x, over axis 0",
        ),
        Mistake(
            "others summed over the batch",
            _others_summed_over_batch,
            "your baseline sums over axis 1, the batch, mixing different examples: the other "
            "samples of the same x lie along axis 0, b_l = (sum_k f_k - f_l) / (L - 1) with "
            "the sum over axis 0",
        ),
        Mistake(
            "baselined coefficients over L - 1",
            _baselined_over_l_minus_1,
            "c is L/(L - 1) times too large with the baseline: it divides f_l - b_l by L - 1, "
            "the number of samples in b_l, where the bound's mean over all L samples "
            "sets the factor, the same as without the baseline (hint 3 of 3 writes it)",
        ),
        Mistake(
            "baseline without being asked",
            _always_baseline,
            "c subtracts a baseline although baseline=False: subtract b_l only when baseline is "
            "True (hint 2 of 3 derives c without it)",
        ),
        Mistake(
            "keeps f's own dependence on phi",
            _direct_term,
            "c has an extra -1/L for f's own dependence on phi (the -log q term): its expectation "
            "-E_q[grad log q] is 0, so the estimator leaves it out (hint 2 of 3 derives c)",
        ),
        Mistake(
            "the baseline not divided by L",
            _baseline_not_over_l,
            "c with the baseline subtracts b_l after dividing f by L: the whole coefficient "
            "is (f_l - b_l) / L, the baseline inside the mean over the samples (hint 3 of 3)",
        ),
        Mistake(
            "forgets 1/L",
            _no_one_over_l,
            "c is L times too large: the bound is the mean of f over the L samples, not their sum "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "sign flipped",
            _sign_flipped,
            "c has the wrong sign: it is the gradient of the bound, not of the loss, whose minus "
            "sign comes later, from upstream (hint 2 of 3 derives it)",
        ),
        Mistake(
            "baseline ignored",
            _baseline_ignored,
            "c ignores baseline=True, the same as without it: the baseline leaves the "
            "estimator's expectation unchanged, not its coefficients; each sample's f_l - b_l "
            "is what lowers the variance, so subtract b_l, the mean of the other L - 1 samples "
            "of the same x, before the 1/L (hint 3 of 3 writes it)",
        ),
    ],
)
