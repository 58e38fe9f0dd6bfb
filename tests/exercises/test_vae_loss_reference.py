"""Exercise 9's reference is tinyvae itself: the same loss and gradients as a VAE with
no hidden layer, trained with estimator B."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.exercises import get
from tinyvae.exercises.ex09_vae_loss import vae_loss


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("B, D, J", [(5, 6, 2), (3, 10, 4)])
def test_the_reference_equals_tinyvaes_loss_and_backward(seed, B, D, J):
    rng = np.random.default_rng(seed)
    x = (rng.random((B, D)) < 0.5).astype(np.float64)
    eps = rng.standard_normal((B, J))
    params = {
        "We": 0.5 * rng.standard_normal((D, 2 * J)),
        "be": 0.1 * rng.standard_normal(2 * J),
        "Wd": rng.standard_normal((J, D)),
        "bd": 0.1 * rng.standard_normal(D),
    }
    loss, grads = vae_loss(x, eps, params)

    model = tv.VAE(x_dim=D, hidden=(), z_dim=J, likelihood="bernoulli", dtype=np.float64)
    names = {
        "encoder.layers.0.W": "We",
        "encoder.layers.0.b": "be",
        "decoder.layers.0.W": "Wd",
        "decoder.layers.0.b": "bd",
    }
    assert {name for name, _, _ in model.parameters()} == set(names)
    for name, param, _ in model.parameters():
        param[...] = params[names[name]]
    model.zero_grad()
    assert model.estimator == "B"
    want_loss = model.loss(x, eps=eps)
    model.backward()

    np.testing.assert_allclose(loss, want_loss, rtol=1e-10, atol=1e-10)
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(grads[names[name]], grad, rtol=1e-10, atol=1e-10)


def test_the_trial_compares_the_five_arrays():
    assert set(get("vae_loss").run(vae_loss)) == {"loss", "dWe", "dbe", "dWd", "dbd"}
