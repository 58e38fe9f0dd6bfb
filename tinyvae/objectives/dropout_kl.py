"""The KL term of variational dropout, as a function of the dropout rate alpha.

Gaussian dropout with rate alpha multiplies a weight (or an input) by noise
N(1, alpha): the posterior is q(w) = N(theta, alpha theta^2). With the
log-uniform prior p(log |w|) = const, which makes the KL independent of
theta, Kingma, Salimans & Welling (2015, section 3) have

    -KL(q(w) || p(w)) = const + 1/2 log alpha - E_{eps ~ N(1, alpha)} [ log |eps| ]

which has no closed form. Two approximations, as functions of log alpha:

    "kingma"     -KL ~ const + 1/2 log alpha + c1 alpha + c2 alpha^2 + c3 alpha^3
                 c1 = 1.16145124, c2 = -1.50204118, c3 = 0.58629921
                 (Kingma et al. 2015, section 3), fitted for alpha <= 1: log alpha is
                 clipped at 0, where the paper stops alpha;
    "molchanov"  -KL ~ k1 sigmoid(k2 + k3 log alpha) - 1/2 log(1 + 1/alpha) - k1
                 k1 = 0.63576, k2 = 1.87320, k3 = 1.48695
                 (Molchanov, Ashukha & Vetrov 2017), for any alpha; its
                 constant makes -KL tend to 0 as alpha grows.

``DropoutKL(approximation).forward(log_alpha)`` gives KL elementwise (so a
rate per weight, per unit or per layer sums as the caller says), and its
backward the gradient with respect to log alpha. The paper leaves the
cubic's constant open (only changes of the KL matter for training); here it
is the one that makes the two approximations agree at alpha = 1, the end of
the cubic's range, so that both KLs are positive and comparable.
"""

import numpy as np

from ..nn.functional import sigmoid
from ..nn.module import Module
from ..validation import check_choice

C1, C2, C3 = 1.16145124, -1.50204118, 0.58629921  # Kingma et al. 2015
K1, K2, K3 = 0.63576, 1.87320, 1.48695  # Molchanov et al. 2017
APPROXIMATIONS = ("kingma", "molchanov")


def neg_kl_kingma(log_alpha):
    """``(-KL, d(-KL)/d log alpha)`` by the cubic in alpha, with log alpha clipped at 0."""
    clipped = log_alpha > 0
    alpha = np.exp(np.minimum(log_alpha, 0.0))
    log_alpha = np.minimum(log_alpha, 0.0)
    neg_kl = KINGMA_CONSTANT + 0.5 * log_alpha + C1 * alpha + C2 * alpha**2 + C3 * alpha**3
    # d/d log alpha of alpha^k is k alpha^k; past the clip, -KL is constant
    grad = 0.5 + C1 * alpha + 2 * C2 * alpha**2 + 3 * C3 * alpha**3
    return neg_kl, np.where(clipped, 0.0, grad)


def neg_kl_molchanov(log_alpha):
    """``(-KL, d(-KL)/d log alpha)`` by Molchanov et al.'s sigmoid fit."""
    s = sigmoid(K2 + K3 * log_alpha)
    # 1/2 log(1 + 1/alpha) = 1/2 softplus(-log alpha), computed stably
    half_log = 0.5 * (np.maximum(-log_alpha, 0) + np.log1p(np.exp(-np.abs(log_alpha))))
    neg_kl = K1 * s - half_log - K1
    # d sigmoid(t)/dt = s (1 - s), dt/d log alpha = k3;  d softplus(-u)/du = -sigmoid(-u)
    grad = K1 * K3 * s * (1 - s) + 0.5 * sigmoid(-log_alpha)
    return neg_kl, grad


# the cubic's constant: -KL at alpha = 1 by Molchanov et al.'s fit, minus the cubic's c1 + c2 + c3
KINGMA_CONSTANT = float(neg_kl_molchanov(np.float64(0.0))[0]) - (C1 + C2 + C3)


class DropoutKL(Module):
    """KL(q(w) || p(w)) of Gaussian dropout, elementwise in log alpha, with its backward."""

    def __init__(self, approximation="kingma"):
        super().__init__()
        self.approximation = check_choice(approximation, "approximation", APPROXIMATIONS)

    def __repr__(self):
        return f"DropoutKL({self.approximation!r})"

    def forward(self, log_alpha):
        fit = neg_kl_kingma if self.approximation == "kingma" else neg_kl_molchanov
        neg_kl, grad = fit(log_alpha)
        self.save(grad)
        return -neg_kl

    def backward(self, dkl):
        grad = self.take()
        return -dkl * grad  # KL = -(-KL)
