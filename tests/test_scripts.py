"""Every demo and benchmark script fails fast and clearly: no training happens in these tests.

``--help``, missing data and the namespace-package case run the scripts as
a user does (a subprocess each, about a second); bad arguments call their
``main`` in this process. Every message is short and has no traceback.
"""

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyvae as tv
from tinyvae import cli
from tinyvae.checkpoint import save_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")
CHAPTERS = {
    chapter: os.path.join(ROOT, "demos", chapter)
    for chapter in ("aevb", "semi_supervised", "deeper", "dropout", "adam")
}
DEMOS = list(CHAPTERS.values())
sys.path[:0] = [*DEMOS, os.path.join(ROOT, "demos"), BENCHMARKS]

SCRIPTS = {
    "vae": CHAPTERS["aevb"],
    "aevb_figures": CHAPTERS["aevb"],
    "aevb_figure3": CHAPTERS["aevb"],
    "estimator_variance": CHAPTERS["aevb"],
    "iwae_table": CHAPTERS["aevb"],
    "semi_supervised": CHAPTERS["semi_supervised"],
    "flows_toy": CHAPTERS["deeper"],
    "deeper_models": CHAPTERS["deeper"],
    "variational_dropout": CHAPTERS["dropout"],
    "adam_experiments": CHAPTERS["adam"],
    "throughput": BENCHMARKS,
    "pytorch_reference": BENCHMARKS,
    "busy_machine": BENCHMARKS,
    "semi_supervised_speed": BENCHMARKS,
    "iaf_speed": BENCHMARKS,
    "reading_path": BENCHMARKS,
}
# the scripts that read data, with the arguments that make each read MNIST
READ_MNIST = {
    "vae": ["--dataset", "mnist"],
    "aevb_figures": [],
    "aevb_figure3": [],
    "estimator_variance": [],
    "iwae_table": [],
    "semi_supervised": [],
    "deeper_models": [],
    "variational_dropout": [],
    "adam_experiments": [],
}


def script_path(name):
    return os.path.join(SCRIPTS[name], f"{name}.py")


