"""Exercise 5: the backward pass of z = mu + exp(logvar / 2) * eps.

AEVB (Kingma & Welling 2013) eq. (4) and section 2.4; sigma = exp(logvar / 2).

    dL/dmu     = dz
    dL/dlogvar = dz * eps * sigma / 2      (d exp(logvar / 2) / dlogvar = sigma / 2)
    dL/deps    = None                      (eps is noise)

Check it with:  python -m tinyvae.exercises check ex05_reparameterize.py
"""

import numpy as np

import tinyvae as tv


class Reparameterize(tv.Reparameterize):
    """tinyvae's Reparameterize (its forward), with your backward."""

    def backward(self, dz):
        # what forward kept: sigma = exp(logvar / 2) and eps, each (B, J), and the shapes
        # of mu and logvar (not needed here: everything is (B, J))
        sigma, eps, mu_shape, logvar_shape = self.take()
        # TODO: return (dmu, dlogvar, None), dmu and dlogvar each (B, J), from dz (B, J).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(5, Reparameterize) else 1)
