"""The float32 Gaussian decoder stays finite on images that are all 0 or all 1.

On such images the bounded mean sigmoid(a) can reach the data exactly (a
float32 sigmoid is 1.0 above a = 17), after which every step lowers the
log-variance until exp(-logvar / 2) overflows and inf * 0 makes NaN. The floor on
the log-variance (``LOGVAR_MIN``) keeps every number finite.
"""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.models.likelihood import LOGVAR_MIN
from tinyvae.objectives import add_weight_prior


def train_on_constant_images(value, steps, floor=LOGVAR_MIN):
    """AEVB's Frey Face model and setup (AdaGrad, N/M scaling, weight prior), constant images."""
    rng = np.random.default_rng(0)
    model = tv.VAE(560, (200,), 2, activation="tanh", likelihood="gaussian", bounded_mean=True,
                   init="aevb_normal", rng=rng)  # fmt: skip
    model.likelihood.logvar_floor.minimum = floor
    opt = tv.AdaGrad(model.parameters(), lr=0.02)
    objective = tv.SGVB_B(model)
    x = np.full((100, 560), value, np.float32)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            losses.append(objective.loss(x, rng=rng))
            if not np.isfinite(losses[-1]):
                break
            opt.zero_grad()
            objective.backward(2000.0)  # N/M with N = 2000 images
            add_weight_prior(objective)
            opt.step()
    return losses, model


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_constant_images_train_to_a_finite_bounded_loss(value):
    losses, model = train_on_constant_images(value, steps=150)
    assert np.isfinite(losses).all()
    assert all(np.isfinite(p).all() for _, p, _ in model.parameters())
    # the log-likelihood per pixel is at most -1/2 (log 2 pi + LOGVAR_MIN), at the floor
    assert min(losses) >= 560 * 0.5 * (np.log(2 * np.pi) + LOGVAR_MIN) - 1e-3


def test_without_the_floor_the_same_run_overflows():
    losses, _ = train_on_constant_images(0.0, steps=450, floor=-1e30)  # inf at step 393
    assert not np.isfinite(losses[-1])
