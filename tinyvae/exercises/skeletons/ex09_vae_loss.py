"""Exercise 9: the whole VAE loss (AEVB eq. (10)), forward and backward.

A VAE small enough to differentiate by hand: one Linear encoder, one Linear decoder, no
hidden layer. For binary data x (B, D) and standard normal noise eps (B, J):

    h          = x We + be                (B, 2J)   We (D, 2J), be (2J,)
    mu, logvar = h[:, :J], h[:, J:]       (B, J) each
    sigma      = exp(logvar / 2)
    z          = mu + sigma * eps         (B, J)    AEVB section 2.4
    l          = z Wd + bd                (B, D)    Bernoulli logits; Wd (J, D), bd (D,)

    KL_n           = 1/2 sum_j (sigma_nj^2 + mu_nj^2 - 1 - logvar_nj)     AEVB appendix B
    log p(x_n|z_n) = sum_d [x_nd l_nd - softplus(l_nd)]                  AEVB appendix C.1

    loss = 1/B sum_n [KL_n - log p(x_n|z_n)]

minus estimator B (AEVB eq. (10)) with L = 1, averaged over the batch. Return
(loss, grads): the loss, a float, and grads, a dict of its gradients in "We", "be", "Wd"
and "bd", each the shape of its parameter. x is data and eps is noise: neither gets one.
Everything must stay finite for logits of any size (tv.softplus and tv.sigmoid are).

Check it with:  python -m tinyvae.exercises check ex09_vae_loss.py
"""

import numpy as np

import tinyvae as tv  # tv.softplus and tv.sigmoid are stable for logits of any size


def vae_loss(x, eps, params):
    """The batch-mean VAE loss and its gradients.

    x: (B, D) binary data; eps: (B, J) standard normal noise;
    params: {"We": (D, 2J), "be": (2J,), "Wd": (J, D), "bd": (D,)}.
    Returns (loss, grads): loss a float, grads {"We": ..., "be": ..., "Wd": ..., "bd": ...},
    the gradients of the loss, each the shape of its parameter.
    """
    We, be, Wd, bd = params["We"], params["be"], params["Wd"], params["bd"]
    B, J = eps.shape
    # TODO: the forward pass (the equations above): h, mu, logvar, sigma, z, l, the KL,
    # log p(x|z) and the loss; keep what the backward needs.
    # TODO: the backward pass, from the loss to the four parameters; return
    # (float(loss), grads), each array in grads the shape of its parameter.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(9, vae_loss) else 1)
