"""Exercise 9: the whole VAE loss, SGVB estimator B (AEVB eq. (10)), forward and backward.

A VAE small enough to differentiate by hand: one Linear encoder, one Linear
decoder, no hidden layer. For binary data x (B, D) and noise eps (B, J),

    h          = x We + be                     (B, 2J)   We (D, 2J), be (2J,)
    mu, logvar = h[:, :J], h[:, J:]            (B, J) each
    sigma      = exp(logvar / 2)
    z          = mu + sigma * eps              (B, J)    the reparameterization, AEVB section 2.4
    l          = z Wd + bd                     (B, D)    Bernoulli logits; Wd (J, D), bd (D,)

    KL_n          = 1/2 sum_j (sigma_nj^2 + mu_nj^2 - 1 - logvar_nj)       AEVB appendix B
    log p(x_n|z_n) = sum_d [x_nd l_nd - softplus(l_nd)]                    AEVB appendix C.1

    loss = 1/B sum_n [KL_n - log p(x_n|z_n)]

the batch mean of minus estimator B with one sample (L = 1). Write
``vae_loss(x, eps, params)``: ``params`` is a dict of the four arrays "We",
"be", "Wd", "bd"; return ``(loss, grads)``, the loss (a number) and a dict
of the gradients of that batch-mean loss, with the same four keys and each
its parameter's shape.

The backward pass goes through the forward in reverse, one line at a time,
with the pieces of the earlier exercises: the Bernoulli log-likelihood's
gradient in l, the two Linear layers, the reparameterization, the KL. mu and
logvar reach the loss by two paths, through z and through the KL term: their
gradients add up. eps is noise and x is data: neither gets a gradient.
"""

import numpy as np

from ..nn.functional import sigmoid, softplus
from .exercise import Exercise, Mistake


def vae_loss(x, eps, params):
    """The batch-mean loss of minus estimator B, and its gradients in We, be, Wd, bd."""
    We, be, Wd, bd = params["We"], params["be"], params["Wd"], params["bd"]
    B, J = eps.shape
    # forward
    h = x @ We + be
    mu, logvar = h[:, :J], h[:, J:]
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps
    logits = z @ Wd + bd
    kl = 0.5 * np.sum(sigma * sigma + mu * mu - 1.0 - logvar, axis=1)
    log_px = np.sum(x * logits - softplus(logits), axis=1)
    loss = np.mean(kl - log_px)
    # backward: every example's term carries the 1/B of the batch mean
    dlogits = (sigmoid(logits) - x) / B  # d[-log p(x|z)]/dl = sigmoid(l) - x
    dWd = z.T @ dlogits
    dbd = dlogits.sum(axis=0)
    dz = dlogits @ Wd.T
    # mu and logvar: through z (dz/dmu = 1, dz/dlogvar = eps * sigma / 2) plus through the KL
    # (dKL/dmu = mu, dKL/dlogvar = (sigma^2 - 1) / 2)
    dmu = dz + mu / B
    dlogvar = dz * eps * 0.5 * sigma + 0.5 * (sigma * sigma - 1.0) / B
    dh = np.concatenate([dmu, dlogvar], axis=1)
    dWe = x.T @ dh
    dbe = dh.sum(axis=0)
    return float(loss), {"We": dWe, "be": dbe, "Wd": dWd, "bd": dbd}


def trial(vae_loss, rng):
    B, D, J = 5, 6, 2
    x = (rng.random((B, D)) < 0.5).astype(np.float64)
    eps = rng.standard_normal((B, J))
    params = {
        "We": 0.5 * rng.standard_normal((D, 2 * J)),
        "be": 0.1 * rng.standard_normal(2 * J),
        "Wd": rng.standard_normal((J, D)),
        "bd": 0.1 * rng.standard_normal(D),
    }
    # two pixels far from 1/2: logits near +-800, where exp(l) overflows and log(sigmoid(l))
    # or log(1 - sigmoid(l)) is log 0 unless computed stably (the task: logits of any size)
    params["bd"][:2] = 800.0, -800.0
    x[:, :2] = 0.0, 1.0
    loss, grads = vae_loss(x, eps, {name: p.copy() for name, p in params.items()})
    out = {"loss": None if loss is None else np.asarray(loss, dtype=np.float64)}
    for name in params:  # a key left out is reported as missing by the check, not raised here
        if isinstance(grads, dict) and name in grads:
            out[f"d{name}"] = grads[name]
    return out


