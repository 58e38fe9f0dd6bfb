"""Exercise 16: the backward pass of one inverse autoregressive flow step.

One IAF step (Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling 2016, section 3,
eqs. (14)-(16) and Algorithm 1) maps a sample z (N, D) and a context h (N, C) to

    (m, s)  = MADE(z, h)                          m, s: (N, D)
    sigma   = sigmoid(s)                          (N, D)
    z_new   = sigma * z + (1 - sigma) * m         (N, D), elementwise
    log_det = sum_i log sigma_i                   (N,): one number per row

m_i and s_i depend on h and on the z_j that come before i in the MADE's order. The arrays are
2-D: IAFPosterior flattens its L samples of B examples into N = L * B rows.

Write IAFStep.backward(dz_new, dlog_det). It receives dz_new (N, D) and dlog_det (N,), the
upstream gradients of z_new and log_det, and returns (dz, dh), (N, D) and (N, C). The MADE's
backward is given: self.made.backward(dm, ds) takes the gradients of its outputs m and s, each
(N, D), adds the gradients of its weights into their grads and returns (dz_made, dh), the
gradients of its inputs z and h. Call it exactly once: it consumes the MADE's cache. Forward
cached (z, m, sigma).

Check it with:  python -m tinyvae.exercises check ex16_iaf_step.py
"""

import numpy as np

import tinyvae as tv


class IAFStep(tv.IAFStep):
    """tinyvae's IAFStep (its MADE and forward(z, h) -> (z_new, log_det)), with your backward."""

    def backward(self, dz_new, dlog_det):
        z, m, sigma = self.take()  # each (N, D), what forward kept
        # TODO: the gradients dm and ds (N, D) of the MADE's outputs, from dz_new (N, D) and
        # dlog_det (N,); self.made.backward(dm, ds) returns (dz_made, dh) (call it once);
        # return (dz, dh), dz (N, D) the whole gradient of z.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(16, IAFStep) else 1)
