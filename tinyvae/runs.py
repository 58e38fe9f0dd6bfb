"""A training run's bookkeeping, kept out of ``fit``'s loop: its arguments checked at
the door, its history, its settings, divergence, and how it resumes from a checkpoint.

A run of ``tinyvae.fit`` saves, after every epoch, the model, optimizer, RNG,
history and the settings that shaped it (``settings``); ``resume`` continues
it exactly, bit for bit, and refuses a checkpoint written with other
settings. A state holding NaN or infinity is never saved, so a diverged run
(``TrainingDiverged``) never replaces the last good checkpoint.
"""

import os
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm  # text bars, in a terminal and in Jupyter alike (no widget needed)

from .checkpoint import (
    CheckpointError,
    differences,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from .data.batching import Batches
from .files import check_writable_folder
from .objectives import MAP, Objective
from .optim import Optimizer
from .threads import blas_setting
from .validation import check_int, check_model, check_optional_int, check_rng

PROGRESS = (True, "epochs", False)  # a bar and a line per epoch, the lines only, nothing


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """Per-epoch numbers in nats per example: ``train_loss`` the running mean of the
    objective's loss (-bound), ``test_loss`` the objective's test loss (for a VAE
    -ELBO with z sampled; empty without ``x_test``); ``metrics`` what ``on_epoch``
    returned, by name."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)

    def to_dict(self):
        return asdict(self)

    def record(self, epoch, train_loss, test_loss, seconds, metrics):
        """Append one epoch's numbers; returns the line ``fit`` prints for it."""
        self.epoch.append(epoch)
        self.train_loss.append(train_loss)
        if test_loss is not None:  # without x_test, nothing
            self.test_loss.append(test_loss)
        self.seconds.append(seconds)
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append(value)
        test = f"  test loss {test_loss:8.3f}" if test_loss is not None else ""
        shown = "".join(f"  {name} {value:.4g}" for name, value in metrics.items())
        return f"epoch {epoch:3d}  train loss {train_loss:8.3f}{test}{shown}  ({seconds:.1f} s)"


def check_fit(objective, optimizer, data, x_test, epochs, rng, max_steps, callbacks, progress):
    """``fit``'s arguments, every one checked before anything changes: returns
    ``(objective, data as Batches, settings, progress)``. A model becomes its own objective."""
    check_rng(rng, "fit")
    check_int(epochs, "epochs")
    check_optional_int(max_steps, "max_steps")
    if isinstance(progress, np.bool_):
        progress = bool(progress)
    if progress not in PROGRESS or not isinstance(progress, (bool, str)):
        raise ValueError(f"progress: expected True, 'epochs' or False, got {progress!r:.60}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer: expected a tinyvae optimizer such as tv.Adam(model.parameters()), "
            f"got {type(optimizer).__name__}"
        )
    for name, callback in zip(("on_step", "on_epoch"), callbacks):
        if callback is not None and not callable(callback):
            raise TypeError(f"{name}: expected a function, got {callback!r:.60}")
    if not isinstance(objective, (Objective, MAP)):  # a VAE trains with its own estimator
        objective = check_model(objective, "vae", "fit").objective
    data = objective.check_training(data if isinstance(data, Batches) else Batches(data))
    if x_test is not None:
        objective.check_test(x_test)  # now, not after a whole epoch of training
    objective.check_samples(objective.n_samples)
    optimizer.check_updates(objective)
    if objective.steps_per_epoch(data) == 0:
        raise ValueError(
            f"drop_last: True with batch_size={data.batch_size} leaves no whole batch in an "
            f"epoch of {type(objective).__name__} (training rows: {len(data)})"
        )
    blas_setting()  # a bad TINYVAE_BLAS_THREADS is refused now, not after a resume
    # Everything that shapes the run beyond the model and the optimizer's arrays:
    # resuming with other values would not continue the same run. (Every run records
    # AEVB's two MAP settings, as tinyvae 0.2 did; MAP.settings sets them.)
    settings = {"scale_to_dataset": False, "weight_prior": False, "optimizer": repr(optimizer)}
    return objective, data, {**settings, **objective.training_settings(data)}, progress


def check_checkpoint_path(checkpoint):
    """``None`` or a file path that can be written: refuse now, not after an epoch.

    Tries a scratch file in the checkpoint's folder; the check leaves the
    disk as it was (``tinyvae.files.check_writable_folder``).
    """
    if checkpoint is None:
        return None
    try:
        path = os.fspath(checkpoint)
        if not isinstance(path, str):
            raise TypeError
    except TypeError:
        raise TypeError(
            f"checkpoint: expected a file path or None, got {type(checkpoint).__name__}"
        ) from None
    if os.path.isdir(path):
        raise ValueError(f"checkpoint: expected a file path, got the folder {path}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        check_writable_folder(folder)
    except OSError as error:
        raise OSError(
            f"checkpoint: cannot write into {folder} ({error.strerror or error})"
        ) from None
    return path


def state_finite(model, optimizer):
    """True if no parameter and no optimizer moment holds NaN or infinity."""
    arrays = [param for _, param, _ in model.parameters()]
    arrays += [a for slot in optimizer.state.values() for a in slot.values()]
    return all(np.isfinite(a).all() for a in arrays)


def diverged(message, checkpoint, saved):
    """``TrainingDiverged`` saying where the last good state is, if this run saved one."""
    if checkpoint is None:
        where = ""
    elif saved:
        where = f"; the last good checkpoint is {checkpoint}"
    elif os.path.exists(checkpoint):
        where = f"; this run wrote no checkpoint ({checkpoint} is an earlier run's, left untouched)"
    else:
        where = f"; no checkpoint was written ({checkpoint} does not exist)"
    return TrainingDiverged(f"{message}: training stopped{where}. Try a smaller learning rate.")


def check_metrics(metrics):
    """What ``on_epoch`` returned: None or a dict of names to finite numbers."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(isinstance(k, str) for k in metrics):
        raise TypeError(
            f"on_epoch: expected it to return a dict of numbers by name, got {metrics!r:.80}"
        )
    return {name: float(value) for name, value in metrics.items()}


def resume_run(checkpoint, model, optimizer, rng, settings, epochs, steps_per_epoch, progress):
    """Continue the run saved in ``checkpoint``, if there is one: returns ``(history,
    epochs done, steps done, the BLAS threads it trained with or None, saved)``, where
    ``saved`` says whether the checkpoint holds a good state of this run.

    Every check (same settings, a whole epoch, fewer epochs done than asked
    for, readable history) comes before the model, optimizer and rng change.
    """
    if checkpoint is None:
        raise ValueError("resume: True needs checkpoint= (the file to resume from)")
    if not os.path.exists(checkpoint):
        if progress:
            tqdm.write(f"no checkpoint at {checkpoint}: starting a new run")
        return History(), 0, 0, None, False
    saved = read_checkpoint(checkpoint)[1]
    saved_settings = saved.get("settings")
    if isinstance(saved_settings, dict) and saved_settings.get("estimator") is None:
        saved_settings["estimator"] = settings["estimator"]  # 0.1 saved None for the default
    if saved_settings != settings:
        changed = differences(saved_settings, settings, "in the checkpoint", "asked")
        raise CheckpointError(
            f"{checkpoint} was written by a run with other settings ({changed}). "
            "Resume with the same settings, or start a new run."
        )
    if saved.get("partial_epoch"):
        raise CheckpointError(
            f"{checkpoint} was saved by a run that max_steps stopped in the middle of "
            f"epoch {saved.get('epoch')}; it cannot be continued exactly. Start a new run."
        )
    try:
        history = History(**saved["history"])
        start = check_int(saved["epoch"], "epoch", minimum=1)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{checkpoint}: damaged metadata ({error!r})") from None
    if epochs < start:
        raise ValueError(
            f"epochs: {checkpoint} has already trained {start} epochs and epochs={epochs} "
            f"asks for fewer; ask for more than {start} to train on"
        )
    load_checkpoint(checkpoint, model, optimizer, rng)
    step = saved.get("steps", start * steps_per_epoch)  # 0.1 did not save steps
    threads = saved.get("blas_threads")
    threads = threads if isinstance(threads, int) and threads >= 1 else None
    return history, start, step, threads, True


def progress_bar(batches, steps, epoch, epochs, progress):
    """The epoch's batches behind a progress bar, shown when ``progress`` is True."""
    return tqdm(
        batches,
        total=steps,
        unit="batch",
        desc=f"epoch {epoch}/{epochs}",
        leave=False,
        disable=progress is not True,
    )


def save_run(checkpoint, model, optimizer, rng, history, settings, steps, threads, partial):
    """Save the run after an epoch: everything ``resume_run`` needs to continue it.

    ``threads``, the BLAS threads, change how BLAS rounds, so a resumed run takes
    them again; ``partial`` marks an epoch that ``max_steps`` cut short.
    """
    save_checkpoint(
        checkpoint,
        model,
        optimizer,
        rng,
        epoch=history.epoch[-1],
        steps=steps,
        history=history.to_dict(),
        settings=settings,
        blas_threads=threads,
        **({"partial_epoch": True} if partial else {}),
    )
