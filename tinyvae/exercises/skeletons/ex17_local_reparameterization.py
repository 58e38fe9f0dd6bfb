"""Exercise 17: a Bayesian linear layer's backward, by local reparameterization.

The layer keeps a Gaussian over each weight, q(w_ij) = N(theta_ij, sigma_ij^2) with
sigma^2 = exp(logvar), and a point-estimate bias b. The local reparameterization trick
(Kingma, Salimans & Welling 2015, section 2.3) samples the pre-activations B rather than the
weights: they are Gaussian too, with mean gamma = A theta and variance (A * A) sigma^2 (the
paper's delta). For a minibatch A (M, in), with theta and logvar (in, out) and b (out,):

    var   = sigma^2 = exp(logvar)                 (in, out)
    gamma = A theta                               (M, out)
    std   = sqrt((A * A) var)                     (M, out), A * A: each entry squared
    B     = gamma + std * zeta + b                (M, out),  zeta (M, out) ~ N(0, 1)

Write BayesianLinear.backward(dB) for mode "local". It receives dB (M, out), the upstream
gradient of B; it ADDS (+=) the gradients of theta, logvar and b into self.grads["theta"],
self.grads["logvar"] and self.grads["b"] (each the shape of its parameter), and returns
(dA, None): dA (M, in), and None for zeta, which is noise. Forward cached
("local", A, var, zeta, std).

A row of A that is all zeros has std = 0 (that row carries no noise): its gradients must come
out finite, with no division by zero.

Check it with:  python -m tinyvae.exercises check ex17_local_reparameterization.py
"""

import numpy as np

import tinyvae as tv


class BayesianLinear(tv.BayesianLinear):
    """tinyvae's BayesianLinear (its __init__ and forward(A, zeta)), with your backward."""

    def backward(self, dB):
        mode, A, var, zeta, std = self.take()  # mode is "local"
        # A (M, in); var = sigma^2 = exp(logvar) (in, out); zeta, std = sqrt((A * A) var) (M, out)
        theta = self.params["theta"]  # (in, out)
        # TODO: add the gradients of theta, logvar and b into self.grads["theta"],
        # self.grads["logvar"] and self.grads["b"] (+=), and return (dA, None), dA (M, in).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(17, BayesianLinear) else 1)
