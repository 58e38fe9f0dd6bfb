"""Code written for tinyvae 0.1 keeps working: old import paths, names and checkpoints."""

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import prototype_data

import tinyvae as tv
from tinyvae.checkpoint import load_checkpoint

HERE = Path(__file__).parent


def test_the_flat_module_paths_of_0_1_still_import():
    from tinyvae import mnist
    from tinyvae.atomic import atomic_write, write_json
    from tinyvae.batching import batches, binarize
    from tinyvae.bernoulli import BernoulliLogLikelihood
    from tinyvae.datasets import DATASET_NAMES, load_dataset
    from tinyvae.gradient_variance import gradient_variance
    from tinyvae.module import Module, Sequential
    from tinyvae.vae import VAE
    from tinyvae.wake_sleep import WakeSleep, fit_wake_sleep
    from tinyvae.weight_prior import add_weight_prior

    assert mnist is tv.data.mnist and VAE is tv.VAE and WakeSleep is tv.WakeSleep
    assert batches is tv.batches and binarize is tv.binarize and Module is tv.Module
    assert gradient_variance is tv.gradient_variance and Sequential is tv.Sequential
    assert load_dataset is tv.load_dataset and "mnist" in DATASET_NAMES
    assert fit_wake_sleep is tv.fit_wake_sleep and add_weight_prior is tv.add_weight_prior
    assert atomic_write is tv.files.atomic_write and write_json is tv.files.write_json
    assert BernoulliLogLikelihood is tv.BernoulliLogLikelihood
    assert sorted(tv.activations.ACTIVATIONS) == sorted(tv.nn.ACTIVATIONS)


def test_the_likelihood_still_compares_equal_to_its_name():
    model = tv.VAE(
        x_dim=4, hidden=(3,), z_dim=2, likelihood="gaussian", rng=np.random.default_rng(0)
    )
    assert model.likelihood == "gaussian" and model.likelihood != "bernoulli"
    assert model.config()["likelihood"] == "gaussian"


def test_bernoulli_log_likelihood_keeps_its_0_1_argument_order():
    rng = np.random.default_rng(0)
    logits, x = rng.normal(size=(3, 4)), (rng.uniform(size=(3, 4)) > 0.5) * 1.0
    old, new = tv.BernoulliLogLikelihood(), tv.BernoulliLogDensity()
    np.testing.assert_array_equal(old.forward(logits, x), new.forward(x, logits))
    dll = rng.normal(size=3)
    np.testing.assert_array_equal(old.backward(dll), new.backward(dll)[1])


def test_a_run_checkpointed_by_0_1_resumes_to_the_same_numbers(tmp_path):
    """checkpoint_0.1.npz: epoch 1 of this run, saved by tinyvae 0.1.

    0.1 resumed it to these epoch-2 losses and this decoder bias; so must we.
    """
    r = np.random.default_rng(0)
    prototypes = r.uniform(size=(4, 12)) > 0.5
    x = prototypes[r.integers(4, size=120)].astype(np.float32)
    path = tmp_path / "run.npz"
    shutil.copy(HERE / "checkpoint_0.1.npz", path)
    vae = tv.VAE(x_dim=12, hidden=(8,), z_dim=2, rng=np.random.default_rng(5))
    opt = tv.Adam(vae.parameters(), lr=3e-3)
    history = tv.fit(
        vae,
        opt,
        tv.Batches(x, batch_size=40, binarize=True),
        x[:30],
        epochs=2,
        rng=np.random.default_rng(99),
        checkpoint=str(path),
        resume=True,
        progress=False,
    )
    # A float32 run: another CPU's BLAS kernels round each step differently, so
    # the numbers agree to float32's precision, not to the last bit.
    np.testing.assert_allclose(
        history.train_loss, [8.767010052998861, 8.702090899149576], rtol=1e-5
    )
    np.testing.assert_allclose(history.test_loss, [8.686388969421387, 8.540867265065511], rtol=1e-5)
    bias = vae.state_dict()["decoder.layers.2.b"]
    np.testing.assert_allclose(
        bias[:3], [0.01781262457370758, -0.01780974678695202, 0.017904695123434067], rtol=1e-4
    )


