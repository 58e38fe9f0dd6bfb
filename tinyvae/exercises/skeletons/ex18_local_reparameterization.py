"""Exercise 18: a Bayesian linear layer's backward, by local reparameterization.

Kingma, Salimans & Welling 2015, section 2.3: q(w_ij) = N(theta_ij, sigma_ij^2),
sigma^2 = exp(logvar), and for a minibatch A (M, in)

    gamma = A theta,   delta = (A * A) sigma^2,   B = gamma + sqrt(delta) * zeta + b

with zeta (M, out) ~ N(0, 1). Add dL/dtheta, dL/dlogvar and dL/db into self.grads (+=),
return (dL/dA, None). A row of A that is all zeros has delta = 0: no noise, no division.
Check it with:  python -m tinyvae.exercises check ex18_local_reparameterization.py
"""

import numpy as np

import tinyvae as tv


class BayesianLinear(tv.BayesianLinear):
    """tinyvae's BayesianLinear (its __init__ and forward(A, zeta)), with your backward."""

    def backward(self, dB):
        mode, A, var, zeta, std = self.take()  # mode is "local"
        # A (M, in); var = sigma^2 = exp(logvar) (in, out); zeta, std = sqrt(delta) (M, out)
        theta = self.params["theta"]  # (in, out)
        # TODO: add dL/dtheta, dL/dlogvar and dL/db into self.grads["theta"],
        # self.grads["logvar"] and self.grads["b"], and return (dL/dA, None).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(18, BayesianLinear) else 1)