def _mistaken(
    batch_sum=False,
    loss_sign=1.0,
    recon_sign=1.0,
    kl_sign=1.0,
    kl_grad=True,
    through_z=True,
    kl_mu=True,
    z_logvar=True,
    kl_half=0.5,
    half=0.5,
    sigma_for=lambda sigma: sigma,
    kl_batch_mean=True,
    kl_var=lambda sigma: sigma * sigma,
    halves_swapped=False,
    kl_logvar_sign=1.0,
    mu_first=True,
    log_sd=lambda logvar: 0.5 * logvar,
    kl_mu_from_z=False,
    dWd_from_mu=False,
    z_for_eps=False,
):
    """``vae_loss`` with one of the mistakes below (the defaults are the reference)."""

    def wrong(x, eps, params):
        We, be, Wd, bd = params["We"], params["be"], params["Wd"], params["bd"]
        B, J = eps.shape
        n = 1 if batch_sum else B  # what the batch is divided by
        n_kl = n if kl_batch_mean else 1  # what the KL's gradient is divided by
        h = x @ We + be
        mu, logvar = (h[:, :J], h[:, J:]) if mu_first else (h[:, J:], h[:, :J])
        sigma = np.exp(log_sd(logvar))
        z = mu + sigma * eps
        logits = z @ Wd + bd
        kl = 0.5 * np.sum(sigma * sigma + mu * mu - 1.0 - logvar, axis=1)
        log_px = np.sum(x * logits - softplus(logits), axis=1)
        loss = loss_sign * np.sum(kl - log_px) / n
        dlogits = recon_sign * (sigmoid(logits) - x) / n
        dz = dlogits @ Wd.T if through_z else np.zeros_like(z)
        noise = z if z_for_eps else eps
        dmu, dlogvar = dz, dz * noise * half * sigma_for(sigma) * z_logvar
        if kl_grad:
            dmu = dmu + kl_sign * (z if kl_mu_from_z else mu) / n_kl * kl_mu
            kl_dlogvar = kl_sign * kl_logvar_sign * kl_half * (kl_var(sigma) - 1.0)
            dlogvar = dlogvar + kl_dlogvar / n_kl
        halves = [dlogvar, dmu] if halves_swapped != (not mu_first) else [dmu, dlogvar]
        dh = np.concatenate(halves, axis=1)
        grads = {"We": x.T @ dh, "be": dh.sum(axis=0), "Wd": (mu if dWd_from_mu else z).T @ dlogits}
        grads["bd"] = dlogits.sum(axis=0)
        return float(loss), grads

    return wrong


