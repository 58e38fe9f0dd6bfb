"""Exercise 17: the backward pass of one inverse autoregressive flow step.

Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, eqs. (14)-(16), Algorithm 1:

    (m, s) = MADE(z, h),  sigma = sigmoid(s),  z_new = sigma * z + (1 - sigma) * m,
    log_det = sum_i log sigma_i                      (one number per row, shape (B,))

d sigma / ds = sigma (1 - sigma); d log sigma / ds = 1 - sigma. m and s depend on z too
(through the MADE): z reaches z_new directly AND through the MADE.
Check it with:  python -m tinyvae.exercises check ex17_iaf_step.py
"""

import numpy as np

import tinyvae as tv


class IAFStep(tv.IAFStep):
    """tinyvae's IAFStep (its MADE and forward(z, h) -> (z_new, log_det)), with your backward."""

    def backward(self, dz_new, dlog_det):
        z, m, sigma = self.take()  # each (B, D), what forward kept
        # TODO: dm and ds (B, D) from dz_new (B, D) and dlog_det (B,); then
        #     dz_made, dh = self.made.backward(dm, ds)   (once: it consumes the MADE's cache)
        # and return (dz, dh), dz adding the direct path from z to z_new.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(17, IAFStep) else 1)
