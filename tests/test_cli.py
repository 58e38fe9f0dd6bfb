"""tinyvae.cli: each rule of the scripts' checks, its message, and that it changes nothing."""

import argparse
import math
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import tinyvae as tv
from tinyvae import cli
from tinyvae.checkpoint import save_checkpoint
from tinyvae.data.download import CorruptDataError, DataNotFoundError


def write_checkpoint(path, epoch):
    model = tv.VAE(4, (3,), 2, rng=np.random.default_rng(0))
    save_checkpoint(path, model, epoch=epoch)


def snapshot(path):
    """What must not change: the bytes and the modification time of a file."""
    with open(path, "rb") as f:
        return f.read(), os.stat(path).st_mtime_ns


# -- argument types ---------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [("3", 3), ("1", 1), ("2e5", 200000), ("1000.0", 1000)])
def test_integer_accepts_whole_numbers(text, expected):
    assert cli.integer(1)(text) == expected


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "abc", "nan", "inf", "", "11"])
def test_integer_refuses_others_saying_what_it_expects(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"from 1 to 10"):
        cli.integer(1, 10)(text)


def test_positive_float():
    assert cli.positive_float("1e-3") == 1e-3
    for text in ["0", "-1", "nan", "inf", "-inf", "lr"]:
        with pytest.raises(argparse.ArgumentTypeError, match="finite number above 0"):
            cli.positive_float(text)


def test_a_bad_argument_is_a_usage_message(capsys):
    parser = cli.parser("A script.\n\nMore text.")
    parser.add_argument("--epochs", type=cli.integer(1), default=10, help="passes")
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--epochs", "0"])
    assert exit_info.value.code == 2
    assert "argument --epochs: must be at least 1, got 0" in capsys.readouterr().err


def test_help_shows_defaults_except_none(capsys):
    parser = cli.parser("A script.\n\nMore text.")
    parser.add_argument("--epochs", type=int, default=10, help="passes")
    parser.add_argument("--data-dir", default=None, help="where the data is")
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    out = capsys.readouterr().out
    assert "A script." in out and "More text." not in out
    assert "passes (default: 10)" in out
    assert "where the data is" in out and "None" not in out


# -- checks before the work -----------------------------------------------------------
def test_check_writable_leaves_the_disk_as_it_was(tmp_path):
    cli.check_writable(tmp_path / "a" / "b")
    assert os.listdir(tmp_path) == []
    cli.check_writable(tmp_path)
    assert os.listdir(tmp_path) == []


def test_check_writable_refuses_a_file_in_the_way(tmp_path):
    path = tmp_path / "results"
    path.write_text("not a folder")
    with pytest.raises(cli.UsageError, match=f"cannot write to the output folder {path}"):
        cli.check_writable(path)
    assert path.read_text() == "not a folder"
    with pytest.raises(cli.UsageError, match="cannot write"):
        cli.check_writable(path / "inside")


def test_require_returns_the_module_or_says_how_to_install_it():
    assert cli.require("math", "unused") is math
    with pytest.raises(cli.MissingDependency, match="no_such_package.*pip install it") as info:
        cli.require("no_such_package", "pip install it")
    assert isinstance(info.value, ImportError)


