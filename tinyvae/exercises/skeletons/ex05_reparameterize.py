"""Exercise 5: the backward pass of the reparameterization trick.

AEVB (Kingma & Welling 2013) eq. (4), with the Gaussian of section 2.4: a sample
z ~ N(mu, sigma^2) is written as a function of the parameters and of noise that does not
depend on them,

    z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I),

elementwise; mu and logvar are (B, J). A VAE may draw L samples per example: eps and
z are then (L, B, J), and mu and logvar broadcast over the leading samples axis (the
check tries both, eps (B, J) and (L, B, J)). backward receives dz, the gradient dL/dz,
the shape of z, and returns the tuple (dL/dmu, dL/dlogvar, None), in the order of
forward's inputs: the first two (B, J) each, like mu and logvar, and None for eps, which
is noise, not something to learn. The module has no parameters: self.grads is left alone.

Check it with:  python -m tinyvae.exercises check ex05_reparameterize.py
"""

import numpy as np

import tinyvae as tv


class Reparameterize(tv.Reparameterize):
    """tinyvae's Reparameterize (its forward), with your backward."""

    def backward(self, dz):
        # what forward kept: sigma = exp(logvar / 2), (B, J); eps, (B, J) or (L, B, J);
        # and the shapes of mu and logvar, (B, J)
        sigma, eps, mu_shape, logvar_shape = self.take()
        # TODO: return (dL/dmu, dL/dlogvar, None), the first two of mu's and logvar's shapes,
        # from dz, the shape of eps: with L samples, each sample's path adds up.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(5, Reparameterize) else 1)
