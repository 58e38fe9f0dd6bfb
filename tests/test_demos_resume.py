"""The demos that resume from checkpoints ask for what fit records: a run continued with
the same options is accepted and trains on (on a few hundred random 'images'), and gives
what the run would have given without the stop."""

import os
import sys

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