def run(name, *args, env=None, cwd=None, pythonpath=None):
    """Run a script as a user would; returns the CompletedProcess (text output)."""
    env = dict(os.environ, MPLBACKEND="Agg", **(env or {}))
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, script_path(name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def main_of(name):
    """The script's ``main``, imported as a module from its folder."""
    return __import__(name).main


def assert_short_error(result, code, *fragments):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


# -- --help ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCRIPTS)
def test_help_runs_and_shows_defaults(name):
    result = run(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") and "(default: " in result.stdout


def parser_of(name, monkeypatch):
    """The argparse parser of a script (recorded as its ``parse_args`` makes it)."""
    parsers = []

    def recording_parser(description):
        parsers.append(make_parser(description))
        return parsers[-1]

    make_parser = cli.parser
    monkeypatch.setattr(cli, "parser", recording_parser)
    with pytest.raises(SystemExit):
        __import__(name).parse_args(["--help"])
    return parsers[0]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_option_has_a_help_text(name, monkeypatch):
    undocumented = [a.option_strings for a in parser_of(name, monkeypatch)._actions if not a.help]
    assert undocumented == []


# Options read as a bare float, each checked after the parsing: rates in (0, 1), a penalty >= 0
BARE_FLOATS = {"adam_experiments": ["--l2", "--dropout"], "variational_dropout": ["--p"]}


@pytest.mark.parametrize("name", [name for name, folder in SCRIPTS.items() if folder in DEMOS])
def test_numbers_are_checked_as_they_are_parsed(name, monkeypatch):
    """Every integer option of a demo is read by cli.integer (a message naming its range),
    every number that must be positive by cli.positive_float: no bare int, and a bare float
    only where a check of its own follows."""
    actions = parser_of(name, monkeypatch)._actions
    assert [a.option_strings[0] for a in actions if a.type is int] == []
    assert [a.option_strings[0] for a in actions if a.type is float] == BARE_FLOATS.get(name, [])


def documented_commands():
    """``(script, arguments)`` of every command the README, the chapter pages and the scripts'
    docstrings show."""
    pages = [
        os.path.join(ROOT, "README.md"),
        *glob.glob(os.path.join(ROOT, "demos", "README.md")),
        *glob.glob(os.path.join(ROOT, "demos", "*", "README.md")),
        *glob.glob(os.path.join(ROOT, "benchmarks", "README.md")),
    ]
    paths = [*pages, *map(script_path, SCRIPTS)]
    # a command continued on the next line with a backslash is one command
    texts = [re.sub(r" *\\\n\s*", " ", Path(path).read_text()) for path in paths]
    pattern = r"python (?:demos/\w+|benchmarks)/(\w+)\.py((?: [^\s`#]+)*)"
    return sorted(
        {(name, args.strip()) for text in texts for name, args in re.findall(pattern, text)}
    )


@pytest.mark.parametrize("name, args", documented_commands())
def test_documented_commands_parse(name, args):
    """The commands in the README and the docstrings are valid for the scripts as they are."""
    if args != "--help":
        __import__(name).parse_args(args.split())


def test_pytorch_reference_without_torch(tmp_path):
    """--help works without PyTorch; a run says how to install it."""
    fake = tmp_path / "no_torch" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    hidden = str(tmp_path / "no_torch")
    assert run("pytorch_reference", "--help", pythonpath=hidden).returncode == 0
    result = run("pytorch_reference", "--epochs", "1", pythonpath=hidden)
    assert_short_error(result, 1, "error: this needs torch", "pip install torch==2.13.0")


# -- bad arguments: argparse's message and code 2, before anything is loaded --------------------
BAD_ARGUMENTS = [
    ("vae", ["--epochs", "0"], "argument --epochs: must be at least 1"),
    ("vae", ["--seed=-1"], "argument --seed: must be at least 0"),
    ("vae", ["--lr", "nan"], "argument --lr: expected a finite number above 0"),
    ("vae", ["--hidden", "400", "-1"], "argument --hidden: must be at least 1"),
    ("vae", ["--likelihood", "gaussian", "--binarize"], "cannot be combined with --binarize"),
    ("vae", ["--dataset", "frey", "--binarize", "--likelihood", "gaussian"], "--binarize"),
    ("vae", ["--dataset", "binarized_mnist", "--likelihood", "gaussian"], "0 or 1"),
    ("vae", ["--resume", "--overwrite"], "not allowed with argument --resume"),
    ("aevb_figures", ["--mnist-samples", "-5"], "argument --mnist-samples: expected a finite"),
    ("aevb_figures", ["--frey-samples", "500"], "--frey-samples must be at least 1000"),
    ("aevb_figures", ["--evaluations", "1"], "argument --evaluations: must be at least 2"),
    ("aevb_figures", ["--datasets", "cifar"], "invalid choice: 'cifar'"),
    ("aevb_figures", ["--seed=-1"], "argument --seed: must be at least 0"),
    ("aevb_figure3", ["--train-sizes", "1000", "50"], "argument --train-sizes: must be from 100"),
    ("aevb_figure3", ["--samples", "inf"], "argument --samples: expected a finite"),
    ("aevb_figure3", ["--k-final", "0"], "argument --k-final: must be at least 1"),
    ("aevb_figure3", ["--evaluations", "0"], "argument --evaluations: must be at least 2"),
    ("estimator_variance", ["--draws", "1"], "argument --draws: must be at least 2"),
    ("estimator_variance", ["--samples", "1", "0"], "argument --samples: must be at least 1"),
    ("estimator_variance", ["--z-dim", "2.5"], "argument --z-dim: expected a whole number"),
    ("estimator_variance", ["--train-epochs", "0"], "argument --train-epochs: must be at least 1"),
    ("iwae_table", ["--epochs", "0"], "argument --epochs: must be at least 1"),
    ("iwae_table", ["--test-subset", "20000"], "argument --test-subset: must be from 0 to 10000"),
    ("iwae_table", ["--lr=-1e-3"], "argument --lr: expected a finite number above 0"),
    ("iwae_table", ["--k-train", "0"], "argument --k-train: must be at least 1"),
    ("iwae_table", ["--resume", "--overwrite"], "not allowed with argument --resume"),
    ("semi_supervised", ["--labels", "50"], "argument --labels: invalid choice: 50"),
    ("semi_supervised", ["--labels", "100", "100"], "--labels: each count once"),
    ("semi_supervised", ["--m2-epochs", "0"], "argument --m2-epochs: must be at least 1"),
    ("semi_supervised", ["--models", "m3"], "argument --models: invalid choice: 'm3'"),
    ("semi_supervised", ["--labels", "0"], "argument --labels: must be at least 1, got 0"),
    ("flows_toy", ["--steps", "-1"], "argument --steps: must be from 0 to 16"),
    ("flows_toy", ["--targets", "moons"], "argument --targets: invalid choice: 'moons'"),
    ("flows_toy", ["--iterations", "0"], "argument --iterations: must be at least 1"),
    ("flows_toy", ["--lr", "0"], "argument --lr: expected a finite number above 0"),
    ("flows_toy", ["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    ("deeper_models", ["--models", "iaf-3"], "argument --models: invalid choice: 'iaf-3'"),
    ("deeper_models", ["--seeds", "1", "1"], "--seeds: each seed once"),
    ("deeper_models", ["--test-subset", "20000"], "argument --test-subset: must be from 0"),
    ("deeper_models", ["--resume", "--overwrite"], "not allowed with argument --resume"),
    ("deeper_models", ["--epochs", "0"], "argument --epochs: must be at least 1"),
    ("deeper_models", ["--free-bits", "0"], "argument --free-bits: expected a finite number"),
    ("deeper_models", ["--free-bits", "4", "--kl-warmup", "2"], "leave out --kl-warmup"),
    ("deeper_models", ["--free-bits", "4", "--models", "iaf-1"], "IAF has no closed-form KL"),
    ("variational_dropout", ["--p", "1"], "--p: expected a rate strictly between 0 and 1"),
    ("variational_dropout", ["--variance-epochs", "5", "2"], "SHORT must be below LONG"),
    ("variational_dropout", ["--dropouts", "spike"], "argument --dropouts: invalid choice"),
    ("variational_dropout", ["--draws", "1"], "argument --draws: must be at least 2"),
    ("variational_dropout", ["--target-minutes", "0"], "argument --target-minutes: expected a"),
    ("variational_dropout", ["--epochs", "0"], "argument --epochs: must be at least 1"),
    ("variational_dropout", ["--kl", "exact"], "argument --kl: invalid choice"),
    ("adam_experiments", ["--l2", "-1"], "--l2: expected a number >= 0, got -1.0"),
    ("adam_experiments", ["--dropout", "1"], "--dropout: expected a rate strictly between"),
    ("adam_experiments", ["--resume", "--overwrite"], "--resume and --overwrite contradict"),
    ("adam_experiments", ["--bias-epochs", "1"], "argument --bias-epochs: must be at least 2"),
    ("adam_experiments", ["--parts", "cnn"], "argument --parts: invalid choice"),
    ("adam_experiments", ["--mlp-epochs", "0"], "argument --mlp-epochs: must be at least 1"),
    ("throughput", ["--repeats", "0"], "argument --repeats: must be at least 1"),
    ("throughput", ["--eval-examples", "0"], "argument --eval-examples: must be from 1"),
    ("pytorch_reference", ["--epochs", "-1"], "argument --epochs: must be at least 1"),
    ("busy_machine", ["--load", "0"], "argument --load: must be at least 1"),
    ("semi_supervised_speed", ["--repeats", "1"], "argument --repeats: must be at least 3"),
    ("iaf_speed", ["--repeats", "2"], "argument --repeats: must be at least 3"),
    ("iaf_speed", ["--batch-size", "0"], "argument --batch-size: must be at least 1"),
]


@pytest.mark.parametrize("name, argv, message", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_with_a_message(name, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main_of(name)(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_throughput_baseline_must_hold_tinyvae(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main_of("throughput")(["--baseline", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no tinyvae/ package in that folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, argv",
    [
        ("iwae_table", ["--epochs", "0"]),
        ("aevb_figures", ["--mnist-samples", "-5"]),
        ("flows_toy", ["--seed", "-1"]),
    ],
)
def test_bad_arguments_as_a_user_sees_them(name, argv):
    result = run(name, *argv)
    assert_short_error(result, 2, "error: argument")
    assert result.stderr.strip().splitlines()[-1].startswith(f"{name}.py: error: argument")


# -- --out DIR --quick writes into DIR; only the default folder gets -quick ------------------
QUICK_FOLDERS = {
    "flows_toy": "flows-toy",
    "estimator_variance": "estimator-variance",
    "iwae_table": "iwae-table",
    "aevb_figures": "aevb-figures",
    "aevb_figure3": "aevb-figure3",
    "deeper_models": "deeper-models",
    "semi_supervised": "semi-supervised",
    "variational_dropout": "variational-dropout",
    "adam_experiments": "adam-experiments",
}


@pytest.mark.parametrize("name, folder", QUICK_FOLDERS.items())
def test_quick_writes_into_the_folder_asked_for(name, folder):
    parse_args = __import__(name).parse_args
    assert parse_args([]).out == os.path.join("out", folder)
    assert parse_args(["--quick"]).out == os.path.join("out", f"{folder}-quick")
    assert parse_args(["--quick", "--out", "mine"]).out == "mine"
    assert parse_args(["--out", "mine", "--quick"]).out == "mine"


def test_every_script_with_quick_is_in_the_table():
    with_quick = {
        name
        for name, folder in SCRIPTS.items()
        if folder in DEMOS and '"--quick"' in Path(script_path(name)).read_text()
    }
    assert with_quick == set(QUICK_FOLDERS)


# -- the output folder and the checkpoint, checked before the data ------------------------
@pytest.mark.parametrize("name", READ_MNIST)
def test_an_unwritable_output_folder_is_found_first(name, tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main_of(name)([*READ_MNIST[name], "--out", str(blocked), "--data-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"error: cannot write to the output folder {blocked}" in capsys.readouterr().err


def test_json_of_the_benchmarks_must_be_writable(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for name in ("pytorch_reference", "throughput", "iaf_speed"):
        if name == "pytorch_reference":
            pytest.importorskip("torch")
        with pytest.raises(SystemExit) as exit_info:
            main_of(name)(["--json", str(blocked / "results.json")])
        assert exit_info.value.code == 2
        assert "cannot write to the output folder" in capsys.readouterr().err


def vae_run(tmp_path, *argv):
    """vae.py on an empty --data-dir: anything past the checks stops at the data."""
    empty = tmp_path / "no-data"
    empty.mkdir(exist_ok=True)
    out = tmp_path / "run"
    argv = ["--dataset", "mnist", "--data-dir", str(empty), "--out", str(out), *argv]
    return main_of("vae")(argv)


def test_vae_refuses_to_replace_a_checkpoint(tmp_path, capsys):
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"an earlier run")
    with pytest.raises(SystemExit) as exit_info:
        vae_run(tmp_path)
    assert exit_info.value.code == 2
    assert "pass --resume to continue it or --overwrite" in capsys.readouterr().err
    assert checkpoint.read_bytes() == b"an earlier run"
    with pytest.raises(SystemExit) as exit_info:
        vae_run(tmp_path, "--overwrite")  # accepted: now the missing data stops it
    assert "error: MNIST not found" in capsys.readouterr().err
    assert checkpoint.read_bytes() == b"an earlier run"


def test_vae_resume_with_another_setting_is_refused_before_the_data(tmp_path, capsys):
    """A checkpoint records the model's config and fit's settings; an option that changes
    one of them is named, and the run stops before it reads a file of data."""
    model = tv.VAE(784, (400,), 20, rng=np.random.default_rng(0))
    optimizer = tv.Adam(model.parameters(), lr=1e-3)
    settings = {"batch_size": 128, "binarize": True, "n_samples": 1, "optimizer": repr(optimizer)}
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    save_checkpoint(checkpoint, model, optimizer, epoch=1, settings=settings)
    saved = checkpoint.read_bytes()
    for argv, differs in [
        (["--z-dim", "5"], "z_dim: 20 in the checkpoint, 5 asked"),
        (["--hidden", "400", "400"], "hidden: [400] in the checkpoint, [400, 400] asked"),
        (["--activation", "tanh"], "activation: 'relu' in the checkpoint, 'tanh' asked"),
        (["--batch-size", "64", "--no-binarize"], "batch_size: 128 in the checkpoint, 64 asked; "
         "binarize: True in the checkpoint, False asked"),
        (["--lr", "0.01"], "optimizer: 'Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)' in "
         "the checkpoint, 'Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08)' asked"),
        (["--n-samples", "2"], "n_samples: 1 in the checkpoint, 2 asked"),
    ]:  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            vae_run(tmp_path, *argv, "--resume", "--epochs", "2")
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"written by a run with other settings ({differs}); resume with" in err
        assert "MNIST not found" not in err
    assert checkpoint.read_bytes() == saved
    with pytest.raises(SystemExit) as exit_info:
        vae_run(tmp_path, "--resume", "--epochs", "2")  # the same options: on to the data
    assert exit_info.value.code == 1
    assert "error: MNIST not found" in capsys.readouterr().err


def checkpoint_of(path, settings, model=None):
    """A checkpoint at ``path`` as fit writes it, after one epoch, with these settings."""
    model = model or tv.VAE(784, (3,), 2, rng=np.random.default_rng(0))
    save_checkpoint(path, model, epoch=1, settings=settings)


def test_resume_of_the_other_demos_with_another_setting_is_refused(no_data, tmp_path, capsys):
    out = tmp_path / "run"
    adam = "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=0.0001)"
    checkpoint_of(out / "diagonal-seed1.npz", {"batch_size": 100, "optimizer": adam})
    checkpoint_of(out / "iwae.npz", {"batch_size": 100, "n_samples": 5, "optimizer": adam})
    m2 = {"batch_size": 100, "labelled": 100, "labelled_batch_size": 100}
    checkpoint_of(out / "m2-100.npz", {**m2, "optimizer": adam.replace("0.0001", "1e-08")})
    for name, argv, differs in [
        ("deeper_models", ["--models", "diagonal", "--lr", "0.01"],
         "optimizer: 'Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=0.0001)' in the checkpoint, "
         "'Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=0.0001)' asked"),
        ("iwae_table", ["--k-train", "10"], "n_samples: 5 in the checkpoint, 10 asked"),
        ("iwae_table", ["--batch-size", "50"], "batch_size: 100 in the checkpoint, 50 asked"),
        ("semi_supervised", ["--models", "m2", "--labelled-batch-size", "50"],
         "labelled_batch_size: 100 in the checkpoint, 50 asked"),
    ]:  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main_of(name)([*argv, "--resume", "--out", str(out), "--data-dir", str(no_data)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"written by a run with other settings ({differs}); resume with" in err, name
        assert "MNIST not found" not in err


def test_vae_resume_needs_a_checkpoint_with_fewer_epochs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        vae_run(tmp_path, "--resume")
    assert "error: --resume: no checkpoint at" in capsys.readouterr().err
    model = tv.VAE(784, (3,), 2, rng=np.random.default_rng(0))
    save_checkpoint(tmp_path / "run" / "checkpoint.npz", model, epoch=4)
    with pytest.raises(SystemExit):
        vae_run(tmp_path, "--resume", "--epochs", "3", "--hidden", "3", "--z-dim", "2")
    assert "--epochs 3 is fewer than the 4 epochs" in capsys.readouterr().err


# the scripts that take no --resume, with the file that holds their results
RESULTS = {
    "flows_toy": "results.json",
    "estimator_variance": "variance.json",
    "iwae_table": "iwae.json",
    "aevb_figures": "figures.json",
    "aevb_figure3": "figure3.json",
    "variational_dropout": "results.json",
}
# flows_toy reads no data: a run of a second, past the check
FLOWS_TINY = ["--targets", "banana", "--steps", "0", "--iterations", "20", "--restarts", "1"]
FLOWS_TINY += ["--eval-samples", "1000", "--no-progress"]


@pytest.mark.parametrize("name, results", RESULTS.items())
def test_the_results_of_an_earlier_run_are_replaced_only_with_overwrite(
    name, results, no_data, tmp_path, capsys
):
    out = tmp_path / "run"
    out.mkdir()
    (out / results).write_text("an earlier run")
    argv = FLOWS_TINY if name == "flows_toy" else ["--data-dir", str(no_data)]
    with pytest.raises(SystemExit) as exit_info:
        main_of(name)([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}") and "holds the results of an earlier run" in err
    assert "pass --overwrite to replace them" in err
    assert (out / results).read_text() == "an earlier run"
    if name == "flows_toy":
        main_of(name)([*argv, "--out", str(out), "--overwrite"])
        assert (out / results).read_text().startswith("{")
    else:  # accepted: now the missing data stops it
        with pytest.raises(SystemExit) as exit_info:
            main_of(name)([*argv, "--out", str(out), "--overwrite"])
        assert exit_info.value.code == 1
        assert capsys.readouterr().err.startswith("error: MNIST not found")
        assert (out / results).read_text() == "an earlier run"


# -- missing data: the loader's instructions, no traceback, nothing trained -------------------
@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty folder that is also $TINYVAE_DATA and the cache."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TINYVAE_DATA", str(empty))
    monkeypatch.setenv("TINYVAE_CACHE", str(empty))
    return empty


@pytest.mark.parametrize("name", READ_MNIST)
def test_missing_data_stops_before_training(name, no_data, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main_of(name)([*READ_MNIST[name], "--data-dir", str(no_data), "--out", str(out)])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith("error: MNIST not found")
    assert not out.exists()  # nothing written, not even the folder


@pytest.mark.parametrize("name", ["vae", "pytorch_reference"])
def test_missing_data_as_a_user_sees_it(name, no_data, tmp_path):
    result = run(name, *READ_MNIST.get(name, []), "--data-dir", str(no_data), cwd=tmp_path)
    assert_short_error(result, 1, "error: ")
    if "needs torch" not in result.stderr:  # where PyTorch is installed
        assert "MNIST not found" in result.stderr


# -- started from the folder that holds the clone --------------------------------------------
def test_scripts_import_their_own_clone_from_the_folder_above_it(tmp_path):
    """With the folder above a clone on sys.path, ``import tinyvae`` finds the clone's folder
    (no __init__.py) as a namespace package unless the script adds its clone (tinyvae.cli)."""
    (tmp_path / "tinyvae").symlink_to(ROOT, target_is_directory=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["--dataset", "mnist", "--data-dir", str(empty), "--out", str(tmp_path / "out")]
    result = run("vae", *argv, cwd=tmp_path, pythonpath=str(tmp_path))
    assert_short_error(result, 1, "MNIST not found")  # tv.load_dataset was there


def test_semi_supervised_checks_its_stages_before_the_data(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main_of("semi_supervised")(["--models", "m1m2", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "--models m1m2 needs M1" in capsys.readouterr().err
    out.mkdir()
    (out / "m2-100.npz").write_bytes(b"an earlier run")
    with pytest.raises(SystemExit) as exit_info:
        main_of("semi_supervised")(["--models", "m2", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "pass --resume to continue it or --overwrite" in capsys.readouterr().err
    assert (out / "m2-100.npz").read_bytes() == b"an earlier run"


def test_the_reading_path_script_traces_one_step():
    """benchmarks/reading_path.py's trace: the step reaches estimator B's bound, and the
    numbers it prints come from the code (a probe of the measure, not of its values)."""
    sys.path.insert(0, BENCHMARKS)
    try:
        import reading_path
    finally:
        sys.path.remove(BENCHMARKS)
    functions, before = reading_path.trace(reading_path.one_step())
    names = {qualname for _, qualname in functions}
    assert {"SGVB_B.forward", "SGVB_B.backward_bound", "Linear.backward"} <= names
    assert 0 < before < len(functions) * 10
    share, lines = reading_path.computing_share(functions)
    assert 0 < share < 1 and lines > len(functions)
    assert "backward" in reading_path.pair_names()
