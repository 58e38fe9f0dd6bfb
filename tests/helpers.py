"""Helpers shared by several test files (imported as ``from helpers import ...``).

``setup.cfg`` puts ``tests/`` on the path (``pythonpath = tests``), so test
files in any sub-folder can import this module.
"""

import math

import numpy as np
from hypothesis import strategies as st

import tinyvae as tv

# --- a stand-in for MNIST in the demos' tests -----------------------------------


def random_mnist(monkeypatch, demo, n_train, n_test):
    """Random grey levels and labels of MNIST's shape, served by ``demo``'s
    ``tv.load_dataset``, so that a demo runs end to end without reading a file."""
    rng = np.random.default_rng(0)
    data = tv.Dataset(
        name="mnist",
        x_train=rng.random((n_train, 784), dtype=np.float32),
        y_train=rng.integers(0, 10, n_train),
        x_test=rng.random((n_test, 784), dtype=np.float32),
        y_test=rng.integers(0, 10, n_test),
        image_shape=(28, 28),
    )
    monkeypatch.setattr(demo.tv, "load_dataset", lambda name, data_dir=None: data)
    return data


# --- ReLU kinks in gradient checks --------------------------------------------


def smallest_relu_input(model, x, eps):
    """The smallest |input| of any ReLU in the VAE for this x and noise."""
    smallest = np.inf

    def run(mlp, h):
        nonlocal smallest
        for layer in mlp.layers:
            if isinstance(layer, tv.ReLU):
                smallest = min(smallest, np.abs(h).min())
            h = layer.forward(h)
        return h

    h = run(model.encoder, x)
    mu, logvar = h[:, : model.z_dim], h[:, model.z_dim :]
    run(model.decoder, (mu + np.exp(0.5 * logvar) * eps).reshape(-1, model.z_dim))
    model.clear_cache()
    return smallest


# --- a learnable toy dataset and the model that trains on it --------------------


def prototype_data(n, seed, D=32, n_prototypes=6, flip=0.05):
    """Binary vectors: random prototypes with a few bits flipped, a learnable toy."""
    rng = np.random.default_rng(seed)
    prototypes = np.random.default_rng(1234).uniform(size=(n_prototypes, D)) > 0.5
    x = prototypes[rng.integers(n_prototypes, size=n)]
    x ^= rng.uniform(size=x.shape) < flip
    return x.astype(np.float32)


def make_vae_adam(seed=0):
    """A VAE for ``prototype_data``, its Adam optimizer and the generator that made it."""
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=32, hidden=(24,), z_dim=2, rng=rng)
    return model, tv.Adam(model.parameters(), lr=3e-3), rng


# --- a VAE whose log p(x) is known ----------------------------------------------
#
# A linear-Gaussian VAE, p(z) = N(0, I), p(x|z) = N(z Wm + bm, s2 I), has
# log p(x) = log N(x; bm, Wm^T Wm + s2 I) in closed form. If the rows of Wm are
# orthogonal its posterior is a diagonal Gaussian, so a linear encoder can be
# set to the exact posterior, and then every importance weight equals p(x).

D, J, S2 = 6, 2, 0.3


