"""The same numbers as tinyvae 0.1 on fixed seeds.

``regression_0.1.json`` holds what tinyvae 0.1 (the flat package, before the
estimators became objectives) computed with the code of ``compute()`` below,
written with the 0.1 API that still works: every bound and its gradients,
L_k, active units, reconstruction, both wake-sleep phases and their
gradients, dreams, and three short training runs (wake-sleep, estimator B,
IWAE with AEVB's setup). The training runs are written with 0.3's ``fit``
(``tv.Batches``, the estimator on the objective, ``tv.MAP``), which trains
exactly as 0.1's keywords did.

"The same numbers" means the same up to rounding, never the last bit: OpenBLAS
chooses its matrix kernels by CPU at run time, and NumPy its SIMD loops for
exp, log and sums, so the same code rounds differently on another processor
(by a unit or two in the last place of a float64, or of each float32 step of
the short training runs). The tolerances below are far above that and far
below any real change: a changed formula, a sign, a missing factor or another
random draw moves these numbers in the third digit or sooner.
"""

import json
import pathlib

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.evaluation import active_units, log_likelihood
from tinyvae.wake_sleep import WakeSleep

SAVED = json.loads((pathlib.Path(__file__).parent / "regression_0.1.json").read_text())


def small_model(likelihood, seed=0):
    rng = np.random.default_rng(seed)
    model = tv.VAE(
        x_dim=6,
        hidden=(5,),
        z_dim=2,
        activation="tanh",
        likelihood=likelihood,
        bounded_mean=(likelihood == "gaussian"),
        rng=rng,
        dtype=np.float64,
    )
    for _, param, _ in model.parameters():
        param[...] = rng.normal(0, 0.5, param.shape)
    return model


def grads(model):
    return {name: grad.tolist() for name, _, grad in model.parameters()}


def compute():
    """Everything in regression_0.1.json, by the current code."""
    out = {}
    rng = np.random.default_rng(1)
    x = (rng.uniform(size=(7, 6)) > 0.5).astype(np.float64)
    x_grey = rng.uniform(size=(7, 6))
    for lik, data in (("bernoulli", x), ("gaussian", x_grey)):
        m = small_model(lik)
        out[f"{lik} L_k"] = log_likelihood(
            m, data, k=50, rng=np.random.default_rng(2), batch_size=3, max_rows=10
        )
        for est in ("B", "A", "iwae"):
            out[f"{lik} elbo {est}"] = m.elbo(
                data, rng=np.random.default_rng(3), n_samples=4, estimator=est
            )
        for est, base in (
            ("B", False),
            ("A", False),
            ("iwae", False),
            ("score", False),
            ("score", True),
        ):
            m.zero_grad()
            out[f"{lik} loss {est} {base}"] = m.loss(
                data, rng=np.random.default_rng(4), n_samples=3, estimator=est, baseline=base
            )
            m.backward(1.7)
            out[f"{lik} grads {est} {base}"] = grads(m)
        out[f"{lik} active"] = active_units(m, data)[1]
        out[f"{lik} reconstruct"] = m.reconstruct(data, np.random.default_rng(5))
        ws = WakeSleep(m)
        r = np.random.default_rng(6)
        m.zero_grad()
        wake = ws.loss_wake(data, rng=r)
        ws.backward_wake(2.0)
        sleep = ws.loss_sleep(4, rng=r)
        ws.backward_sleep(3.0)
        out[f"{lik} wake"] = [wake, sleep, ws.wake_elbo]
        out[f"{lik} wake grads"] = grads(m)
        out[f"{lik} dream"] = list(ws.dream(3, np.random.default_rng(7)))
    r = np.random.default_rng(0)
    prototypes = r.uniform(size=(4, 12)) > 0.5
    x_toy = prototypes[r.integers(4, size=200)].astype(np.float32)
    vae = tv.VAE(x_dim=12, hidden=(8,), z_dim=2, rng=r)
    h = tv.fit(  # 0.1's fit_wake_sleep(ws, opt, x_toy, x_test, batch_size=50)
        WakeSleep(vae),
        tv.Adam(vae.parameters(), lr=3e-3),
        tv.Batches(x_toy, batch_size=50),
        x_toy[:50],
        epochs=3,
        rng=r,
        progress=False,
    )
    out["fit_wake_sleep"] = [h.train_loss, h.test_loss]
    r = np.random.default_rng(0)
    vae = tv.VAE(x_dim=12, hidden=(8,), z_dim=2, rng=r)
    h = tv.fit(
        tv.SGVB_B(vae, 2),  # the VAE's default estimator, B, with 2 samples
        tv.Adam(vae.parameters(), lr=3e-3),
        tv.Batches(x_toy, batch_size=50),
        x_toy[:50],
        epochs=3,
        rng=r,
        progress=False,
    )
    out["fit B"] = [h.train_loss, h.test_loss]
    r = np.random.default_rng(0)
    vae = tv.VAE(
        x_dim=12,
        hidden=(8,),
        z_dim=2,
        rng=r,
        estimator="iwae",
        activation="tanh",
        init="aevb_normal",
    )
    h = tv.fit(
        tv.MAP(tv.make_objective(vae, vae.estimator, 3), n_data=len(x_toy)),  # iwae, 3 samples
        tv.AdaGrad(vae.parameters(), lr=0.05),
        tv.Batches(x_toy, batch_size=50, binarize=True),
        x_toy[:50],
        epochs=3,
        rng=r,
        progress=False,
    )
    out["fit iwae aevb"] = [h.train_loss, h.test_loss]
    return out


def flat(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return np.concatenate([flat(v) for v in value]) if value else np.zeros(0)
    return np.ravel(np.asarray(value, dtype=np.float64))


@pytest.fixture(scope="module")
def now():
    return compute()


def test_every_saved_number_is_computed_again(now):
    assert set(now) == set(SAVED)


# The three training runs are float32: each of their 12 Adam or AdaGrad steps
# rounds to float32's 24 bits, and the rounding of one step feeds the next, so
# another BLAS kernel moves their losses by up to about 1e-7 relative.
FLOAT32_RUNS = ("fit_wake_sleep", "fit B", "fit iwae aevb")


@pytest.mark.parametrize("key", sorted(SAVED))
def test_same_numbers_as_tinyvae_0_1(now, key):
    before, after = flat(SAVED[key]), flat(now[key])
    # Relative to the array's largest entry: a gradient entry near zero is the
    # difference of larger terms and keeps only their absolute precision.
    rtol = 1e-5 if key in FLOAT32_RUNS else 1e-12
    np.testing.assert_allclose(after, before, rtol=rtol, atol=rtol * np.abs(before).max())