# -- the checkpoint rules ---------------------------------------------------------------
def test_a_new_run_without_a_checkpoint(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    assert cli.prepare_checkpoint(path, False, False, 10) == (
        False,
        f"starting a new run; checkpoints go to {path}",
    )
    assert not os.path.exists(path)


def test_an_existing_checkpoint_is_never_replaced_by_accident(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    before = snapshot(path)
    message = (
        f"a checkpoint exists at {path}; pass --resume to continue it or --overwrite to start over"
    )
    with pytest.raises(cli.UsageError) as info:
        cli.prepare_checkpoint(path, False, False, 10)
    assert str(info.value) == message
    assert snapshot(path) == before


def test_overwrite_starts_over_and_says_what_it_replaces(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    before = snapshot(path)
    resume, message = cli.prepare_checkpoint(path, False, True, 10)
    assert not resume and message.startswith(
        f"starting a new run; it replaces the checkpoint at {path}"
    )
    assert snapshot(path) == before  # replaced by the run's first save, not here


def test_resume_without_a_checkpoint_is_refused(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    with pytest.raises(cli.UsageError) as info:
        cli.prepare_checkpoint(path, True, False, 10)
    assert str(info.value) == f"--resume: no checkpoint at {path}"
    assert os.listdir(tmp_path) == []


def test_resume_says_from_which_epoch(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    assert cli.prepare_checkpoint(path, True, False, 5) == (
        True,
        f"resuming from epoch 3 of 5 ({path})",
    )


def test_resume_with_all_epochs_done_trains_nothing(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    resume, message = cli.prepare_checkpoint(path, True, False, 3)
    assert resume and "has done all 3 epochs: nothing to train" in message


def test_resume_with_fewer_epochs_names_both_numbers(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    before = snapshot(path)
    with pytest.raises(cli.UsageError, match=r"--epochs 2 is fewer than the 3 epochs"):
        cli.prepare_checkpoint(path, True, False, 2)
    assert snapshot(path) == before


def test_resume_and_overwrite_contradict(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    write_checkpoint(path, 3)
    with pytest.raises(cli.UsageError, match="contradict"):
        cli.prepare_checkpoint(path, True, True, 5)


def test_resume_from_a_damaged_checkpoint_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(tv.CheckpointError):
        cli.prepare_checkpoint(str(path), True, False, 5)
    assert path.read_bytes() == b"PK\x03\x04 truncated"


def test_prepare_checkpoint_and_fit_agree_on_resuming(tmp_path):
    """The flag prepare_checkpoint returns continues the run in fit, up to ``epochs``."""
    path = str(tmp_path / "checkpoint.npz")
    x = np.random.default_rng(1).random((20, 4)).astype(np.float32)

    def run(epochs, resume):
        model = tv.VAE(4, (3,), 2, rng=np.random.default_rng(0))
        optimizer = tv.Adam(model.parameters())
        rng = np.random.default_rng(2)
        return tv.fit(
            model,
            optimizer,
            tv.Batches(x, batch_size=10),
            epochs=epochs,
            rng=rng,
            checkpoint=path,
            resume=resume,
            progress=False,
        )

    run(2, cli.prepare_checkpoint(path, False, False, 2)[0])
    assert run(3, cli.prepare_checkpoint(path, True, False, 3)[0]).epoch == [1, 2, 3]
    assert run(3, cli.prepare_checkpoint(path, True, False, 3)[0]).epoch == [1, 2, 3]


# -- user_errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error, code",
    [
        (cli.UsageError("--epochs is wrong"), 2),
        (DataNotFoundError("MNIST not found. Put the files in /data"), 1),
        (CorruptDataError("x.gz has the wrong checksum"), 1),
        (tv.CheckpointError("c.npz is damaged"), 1),
        (tv.TrainingDiverged("loss became nan at epoch 3"), 1),
        (ImportError('Reading Frey Face needs SciPy: pip install "tinyvae[frey]"'), 1),
        (cli.MissingDependency("this needs torch: pip install torch==2.13.0"), 1),
        (PermissionError(13, "Permission denied", "/out/a.png"), 1),
    ],
)
def test_user_errors_become_one_message_and_an_exit_code(error, code, capsys):
    with pytest.raises(SystemExit) as exit_info, cli.user_errors():
        raise error
    assert exit_info.value.code == code
    assert exit_info.value.__context__ is None or exit_info.value.__suppress_context__
    assert capsys.readouterr().err == f"error: {error}\n"


@pytest.mark.parametrize("bug", [KeyError("x"), ZeroDivisionError(), ValueError("a bug")])
def test_bugs_keep_their_traceback(bug, capsys):
    with pytest.raises(type(bug)), cli.user_errors():
        raise bug
    assert capsys.readouterr().err == ""


def test_ctrl_c_names_the_last_checkpoint(tmp_path, capsys):
    path = str(tmp_path / "checkpoint.npz")
    with pytest.raises(SystemExit) as exit_info, cli.user_errors(path):
        raise KeyboardInterrupt
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted; no checkpoint was written yet"

    with pytest.raises(SystemExit) as exit_info, cli.user_errors(path):
        write_checkpoint(path, 1)  # this run saved its first epoch
        raise KeyboardInterrupt
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.strip() == (
        f"interrupted; the last checkpoint is {path}: rerun with --resume to continue from it"
    )

    with pytest.raises(SystemExit) as exit_info, cli.user_errors(path):
        raise KeyboardInterrupt  # before this run saved anything
    assert capsys.readouterr().err.strip() == (
        f"interrupted; the last checkpoint is {path} (from before this run): "
        "rerun with --resume to continue it"
    )

    with pytest.raises(SystemExit) as exit_info, cli.user_errors():
        raise KeyboardInterrupt
    assert exit_info.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_a_namespace_package_in_place_of_tinyvae_is_refused(tmp_path, monkeypatch, capsys):
    """What ``import tinyvae`` gives from the folder above a clone (see tinyvae.cli)."""
    hollow = types.ModuleType("tinyvae")
    hollow.__path__ = [str(tmp_path / "tinyvae")]  # a folder without __init__.py: no __file__
    monkeypatch.setitem(sys.modules, "tinyvae", hollow)
    ran = []
    with pytest.raises(SystemExit) as exit_info, cli.user_errors():
        ran.append(True)
    assert exit_info.value.code == 2 and not ran
    err = capsys.readouterr().err
    assert f"found {tmp_path / 'tinyvae'}, the clone's folder" in err
    assert "Run the script by its path" in err


def test_a_submodule_imported_through_the_clones_folder_explains_missing_names(tmp_path):
    # Python started in the folder above a clone imports the clone (no __init__.py) as an
    # empty namespace package; an editable install still finds tinyvae's submodules.
    (tmp_path / "tinyvae").mkdir()
    code = "import tinyvae, tinyvae.nn; print(getattr(tinyvae, '__file__', None)); tinyvae.VAE"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )  # fmt: skip
    if result.stdout.strip() != "None":
        pytest.skip("this installation imports the real package from there (not editable)")
    assert result.returncode == 1
    assert "module 'tinyvae' has no attribute 'VAE': 'import tinyvae' found" in result.stderr
    assert "because Python started in the folder above the clone" in result.stderr