def test_fit_wake_sleep_is_fit_of_a_wake_sleep_objective():
    """0.1's fit_wake_sleep(ws, ...) trains as tv.fit(ws, ...) on batches of 100."""
    x, x_test = prototype_data(150, seed=0), prototype_data(30, seed=1)
    runs = []
    for train in ("0.1", "0.3"):
        rng = np.random.default_rng(0)
        vae = tv.VAE(x_dim=32, hidden=(8,), z_dim=2, rng=rng)
        ws, opt = tv.WakeSleep(vae), tv.Adam(vae.parameters(), lr=3e-3)
        if train == "0.1":
            with warnings.catch_warnings():
                # fit_wake_sleep hands fit 0.2's keywords (batch_size=, binarize=, verbose=)
                # on, so it warns of them; what is checked here is how it trains
                warnings.simplefilter("ignore", DeprecationWarning)
                history = tv.fit_wake_sleep(
                    ws, opt, x, x_test, epochs=2, rng=rng, binarize=True, progress=False,
                    verbose=False,
                )  # fmt: skip
        else:
            data = tv.Batches(x, batch_size=100, binarize=True)
            history = tv.fit(ws, opt, data, x_test, epochs=2, rng=rng, progress=False)
        runs.append((history, vae.state_dict()))
    (old, old_state), (new, new_state) = runs
    assert old.train_loss == new.train_loss and old.test_loss == new.test_loss
    for name, value in new_state.items():
        np.testing.assert_array_equal(value, old_state[name], err_msg=name)


def test_a_0_1_checkpoint_loads_into_a_model_and_refuses_another_architecture():
    model = tv.VAE(x_dim=12, hidden=(8,), z_dim=2, rng=np.random.default_rng(5))
    metadata = load_checkpoint(HERE / "checkpoint_0.1.npz", model)
    assert metadata["epoch"] == 1
    with pytest.raises(tv.CheckpointError, match="holds a model with"):
        load_checkpoint(HERE / "checkpoint_0.1.npz", tv.VAE(x_dim=12, hidden=(9,), z_dim=2))


def test_model_loss_backward_and_elbo_are_shortcuts_to_the_objectives():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(5, 6)) > 0.5) * 1.0
    eps = rng.normal(size=(3, 5, 2))
    for name in ("B", "sgvb_b", "A", "sgvb_a", "iwae", "score", "score_function"):
        model.zero_grad()
        loss = model.loss(x, eps=eps, estimator=name)
        model.backward(0.5)
        via_model = [g.copy() for _, _, g in model.parameters()]
        objective = tv.make_objective(model, name, n_samples=3)
        model.zero_grad()
        assert objective.loss(x, eps=eps) == loss
        objective.backward(0.5)
        for before, (_, _, g) in zip(via_model, model.parameters()):
            np.testing.assert_array_equal(before, g)
    assert tv.SGVB_B is tv.ESTIMATORS["sgvb_b"] is tv.ESTIMATORS["B"]
    with pytest.raises(ValueError, match="estimator: expected one of"):
        model.loss(x, eps=eps, estimator="C")
    with pytest.raises(ValueError, match="baseline: True applies to the score-function"):
        model.loss(x, eps=eps, estimator="A", baseline=True)


def test_import_tinyvae_loads_no_plotting_or_download_library():
    """matplotlib (the digit renderer, the plots), pooch and requests (downloads) load when
    a loader or a plot first needs them; the old paths of the loaders still import."""
    code = (
        "import sys; import tinyvae as tv; "
        "print(sorted(m for m in ('matplotlib', 'pooch', 'requests') if m in sys.modules)); "
        "import tinyvae.mnist; from tinyvae import frey; "
        "print(tinyvae.mnist is tv.data.mnist, frey is tv.data.frey, tv.download.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["[]", "True True tinyvae.data.download"]
