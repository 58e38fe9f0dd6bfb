"""demos/dropout/variational_dropout.py end to end on 400 random 'images': every part runs, the
files are written, and the target part stops at its time budget."""

import json
import os
import sys
import types

import numpy as np
import pytest
from helpers import random_mnist

import tinyvae as tv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "demos", "dropout"))

import variational_dropout  # noqa: E402


@pytest.fixture
def data(monkeypatch):
    return random_mnist(monkeypatch, variational_dropout, 400, 100)


def test_every_part_on_tiny_networks(data, tmp_path):
    out = tmp_path / "vd"
    argv = ["--variance-width", "8", "--variance-epochs", "1", "2", "--draws", "3"]
    argv += ["--variance-batch", "50"]
    argv += ["--widths", "8", "16", "--dropouts", "binary", "variational_A", "--epochs", "1"]
    argv += ["--seeds", "3", "4", "--speed-width", "8", "--repeats", "3"]
    argv += ["--target-width", "8", "--target-epochs", "2", "--kl", "molchanov"]
    argv += ["--sparse-hidden", "8", "4", "--sparse-epochs", "2"]
    results = variational_dropout.main([*argv, "--out", str(out), "--no-progress"])
    names = {p.name for p in out.iterdir()}
    assert names == {
        "table.md", "results.json", "widths.png", "alphas.png", "target.png", "sparse.png"
    }  # fmt: skip
    for kl in ("kingma", "molchanov"):  # the sparse part: both KLs, every epoch recorded
        run = results["sparse"][kl]
        assert len(run["history"]["prunable"]) == 2 and 0 <= run["prunable"] <= 1
        assert sum(run["log_alpha_histogram"]) <= 784 * 8 + 8 * 4 + 4 * 10
    saved = json.loads((out / "results.json").read_text())
    assert len(saved["widths"]) == 2 * 2 * 2  # widths x dropouts x seeds
    assert saved["widths"]["variational_A-16-seed4"]["alpha_per_layer"]
    for sampling, variances in saved["variance"]["variances"]["2"].items():
        assert variances["top"] > 0 and variances["bottom"] > 0, sampling
    assert saved["speed"]["separate / local"] > 0
    target = results["target"]
    assert target["epochs_run"] == 2 and target["kl"] == "molchanov"
    assert len(target["test_error_per_epoch"]) == 2
    table = (out / "table.md").read_text()
    assert "± " in table and "Target run, 784-8x3-10, variational_B (molchanov KL)" in table


def test_the_target_run_stops_after_the_epoch_that_ends_past_its_budget(data, tmp_path):
    argv = ["--parts", "target", "--target-width", "8", "--target-epochs", "50"]
    argv += ["--target-minutes", "1e-9", "--out", str(tmp_path / "t"), "--no-progress"]
    target = variational_dropout.main(argv)["target"]
    assert target["epochs_run"] == 1 and target["epochs_planned"] == 50


def test_a_variance_batch_larger_than_the_data_is_refused(data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        variational_dropout.main(["--variance-batch", "401", "--out", str(tmp_path / "v")])
    assert exit_info.value.code == 2
    assert "--variance-batch 401: more than the 400 training images" in capsys.readouterr().err


def test_the_results_of_an_earlier_run_are_replaced_only_when_asked(data, tmp_path, capsys):
    argv = ["--parts", "target", "--target-width", "8", "--target-epochs", "1"]
    argv += ["--out", str(tmp_path / "t"), "--no-progress"]
    variational_dropout.main(argv)
    saved = (tmp_path / "t" / "results.json").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        variational_dropout.main(argv)
    assert exit_info.value.code == 2
    assert "holds the results of an earlier run; pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "t" / "results.json").read_bytes() == saved
    variational_dropout.main([*argv, "--overwrite"])


def test_pruning_sets_the_noisiest_weights_to_zero_and_puts_them_back():
    rng = np.random.default_rng(0)
    model = tv.DropoutMLP(6, (5,), 3, "variational_B", granularity="weight", rng=rng)
    log_alpha = [layer.params["log_alpha"] for layer in model.layers]
    log_alpha[0][:2] = 4.0  # 2 rows of 5: 10 of the 6 x 5 + 5 x 3 = 45 weights
    log_alpha[1][0, 0] = 3.5
    thetas = [layer.params["theta"].copy() for layer in model.layers]
    x = rng.random((20, 6)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    data = types.SimpleNamespace(x_test=x, y_test=y)

    error, share = variational_dropout.pruned_error(model, data)

    assert share == 11 / 45
    for layer, theta in zip(model.layers, thetas):  # the weights are back as they were
        np.testing.assert_array_equal(layer.params["theta"], theta)
    for layer in model.layers:
        layer.params["theta"][layer.params["log_alpha"] > 3] = 0.0
    assert error == model.error(x, y)