EXERCISE = Exercise(
    number=9,
    chapter="AEVB",
    slug="vae_loss",
    title="the whole VAE loss (estimator B): forward and backward",
    target="vae_loss",
    reference=vae_loss,
    trial=trial,
    solution="tinyvae/exercises/ex09_vae_loss.py, vae_loss (the same as tinyvae's "
    "VAE(hidden=()).loss and .backward: tinyvae/objectives/sgvb.py, SGVB_B)",
    hints=[
        "The chain rule, through the forward in reverse: write the forward line by line and "
        "keep every intermediate (h, mu, logvar, sigma, z, l), then go back up one line at a "
        "time, each gradient the shape of its variable. The pieces are exercises 7 (the "
        "Bernoulli term), 2 (the two Linear layers), 5 (z) and 8 (the KL). The loss is a "
        "batch mean: every example's term carries 1/B. mu and logvar reach the loss by two "
        "paths, through z and through the KL: add both.",
        "Start at the logits: dloss/dl = (sigmoid(l) - x) / B, shape (B, D) (exercise 7's "
        "x - sigmoid(l), times -1 for the minus sign and 1/B for the mean).",
        "dl = (tv.sigmoid(l) - x) / B;  dWd = z.T @ dl;  dbd = dl.sum(axis=0);  "
        "dz = dl @ Wd.T;  then through z plus through the KL: dmu = dz + mu / B;  "
        "dlogvar = dz * eps * sigma / 2 + (sigma^2 - 1) / (2B);  "
        "dh = np.concatenate([dmu, dlogvar], axis=1);  dWe = x.T @ dh;  dbe = dh.sum(axis=0);  "
        'return float(loss), {"We": dWe, "be": dbe, "Wd": dWd, "bd": dbd}.',
    ],
    mistakes=[
        Mistake(
            "summed over the batch",
            _mistaken(batch_sum=True),
            "B times too large: you summed over the batch; the loss is the batch MEAN, "
            "1/B sum_n [KL_n - log p(x_n|z_n)], so every example's gradient carries 1/B",
        ),
        Mistake(
            "the bound for the loss",
            _mistaken(loss_sign=-1.0),
            "loss has the wrong sign: it is the bound, estimator B itself, log p(x|z) - KL; "
            "the loss is its negative, the batch mean of KL_n - log p(x_n|z_n), which "
            "training minimizes",
        ),
        Mistake(
            "reconstruction gradient sign",
            _mistaken(recon_sign=-1.0),
            "dl, the gradient in the logits, has the wrong sign: the loss holds MINUS log p(x|z) "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "KL gradient sign flipped",
            _mistaken(kl_sign=-1.0),
            "dmu and dlogvar get the KL term's gradient with the wrong sign: the loss adds the KL "
            "(exercise 8 derives that gradient)",
        ),
        Mistake(
            "no KL gradient",
            _mistaken(kl_grad=False),
            "dmu and dlogvar miss the KL term's gradient: mu and logvar reach the loss through "
            "the KL as well as through z, and the two paths add "
            "(exercise 8 derives it; hint 1 of 3 lists the paths)",
        ),
        Mistake(
            "no KL gradient in mu",
            _mistaken(kl_mu=False),
            "dmu misses the KL term's gradient (dlogvar has it): mu reaches the loss through "
            "the KL as well as through z (exercise 8 derives it; hint 1 of 3 lists the paths)",
        ),
        Mistake(
            "no path from z to logvar",
            _mistaken(z_logvar=False),
            "dlogvar misses the path through z (dmu has it): z = mu + sigma * eps depends on "
            "logvar through sigma (exercise 5's hint 3 of 3 derives it)",
        ),
        Mistake(
            "mu for z in dWd",
            _mistaken(dWd_from_mu=True),
            "dWd uses mu where the sample z belongs: the decoder reads z = mu + sigma * eps, "
            "so its weights' gradient is z.T @ dl (hint 3 of 3)",
        ),
        Mistake(
            "z for eps in dz/dlogvar",
            _mistaken(z_for_eps=True),
            "dlogvar through z uses z where the noise eps belongs: dz/dsigma = eps, since "
            "z = mu + sigma * eps (exercise 5's hint 2 of 3 derives it)",
        ),
        Mistake(
            "z for mu in the KL's dmu",
            _mistaken(kl_mu_from_z=True),
            "dmu's KL term uses z where mu belongs: the KL is computed in closed form from mu "
            "and logvar, not from the sample z, so its gradient in mu is mu / B "
            "(exercise 8 derives it)",
        ),
        Mistake(
            "missing 1/2 in the KL's dlogvar",
            _mistaken(kl_half=1.0),
            "dlogvar's KL term is twice too large: the KL holds logvar with a factor 1/2 "
            "(exercise 8 derives it)",
        ),
        Mistake(
            "z treated as a constant",
            _mistaken(through_z=False),
            "dmu and dlogvar miss the path through z: z = mu + sigma * eps depends on the "
            "encoder, so the gradient that reaches z flows on into mu and logvar, as in "
            "exercise 5 (hint 1 of 3 lists the paths)",
        ),
        Mistake(
            "missing 1/2 in dz/dlogvar",
            _mistaken(half=1.0),
            "dlogvar through z misses the factor 1/2 from sigma = exp(logvar / 2) "
            "(exercise 5's hint 3 of 3 derives it)",
        ),
        Mistake(
            "sigma^2 for sigma in dz/dlogvar",
            _mistaken(sigma_for=lambda sigma: sigma * sigma),
            "dlogvar through z uses sigma^2 = exp(logvar) where sigma = exp(logvar / 2) belongs "
            "(exercise 5's hint 3 of 3 derives it)",
        ),
        Mistake(
            "no sigma in dz/dlogvar",
            _mistaken(sigma_for=np.ones_like),
            "dlogvar through z misses the factor sigma: z = mu + sigma * eps depends on logvar "
            "through sigma = exp(logvar / 2), whose derivative keeps the exp as well as the 1/2 "
            "(exercise 5's hint 3 of 3 derives it)",
        ),
        Mistake(
            "KL gradient not averaged",
            _mistaken(kl_batch_mean=False),
            "dmu and dlogvar get the KL term's gradient B times too large: the loss is the "
            "batch MEAN of KL_n - log p(x_n|z_n), so the KL's part carries 1/B as well as the "
            "reconstruction's (hint 1 of 3 says so)",
        ),
        Mistake(
            "sigma for sigma^2 in the KL's dlogvar",
            _mistaken(kl_var=lambda sigma: sigma),
            "dlogvar's KL term has sigma = exp(logvar / 2) where the variance sigma^2 = "
            "exp(logvar) belongs: the KL holds sigma^2, and its derivative in logvar comes "
            "through exp(logvar), not its square root (exercise 8 derives it)",
        ),
        Mistake(
            "dmu and dlogvar swapped in dh",
            _mistaken(halves_swapped=True),
            "dh has its two halves swapped, dlogvar first: the forward splits h into "
            "mu = h[:, :J] and logvar = h[:, J:], so dh joins dmu and dlogvar in that order, "
            "and dWe and dbe take their columns from it",
        ),
        Mistake(
            "KL gradient sign flipped in dlogvar",
            _mistaken(kl_logvar_sign=-1.0),
            "dlogvar gets the KL term's gradient with the wrong sign (dmu's is right): the "
            "KL holds +sigma^2 = +exp(logvar) and -logvar, and the sign of each survives the "
            "derivative (exercise 8 derives it; hint 3 of 3 writes it)",
        ),
        Mistake(
            "mu and logvar from the wrong halves of h",
            _mistaken(mu_first=False),
            "the loss and every gradient come from mu and logvar taken from the wrong halves "
            "of h: mu is the first J columns, h[:, :J], and logvar the last J, h[:, J:] "
            "(the task writes the forward line by line; dh follows the same order)",
        ),
        Mistake(
            "sigma = exp(logvar)",
            _mistaken(log_sd=lambda logvar: logvar, half=1.0, kl_var=lambda s: 2.0 * s * s),
            "the loss and every gradient use sigma = exp(logvar), which is the variance: "
            "logvar is the log of sigma^2, so the standard deviation that multiplies eps is "
            "sigma = exp(logvar / 2) (the task writes the forward line by line)",
        ),
    ],
)