def linear_gaussian_vae(exact_posterior, seed=0):
    """The model, 200 draws x from it and their exact log p(x)."""
    rng = np.random.default_rng(seed)
    model = tv.VAE(x_dim=D, hidden=(), z_dim=J, likelihood="gaussian", rng=rng, dtype=np.float64)
    q, _ = np.linalg.qr(rng.normal(size=(D, J)))
    Wm = (q * np.array([1.5, 0.7])).T  # (J, D), orthogonal rows
    bm = rng.normal(size=D)
    dec = model.decoder.layers[0]
    dec.params["W"][...] = np.concatenate([Wm, np.zeros((J, D))], axis=1)
    dec.params["b"][...] = np.concatenate([bm, np.full(D, math.log(S2))])
    # exact posterior: Sigma = (I + Wm Wm^T / s2)^-1, mu = (x - bm) Wm^T Sigma / s2
    sigma = np.linalg.inv(np.eye(J) + Wm @ Wm.T / S2)
    A = Wm.T @ sigma / S2
    enc = model.encoder.layers[0]
    enc.params["W"][...] = np.concatenate([A, np.zeros((D, J))], axis=1)
    enc.params["b"][...] = np.concatenate([-bm @ A, np.log(np.diag(sigma))])
    if not exact_posterior:  # a worse encoder: the bounds get loose
        enc.params["W"][...] *= 0.7
        enc.params["b"][J:] -= 0.5
    cov = Wm.T @ Wm + S2 * np.eye(D)
    x = rng.multivariate_normal(bm, cov, size=200)
    diff = x - bm
    log_px = -0.5 * (
        D * math.log(2 * math.pi)
        + np.linalg.slogdet(cov)[1]
        + np.sum(diff @ np.linalg.inv(cov) * diff, axis=1)
    )
    return model, x, log_px


# The hypothesis strategies the gradient checks share: small shapes, any seed.
TOL = 1e-6  # a correct float64 backward agrees with central differences far below this
batch = st.integers(1, 6)
dim = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)
shapes = st.tuples(st.integers(1, 8), st.integers(1, 6))


def random_vae(likelihood, hidden, rng, activation="relu", x_dim=5, z_dim=2):
    """A float64 VAE with N(0, 0.5^2) parameters; ``likelihood`` may be "gaussian_bounded"."""
    vae = tv.VAE(
        x_dim=x_dim,
        hidden=hidden,
        z_dim=z_dim,
        activation=activation,
        likelihood=likelihood.split("_")[0],
        bounded_mean="bounded" in likelihood,
        rng=rng,
        dtype=np.float64,
    )
    for _, param, _ in vae.parameters():
        param[...] = rng.normal(0, 0.5, param.shape)
    return vae


# --- extreme parameters in float32 -------------------------------------------


def set_encoder_logvar(model, value):
    """Make the VAE's encoder output log sigma^2 = ``value`` for every input."""
    last, J = model.encoder.layers[-1], model.z_dim
    last.params["W"][:, J : 2 * J] = 0
    last.params["b"][J : 2 * J] = value


def assert_finite_step(objective, loss):
    """``loss()`` and ``objective.backward()`` overflow nowhere (no inf, no NaN, no
    floating-point overflow on the way) and every gradient is finite."""
    objective.model.zero_grad()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss()
        objective.backward()
    assert np.isfinite(value)
    for name, _, grad in objective.model.parameters():
        assert np.isfinite(grad).all(), name


# --- a refused call changes nothing ----------------------------------------------


def world_snapshot(world):
    """Everything a refused call must leave alone: ``world`` has a ``model`` with a
    forward pass pending in ``objective``, its optimizer ``opt``, the caller's ``rng``
    and an output folder ``tmp``."""
    return {
        "params": {n: p.copy() for n, p, _ in world.model.parameters()},
        "grads": {n: g.copy() for n, _, g in world.model.parameters()},
        "optimizer": world.opt.state_dict(),
        "rng": world.rng.bit_generator.state,
        "caches": [(m, m.cache) for _, m in world.model.modules()],
        "files": sorted(p.name for p in world.tmp.iterdir()),
    }


def assert_unchanged(before, world):
    """``world`` is as ``world_snapshot`` saw it, and its pending backward still runs."""
    after = world_snapshot(world)
    for key in ("params", "grads", "optimizer"):
        assert before[key].keys() == after[key].keys()
        for name in before[key]:
            np.testing.assert_array_equal(after[key][name], before[key][name], err_msg=name)
    assert after["rng"] == before["rng"], "the caller's rng advanced"
    assert all(m.cache is cache for m, cache in before["caches"]), "a cache changed"
    assert after["files"] == before["files"]
    world.objective.backward()  # the pending forward survived
