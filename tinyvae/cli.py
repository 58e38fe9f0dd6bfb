"""Command-line scripts that fail fast and say why: what the demos share.

The demos and benchmarks are built from these helpers, and so can your own
training scripts be. The rule behind all of them: every mistake a user can
fix (a bad argument, missing data or package, an unwritable folder, a
checkpoint in the way) is found before the long work starts and reported in
a few lines without a traceback, saying what to do. Any other exception is
a bug and keeps its traceback.

    parser = cli.parser(__doc__)
    parser.add_argument("--epochs", type=cli.integer(1), default=10, help="passes")
    ...
    args = parser.parse_args(argv)          # every value checked, nothing loaded yet
    checkpoint = os.path.join(args.out, "checkpoint.npz")
    with cli.user_errors(checkpoint):
        cli.check_writable(args.out)
        resume, message = cli.prepare_checkpoint(
            checkpoint, args.resume, args.overwrite, args.epochs
        )
        print(message)
        data = tv.load_dataset(...)         # all the data (and packages) first,
        tv.fit(..., checkpoint=checkpoint, resume=resume)   # then the training

Running from the folder above a clone. A clone of this repository is a
folder named ``tinyvae`` holding the package, also named ``tinyvae``. The
editable install (``pip install -e .``) does not put the clone on
``sys.path``: it adds an import hook at the end of ``sys.meta_path``, which
Python asks only if its ordinary search of ``sys.path`` found no package.
But a folder without ``__init__.py`` counts as found, as a namespace
package. So when the folder that holds the clone is on ``sys.path`` (the
current folder for ``python -c``, ``python -m`` or a notebook started
there; ``PYTHONPATH=.``), ``import tinyvae`` imports the clone's folder.
Nothing fails at once (the hook still finds submodules such as
``tinyvae.plots``), but ``tinyvae/__init__.py`` never runs, so
``tinyvae.VAE``, ``tinyvae.Module`` and the rest are missing. The scripts
therefore add their own clone to the end of ``sys.path``: there the
ordinary search finds the real package, and a package with
``__init__.py`` wins over a namespace folder wherever each is on the path.
Where that is too late, because the namespace package was imported before
the script ran (``python -m tinyvae.demos.vae``), ``user_errors`` refuses
it with instructions.
"""

import argparse
import contextlib
import importlib
import math
import os
import sys

import numpy as np

from . import threads
from .checkpoint import CheckpointError, differences, read_checkpoint
from .data.download import CorruptDataError
from .files import check_writable_folder
from .train import TrainingDiverged

__all__ = [
    "UsageError",
    "MissingDependency",
    "HelpFormatter",
    "parser",
    "integer",
    "positive_float",
    "check_writable",
    "require",
    "optimizer_setting",
    "prepare_checkpoint",
    "prepare_stage",
    "output_folder",
    "refuse_earlier_results",
    "check_package",
    "user_errors",
    "USER_ERRORS",
    "DATA_DIR_HELP",
]

DATA_DIR_HELP = (
    "folder holding the data files (directly or in the dataset's subfolder); without it "
    "$TINYVAE_DATA, then the cache, then a download"
)


class UsageError(ValueError):
    """The script was called in a way it cannot honour; the message says what to change."""


class MissingDependency(ImportError):
    """An optional package is not installed; the message says how to install it."""


# -- arguments ------------------------------------------------------------------
class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every option's default after its help text.

    Except a default of None: an option whose default depends on something
    else says so in its help text instead.
    """

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parser(description):
    """An ``argparse.ArgumentParser`` with :class:`HelpFormatter`; ``description`` is the
    script's docstring, of which the first line is shown.

    Every script gets ``--blas-threads`` (``tinyvae.threads``), applied as it is parsed.
    """
    result = argparse.ArgumentParser(
        description=description.strip().split("\n")[0], formatter_class=HelpFormatter
    )
    result.add_argument(
        "--blas-threads",
        action=BlasThreads,
        metavar="N|auto|keep",
        help="threads of NumPy's matrix products: a number; auto, the cores other programs "
        "leave free, measured when training starts; keep, as BLAS started. Default: "
        f"${threads.ENVIRONMENT}, else keep if $OPENBLAS_NUM_THREADS is set, else auto",
    )
    return result


class BlasThreads(argparse.Action):
    """``--blas-threads``: checked and applied as it is parsed (``threads.set_blas_threads``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            setting = threads.check_setting(values, option_string)
        except ValueError:
            parser.error(
                f"argument {option_string}: expected a number >= 1, auto or keep, got {values!r}"
            )
        threads.set_blas_threads(setting)
        setattr(namespace, self.dest, setting)


def integer(minimum=1, maximum=None):
    """An argparse ``type``: a whole number in ``[minimum, maximum]``.

    Scientific notation is accepted when the value is whole (``--samples 2e5``).
    """
    bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value.is_integer()):
            raise argparse.ArgumentTypeError(f"expected a whole number {bounds}, got {text!r}")
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return int(value)

    return parse


