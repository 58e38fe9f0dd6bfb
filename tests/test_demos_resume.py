"""The demos that resume from checkpoints ask for what fit records: a run continued with
the same options is accepted and trains on (on a few hundred random 'images'), and gives
what the run would have given without the stop."""

import os
import sys

import numpy as np
import pytest
from helpers import random_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "demos", c) for c in ("aevb", "semi_supervised", "deeper")]

import deeper_models  # noqa: E402
import iwae_table  # noqa: E402
import semi_supervised  # noqa: E402
import vae  # noqa: E402


@pytest.mark.parametrize("options", [[], ["--likelihood", "gaussian", "--n-samples", "2"]])
def test_vae_resumes_its_own_checkpoint(options, monkeypatch, tmp_path):
    random_mnist(monkeypatch, vae, 200, 50)
    argv = ["--dataset", "mnist", "--hidden", "8", "6", "--z-dim", "3", "--batch-size", "50"]
    argv += ["--lr", "3e-3", "--out", str(tmp_path / "vae"), "--no-progress", *options]
    vae.main([*argv, "--epochs", "1"])
    history = vae.main([*argv, "--epochs", "2", "--resume"])
    assert history.epoch == [1, 2]


def test_deeper_models_resumes_its_own_checkpoints(monkeypatch, tmp_path):
    random_mnist(monkeypatch, deeper_models, 200, 50)
    argv = ["--models", "diagonal", "--k-eval", "4", "--test-subset", "10", "--lr", "2e-3"]
    argv += ["--out", str(tmp_path / "deeper"), "--no-progress"]
    deeper_models.main([*argv, "--epochs", "1"])
    results = deeper_models.main([*argv, "--epochs", "2", "--resume"])
    assert results["runs"]["diagonal-seed1"]["history"]["epoch"] == [1, 2]


def test_iwae_table_resumes_both_runs_as_if_never_stopped(monkeypatch, tmp_path):
    random_mnist(monkeypatch, iwae_table, 200, 50)
    argv = ["--k-eval", "4", "--test-subset", "10", "--lr", "2e-3", "--no-progress"]
    iwae_table.main([*argv, "--epochs", "1", "--out", str(tmp_path / "stopped")])
    resumed = iwae_table.main(
        [*argv, "--epochs", "2", "--out", str(tmp_path / "stopped"), "--resume"]
    )
    whole = iwae_table.main([*argv, "--epochs", "2", "--out", str(tmp_path / "whole")])
    assert set(os.listdir(tmp_path / "stopped")) == {
        "iwae.json", "curves.png", "active_units.png", "vae.npz", "iwae.npz",
    }  # fmt: skip
    for name in ("VAE (k=1)", "IWAE (k=5)"):
        again, once = resumed["models"][name], whole["models"][name]
        assert again["history"]["epoch"] == [1, 2]
        assert again["history"]["test_loss"] == pytest.approx(once["history"]["test_loss"])
        assert again["test_nll"] == pytest.approx(once["test_nll"])


def test_semi_supervised_resumes_its_own_checkpoints(monkeypatch, tmp_path):
    data = random_mnist(monkeypatch, semi_supervised, 300, 50)
    monkeypatch.setattr(semi_supervised, "split_mnist", lambda mnist: (data, None))
    argv = ["--models", "m2", "styles", "--labels", "100", "--batch-size", "50"]
    argv += ["--labelled-batch-size", "20", "--out", str(tmp_path / "ssl"), "--no-progress"]
    semi_supervised.main([*argv, "--m2-epochs", "1", "--styles-epochs", "1"])
    results = semi_supervised.main([*argv, "--m2-epochs", "2", "--styles-epochs", "2", "--resume"])
    assert results["runs"]["m2-100"]["epochs"] == results["runs"]["styles"]["epochs"] == 2


def test_semi_supervised_second_phase_starts_from_the_first_phases_model(
    monkeypatch, tmp_path, capsys
):
    data = random_mnist(monkeypatch, semi_supervised, 300, 50)
    monkeypatch.setattr(semi_supervised, "split_mnist", lambda mnist: (data, None))
    argv = ["--models", "m2", "--labels", "100", "--batch-size", "50"]
    argv += ["--labelled-batch-size", "20", "--no-progress", "--m2-epochs", "1"]
    semi_supervised.main([*argv, "--lr", "3e-3", "--out", str(tmp_path / "first")])
    first = str(tmp_path / "first" / "m2-100.npz")
    saved = semi_supervised.read_checkpoint(first)[0]

    started = {}
    fit = semi_supervised.tv.fit

    def fit_noting_the_start(objective, *args, **kwargs):
        started.update({name: p.copy() for name, p, _ in objective.parameters()})
        return fit(objective, *args, **kwargs)

    monkeypatch.setattr(semi_supervised.tv, "fit", fit_noting_the_start)
    second = ["--init-from", first, "--lr", "1e-3", "--out", str(tmp_path / "second")]
    results = semi_supervised.main([*argv, *second])
    assert started and all(
        np.array_equal(started[name], saved[f"model/{name}"]) for name in started
    )
    run = results["runs"]["m2-100"]
    assert run["init_from"]["epochs"] == 1 and run["epochs"] == 1
    assert run["init_from"]["optimizer"].startswith("Adam(lr=0.003")
    table = (tmp_path / "second" / "table.md").read_text()
    assert "| 1 + 1 |" in table and "m2-100 is a second phase from" in table

    # the second phase resumes
    results = semi_supervised.main([*argv[:-2], "--m2-epochs", "2", "--resume", *second])
    assert results["runs"]["m2-100"]["epochs"] == 2
    assert results["runs"]["m2-100"]["init_from"]["epochs"] == 1
    with pytest.raises(SystemExit):  # its own checkpoint would be overwritten
        semi_supervised.main([*argv, "--init-from", first, "--out", str(tmp_path / "first"),
                              "--overwrite"])  # fmt: skip
    assert "is this run's own checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        semi_supervised.main([*argv, "--init-from", first + ".missing", "--out", str(tmp_path)])
    assert "no such checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a checkpoint of another stage
        semi_supervised.main([*argv, "--models", "m1", "m1m2", "--init-from", first, *second[2:]])
    assert "expected a checkpoint of the m1m2 stage" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        semi_supervised.main([*argv, "--models", "m2", "m1m2", *second])
    assert "--init-from: starts one stage" in capsys.readouterr().err


