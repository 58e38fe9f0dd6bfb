"""Exercise 9: the whole VAE loss (AEVB eq. (10)), forward and backward.

One Linear encoder, one Linear decoder, no hidden layer; x (B, D) binary, eps (B, J):

    h = x We + be;   mu, logvar = h[:, :J], h[:, J:];   sigma = exp(logvar / 2)
    z = mu + sigma * eps;   l = z Wd + bd
    KL_n = 1/2 sum_j (sigma^2 + mu^2 - 1 - logvar)          (AEVB appendix B)
    log p(x_n|z_n) = sum_d [x l - softplus(l)]               (AEVB appendix C.1)
    loss = 1/B sum_n [KL_n - log p(x_n|z_n)]

Return the loss and its gradients in We, be, Wd, bd. mu and logvar reach the
loss through z and through the KL: the two paths add up.
Check it with:  python -m tinyvae.exercises check ex09_vae_loss.py
"""

import numpy as np

import tinyvae as tv  # tv.softplus and tv.sigmoid are stable for logits of any size


def vae_loss(x, eps, params):
    """The batch-mean VAE loss and its gradients.

    x: (B, D) binary data; eps: (B, J) standard normal noise;
    params: {"We": (D, 2J), "be": (2J,), "Wd": (J, D), "bd": (D,)}.
    Returns (loss, grads): loss a float, grads {"We": dloss/dWe, "be": ...,
    "Wd": ..., "bd": ...}, each the shape of its parameter.
    """
    We, be, Wd, bd = params["We"], params["be"], params["Wd"], params["bd"]
    B, J = eps.shape
    # TODO: the forward pass (the equations above): h, mu, logvar, sigma, z, l, the KL,
    # log p(x|z) and the loss; keep what the backward needs.
    # TODO: the backward pass: dloss/dl first, then back through the decoder, z, the KL
    # and the encoder to the four parameters.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(9, vae_loss) else 1)