def positive_float(text):
    """An argparse ``type``: a finite number above 0 (not NaN, not infinity)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {text!r}")
    return value


# -- checks before the work -------------------------------------------------------
def check_writable(folder):
    """Prove that files can be written into ``folder`` (made later, if it does not exist).

    Raises ``UsageError`` naming the folder otherwise, so that an unwritable
    output folder is found before the training, not after it.
    """
    try:
        check_writable_folder(folder)
    except OSError as error:
        raise UsageError(
            f"cannot write to the output folder {folder}: {error.strerror or error}"
        ) from error


def require(module, install_hint):
    """Import and return ``module``; if that fails, raise ``MissingDependency`` saying
    who needs it and ``install_hint``, e.g. ``require("torch", "pip install torch")``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependency(
            f"this needs {module}, which is not installed: {install_hint}"
        ) from error


def output_folder(out, default, quick=False):
    """The folder a script writes to: ``out`` as the user named it, else ``default``, with
    ``-quick`` appended for a ``--quick`` run (so that it does not replace a full run's)."""
    if out is not None:
        return out
    return default + "-quick" if quick else default


def refuse_earlier_results(folder, overwrite, results):
    """Refuse to replace an earlier run's ``results`` (a file name in ``folder``) unless
    ``overwrite``: checked before anything is loaded, trained or written."""
    path = os.path.join(folder, results)
    if os.path.exists(path) and not overwrite:
        raise UsageError(
            f"{folder} holds the results of an earlier run ({path}); pass --overwrite to "
            "replace them, or another --out"
        )


def check_asked(path, metadata, asked):
    """Raise ``UsageError`` if the checkpoint's model or run settings differ from ``asked``,
    a dict of the settings the script was asked for, naming each that differs."""
    saved = {**(metadata.get("settings") or {}), **(metadata.get("model_config") or {})}
    recorded = [key for key in asked if key in saved]  # what the checkpoint can tell
    differ = differences(
        {key: saved[key] for key in recorded},
        {key: asked[key] for key in recorded},
        "in the checkpoint",
        "asked",
    )
    if differ:
        raise UsageError(
            f"--resume: the checkpoint at {path} was written by a run with other settings "
            f"({differ}); resume with the same options, or start a new run with --overwrite"
        )


def optimizer_setting(optimizer, **hyperparameters):
    """What ``fit`` records of an ``optimizer`` (a class such as ``tv.Adam``) with these
    hyperparameters, its repr, known before any model exists (for ``asked`` below): one
    built on a stand-in parameter has the same repr."""
    stand_in = [("w", np.zeros(1), np.zeros(1))]
    return repr(optimizer(stand_in, **hyperparameters))