def test_deeper_models_warm_up_resumes_with_its_beta(monkeypatch, tmp_path):
    """A warm-up stopped after epoch 1 continues with beta where it was: the resumed run
    gives what the run would have given without the stop."""
    random_mnist(monkeypatch, deeper_models, 200, 50)
    argv = ["--models", "two-layer", "--k-eval", "4", "--test-subset", "10", "--lr", "2e-3"]
    argv += ["--kl-warmup", "3", "--no-progress"]
    stopped = ["--out", str(tmp_path / "stopped")]
    deeper_models.main([*argv, *stopped, "--epochs", "1"])
    resumed = deeper_models.main([*argv, *stopped, "--epochs", "2", "--resume"])
    whole = deeper_models.main([*argv, "--out", str(tmp_path / "whole"), "--epochs", "2"])
    again, once = (r["runs"]["two-layer-seed1"]["history"] for r in (resumed, whole))
    assert again["epoch"] == [1, 2]
    assert again["train_loss"] == pytest.approx(once["train_loss"])
    assert again["test_loss"] == pytest.approx(once["test_loss"])
    with pytest.raises(SystemExit):  # the checkpoint was trained with warm-up
        deeper_models.main([*argv[:-3], *stopped, "--epochs", "3", "--resume"])


def test_deeper_models_free_bits_resumes_and_refuses_the_elbo(monkeypatch, tmp_path):
    """Free bits trains both models it applies to; a resumed run must ask for the same lambda."""
    random_mnist(monkeypatch, deeper_models, 200, 50)
    argv = ["--models", "diagonal", "two-layer", "--k-eval", "4", "--test-subset", "10"]
    argv += ["--free-bits", "3", "--no-progress", "--out", str(tmp_path / "fb")]
    deeper_models.main([*argv, "--epochs", "1"])
    results = deeper_models.main([*argv, "--epochs", "2", "--resume"])
    assert results["runs"]["two-layer-seed1"]["history"]["epoch"] == [1, 2]
    assert "the free-bits objective with lambda = 3.0" in (tmp_path / "fb" / "table.md").read_text()
    for other in (argv[:-4], [*argv[:-4], "--free-bits", "5"]):  # the ELBO, another lambda
        with pytest.raises(SystemExit):
            deeper_models.main([*other, "--out", str(tmp_path / "fb"), "--epochs", "3", "--resume"])


def test_semi_supervised_m1_plus_m2_models_all_units_or_refuses_when_none_is_active(
    monkeypatch, tmp_path, capsys
):
    """On random images a short M1 has no active unit: --m1-units all runs M2 on all 50,
    active stops with a clear message."""
    data = random_mnist(monkeypatch, semi_supervised, 300, 50)
    monkeypatch.setattr(semi_supervised, "split_mnist", lambda mnist: (data, None))
    argv = ["--models", "m1", "m1m2", "--labels", "100", "--batch-size", "50", "--out"]
    argv += [str(tmp_path), "--labelled-batch-size", "20", "--no-progress", "--m1m2-epochs", "1"]
    results = semi_supervised.main([*argv, "--m1-epochs", "2", "--m1-units", "all"])
    assert results["m1_units"] == list(range(50))
    saved = semi_supervised.read_checkpoint(str(tmp_path / "m1m2-100.npz"))[1]
    assert saved["model_config"]["x_dim"] == 50
    with pytest.raises(SystemExit):
        semi_supervised.main(["--models", "m1m2", *argv[3:], "--m1-units", "active", "--overwrite"])
    assert "--m1-units active: M1 has no active unit" in capsys.readouterr().err
    assert semi_supervised.read_checkpoint(str(tmp_path / "m1m2-100.npz"))[1] == saved  # kept


def test_the_active_units_of_m1_are_those_whose_mean_varies():
    rng = np.random.default_rng(0)
    m1 = semi_supervised.tv.VAE(784, hidden=(4,), z_dim=5, rng=rng)
    m1.encoder.layers[2].params["W"][:, [0, 2, 4]] = 0.0  # mu_0, mu_2, mu_4: constant
    m1.encoder.layers[2].params["W"][:, [1, 3]] *= 50.0  # mu_1 and mu_3 vary widely
    x = (rng.uniform(size=(200, 784)) < 0.5).astype(np.float32)
    assert semi_supervised.kept_units(m1, x, "active").tolist() == [1, 3]
    assert semi_supervised.kept_units(m1, x, "all").tolist() == [0, 1, 2, 3, 4]
