"""demos/adam/adam_experiments.py on a small grid and small data: every run saved as it ends,
--resume skips the finished ones, and a finished run is never replaced or reused by mistake."""

import json
import os
import sys

import pytest
from helpers import random_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "demos", "adam"))

import adam_experiments  # noqa: E402


@pytest.fixture
def small(monkeypatch):
    """A grid of 2 + 2 + 2 runs per part on 300 random 'images', read from no file."""
    data = random_mnist(monkeypatch, adam_experiments, 300, 50)
    monkeypatch.setattr(adam_experiments, "BETA1S", (0.9,))
    monkeypatch.setattr(adam_experiments, "BETA2S", (0.999,))
    monkeypatch.setattr(adam_experiments, "LOG10_LRS", (-3, 2))  # 1e2 diverges
    monkeypatch.setattr(adam_experiments, "LOGREG_LRS", {"adam": (0.1,), "sgd_nesterov": (0.1,)})
    monkeypatch.setattr(adam_experiments, "MLP_LRS", {"adamax": (2e-3,), "rmsprop": (1e-3,)})
    return data


def main(tmp_path, *extra):
    argv = ["--bias-images", "200", "--bias-epochs", "2", "--logreg-epochs", "2"]
    argv += ["--mlp-epochs", "1", "--out", str(tmp_path / "out"), "--no-progress", *extra]
    return adam_experiments.main(argv)


def saved_runs(tmp_path):
    folder = tmp_path / "out" / "runs"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.json"))


def count_training(monkeypatch):
    """Make every run's training count itself; returns the list of (part, lr) trained."""
    trained = []
    make_trainer = adam_experiments.make_trainer

    def counting(data):
        train_one = make_trainer(data)

        def train(part, spec):
            trained.append((part, spec["lr"]))
            return train_one(part, spec)

        return train

    monkeypatch.setattr(adam_experiments, "make_trainer", counting)
    return trained


def test_the_grid_runs_end_to_end(small, tmp_path):
    results = main(tmp_path)
    assert len(results) == 8
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {
        "runs", "bias.png", "logreg.png", "mlp.png", "table.md", "results.json",
    }  # fmt: skip
    assert len(saved_runs(tmp_path)) == 8
    saved = json.loads((out / "results.json").read_text())
    bias = saved["runs"]["bias"]
    stable = bias["b1=0.9-b2=0.999-lr=1e-3-corrected"]
    assert len(stable["loss_per_epoch"]) == 2 and stable["diverged_at_epoch"] is None
    assert stable["loss_per_epoch"][1] < stable["loss_per_epoch"][0]
    assert bias["b1=0.9-b2=0.999-lr=1e2-uncorrected"]["diverged_at_epoch"] == 1
    uncorrected = bias["b1=0.9-b2=0.999-lr=1e-3-uncorrected"]
    assert uncorrected["diverged_at_epoch"] is None
    assert uncorrected["loss_per_epoch"] != pytest.approx(stable["loss_per_epoch"], rel=1e-3)
    assert stable["optimizer"] == "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"
    assert uncorrected["optimizer"].endswith(", bias_correction=False)")
    logreg = saved["runs"]["logreg"]["adam-lr=0.1"]
    assert len(logreg["loss_per_epoch"]) == 2 and 0 <= logreg["test_error"] <= 1
    assert logreg["optimizer"].endswith("lr_decay='inverse_sqrt')")  # Adam section 6.1
    nesterov = saved["runs"]["logreg"]["sgd_nesterov-lr=0.1"]["optimizer"]
    assert nesterov == "SGD(lr=0.1, momentum=0.9, lr_decay='inverse_sqrt', nesterov=True)"
    mlp = saved["runs"]["mlp"]["rmsprop-lr=0.001"]
    assert mlp["optimizer"] == "RMSProp(lr=0.001, rho=0.9, eps=1e-08)"
    assert saved["summary"]["mlp"].keys() == {"adamax", "rmsprop"}
    assert "inf (epoch 1)" in (out / "table.md").read_text()


def test_resume_trains_only_the_missing_runs(small, tmp_path, monkeypatch):
    main(tmp_path)
    first = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    os.remove(tmp_path / "out" / "runs" / "logreg" / "sgd_nesterov-lr=0.1.json")
    trained = count_training(monkeypatch)
    main(tmp_path, "--resume")
    assert trained == [("logreg", 0.1)]
    again = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert again["bias"] == first["bias"] and again["mlp"] == first["mlp"]
    # the same seed, the same run: trained again, it gives the same numbers
    assert again["logreg"]["sgd_nesterov-lr=0.1"]["loss_per_epoch"] == pytest.approx(
        first["logreg"]["sgd_nesterov-lr=0.1"]["loss_per_epoch"], rel=1e-6
    )
    main(tmp_path, "--resume")
    assert trained == [("logreg", 0.1)]  # nothing left to train


def test_finished_runs_are_neither_replaced_nor_reused_by_mistake(small, tmp_path, capsys):
    main(tmp_path, "--parts", "logreg")
    before = {
        name: (tmp_path / "out" / "runs" / name).read_bytes() for name in saved_runs(tmp_path)
    }
    with pytest.raises(SystemExit) as exit_info:
        main(tmp_path, "--parts", "logreg")
    assert exit_info.value.code == 2
    assert "holds a finished run; pass --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(tmp_path, "--parts", "logreg", "--resume", "--l2", "0.5")
    assert "was trained with l2 = 0.0001, this grid asks for 0.5" in capsys.readouterr().err
    path = tmp_path / "out" / "runs" / "logreg" / "adam-lr=0.1.json"
    whole = json.loads(path.read_text())
    broken = ['{"spec": ', '{"spec": 1}', json.dumps({"spec": whole["spec"]})]
    broken.append(json.dumps({**whole, "loss_per_epoch": whole["loss_per_epoch"][:1]}))
    broken.append(json.dumps({**whole, "loss_per_epoch": [1.0, float("nan")]}))
    broken.append(json.dumps({**whole, "test_error": "low"}))
    for text in broken:
        path.write_text(text)
        with pytest.raises(SystemExit):
            main(tmp_path, "--parts", "logreg", "--resume")
        assert "adam-lr=0.1.json is not a readable run" in capsys.readouterr().err, text
    del before["logreg/adam-lr=0.1.json"]
    for name, content in before.items():
        assert (tmp_path / "out" / "runs" / name).read_bytes() == content


def test_overwrite_trains_everything_again(small, tmp_path, monkeypatch):
    main(tmp_path, "--parts", "mlp")
    trained = count_training(monkeypatch)
    main(tmp_path, "--parts", "mlp", "--overwrite")
    assert sorted(trained) == [("mlp", 1e-3), ("mlp", 2e-3)]


def test_a_run_that_blew_up_and_came_back_counts_as_unstable():
    calm = {"loss_per_epoch": [300.0, 150.0], "diverged_at_epoch": None}
    blew_up = {"loss_per_epoch": [3.5e12, 150.0], "diverged_at_epoch": None}
    diverged = {"loss_per_epoch": [300.0], "diverged_at_epoch": 2}
    assert [adam_experiments.unstable(r) for r in (calm, blew_up, diverged)] == [
        False, True, True,
    ]  # fmt: skip