def prepare_checkpoint(path, resume, overwrite, epochs, asked=None):
    """Decide how a run with a checkpoint at ``path`` starts; returns ``(resume, message)``.

    ``resume`` is what to pass to ``tinyvae.fit``, ``message`` what to print.
    The rules, each checked before anything is loaded or written:

    * ``resume`` and ``overwrite`` together contradict each other;
    * ``resume`` without a checkpoint is refused (a silent fresh start would waste the run);
    * ``resume`` of a checkpoint whose model or settings differ from ``asked`` (a dict such
      as ``{"z_dim": 5, "batch_size": 100}``) is refused, naming what differs;
    * ``resume`` with a checkpoint of more epochs than ``epochs`` is refused, naming both;
      with exactly ``epochs`` there is nothing to train and the saved model is used as is;
    * an existing checkpoint without ``resume`` or ``overwrite`` is refused, so that it is
      never replaced by accident; with ``overwrite`` the new run replaces it.

    A damaged checkpoint raises ``tinyvae.CheckpointError`` when resuming.
    """
    exists = os.path.exists(path)
    if resume and overwrite:
        raise UsageError("--resume and --overwrite contradict each other; pass one of them")
    if resume:
        if not exists:
            raise UsageError(f"--resume: no checkpoint at {path}")
        metadata = read_checkpoint(path)[1]
        check_asked(path, metadata, asked or {})
        done = metadata.get("epoch")
        if not isinstance(done, int):
            raise CheckpointError(f"{path}: its metadata holds no epoch number")
        if epochs < done:
            raise UsageError(
                f"--epochs {epochs} is fewer than the {done} epochs the checkpoint at {path} "
                f"has done; ask for more than {done} to continue it"
            )
        if epochs == done:
            return True, (
                f"the checkpoint at {path} has done all {done} epochs: nothing to train, "
                "the results are drawn from the saved model"
            )
        return True, f"resuming from epoch {done} of {epochs} ({path})"
    if exists and not overwrite:
        raise UsageError(
            f"a checkpoint exists at {path}; pass --resume to continue it "
            "or --overwrite to start over"
        )
    if exists:
        return False, f"starting a new run; it replaces the checkpoint at {path} after its epoch 1"
    return False, f"starting a new run; checkpoints go to {path}"


def prepare_stage(path, resume, overwrite, epochs, asked=None):
    """``prepare_checkpoint`` for one of several runs of a demo: ``resume`` starts a run
    without a checkpoint afresh instead of refusing, so that a grid can be continued."""
    if resume and not os.path.exists(path):
        return False, f"no checkpoint at {path}: starting afresh"
    return prepare_checkpoint(path, resume, overwrite, epochs, asked)


# -- turning errors into messages ------------------------------------------------------
def check_package():
    """Raise ``UsageError`` if ``tinyvae`` was imported as an empty namespace package.

    See "Running from the folder above a clone" in this module's docstring.
    """
    package = sys.modules[__package__]
    if getattr(package, "__file__", None) is None:
        folder = list(package.__path__)[0]
        script = sys.argv[0] if sys.argv[0].endswith(".py") else "path/to/script.py"
        raise UsageError(
            f"'import tinyvae' found {folder}, the clone's folder, instead of the package in "
            "it, because the folder that holds the clone is on sys.path (python -m or -c "
            f"started there, or PYTHONPATH). Run the script by its path, python {script}, "
            "without PYTHONPATH."
        )


# Exceptions the user can act on, with the exit code each ends the script with:
# 2 for a call the script cannot honour (argparse's code too), 1 for the rest.
USER_ERRORS = (
    (UsageError, 2),
    (OSError, 1),  # missing data (DataNotFoundError), a full disk, a refused file
    (CorruptDataError, 1),
    (CheckpointError, 1),
    (TrainingDiverged, 1),
    (ImportError, 1),  # an optional package, such as SciPy for Frey Face
)


def _modified(path):
    """When the file at ``path`` was last written, or None if there is none."""
    try:
        return os.stat(path).st_mtime_ns if path is not None else None
    except OSError:
        return None


@contextlib.contextmanager
def user_errors(checkpoint=None):
    """Run the block; end the script with a short message if the user must act.

    On entry, checks that ``tinyvae`` is imported whole (:func:`check_package`).
    An exception of ``USER_ERRORS`` prints ``error: <its message>`` on stderr
    and exits with its code, without a traceback; any other exception is a
    bug and propagates with its traceback. Ctrl-C prints where the last
    checkpoint is (``checkpoint``, the path the run saves to, if any) and
    exits with 130, the shell's code for an interrupt.
    """
    earlier = _modified(checkpoint)  # a checkpoint of an earlier run, if any
    try:
        check_package()
        yield
    except KeyboardInterrupt:
        if checkpoint is None:
            message = "interrupted"
        elif _modified(checkpoint) is None:
            message = "interrupted; no checkpoint was written yet"
        elif _modified(checkpoint) == earlier:
            message = (
                f"interrupted; the last checkpoint is {checkpoint} (from before this run): "
                "rerun with --resume to continue it"
            )
        else:
            message = (
                f"interrupted; the last checkpoint is {checkpoint}: rerun with --resume to "
                "continue from it"
            )
        print(f"\n{message}", file=sys.stderr)
        raise SystemExit(130) from None
    except tuple(kind for kind, _ in USER_ERRORS) as error:
        code = next(code for kind, code in USER_ERRORS if isinstance(error, kind))
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(code) from None
