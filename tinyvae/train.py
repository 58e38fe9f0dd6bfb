"""The one training loop: minibatches, progress bar, history, checkpoints.

    history = tv.fit(model, opt, x_train, x_test, epochs=10, rng=rng,
                     binarize=True, checkpoint="run/vae.npz")

``fit`` trains an objective (``tinyvae.objectives``) with an optimizer; give
it a model and it trains the model's default estimator. Per step it draws a
minibatch (and, with ``binarize=True``, a fresh binarization of it),
computes ``loss``, ``backward`` and, if asked, AEVB's regularizer (the
N(0, I) weight prior with the N/M scaling, AEVB section 5), then steps the
optimizer. After every epoch it reports the test loss, -ELBO with sampled z
in nats per example, and with ``checkpoint=`` saves the model, optimizer,
RNG and history; ``resume=True`` continues such a run exactly where it
stopped, bit for bit. ``on_step(step)`` runs after every step: the AEVB
figures evaluate their curves there. If the loss turns NaN or infinite,
training stops with ``TrainingDiverged`` and the last good checkpoint is
left untouched: a state holding NaN or infinity is never saved.
"""

import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .checkpoint import (
    CheckpointError,
    differences,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from .data.batching import batches
from .data.batching import binarize as binarize_pixels
from .data.semi_supervised import check_labelled_set, mixed_batches
from .files import check_writable_folder
from .objectives import Objective, elbo_objective, make_objective
from .objectives.weight_prior import add_weight_prior
from .optim import Optimizer
from .threads import adapt_blas_threads, blas_setting
from .validation import check_bool, check_int, check_model, check_optional_int, check_rng


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


def state_finite(model, optimizer):
    """True if no parameter and no optimizer moment holds NaN or infinity."""
    arrays = [param for _, param, _ in model.parameters()]
    arrays += [a for slot in optimizer.state.values() for a in slot.values()]
    return all(np.isfinite(a).all() for a in arrays)


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


def evaluate(model, x, rng, n_samples=1):
    """Mean -ELBO per example over ``x``, z sampled: the test loss ``fit`` reports
    for a VAE (``Objective.evaluate``)."""
    return elbo_objective(model, n_samples).evaluate(x, rng)


def fit(
    model,
    optimizer,
    x_train,
    x_test=None,
    *,
    epochs,
    rng,
    labels=None,
    labelled_batch_size=100,
    batch_size=128,
    binarize=False,
    n_samples=1,
    estimator=None,
    baseline=False,
    scale_to_dataset=False,
    weight_prior=False,
    max_steps=None,
    drop_last=False,
    on_step=None,
    on_epoch=None,
    checkpoint=None,
    resume=False,
    progress=True,
    verbose=True,
):
    """Train for ``epochs`` epochs in total (or ``max_steps`` steps); returns a ``History``.

    ``model`` is an objective (``tinyvae.objectives``), or a model, which is
    then trained with ``estimator`` (default: the model's), ``n_samples``
    samples and ``baseline``. ``x_test`` is evaluated as given (binarize it
    once beforehand if needed). With ``resume=True`` and an existing
    ``checkpoint``, the model, optimizer, ``rng`` and history are restored
    and training continues from the saved epoch. ``progress`` shows a bar
    per epoch; ``verbose`` prints one line of losses per epoch.

    AEVB's own setup is ``scale_to_dataset=True`` (the minibatch gradient
    times N, the data set size) with ``weight_prior=True`` (a N(0, I) prior
    on every parameter, ``tinyvae.objectives.weight_prior``). The reported
    losses are always the bound per example, without the prior.
    ``drop_last`` skips the last, smaller batch of an epoch; ``max_steps``
    stops after that many optimizer steps in total; ``on_step(step)`` is
    called after every step with the number of steps taken so far;
    ``on_epoch(epoch)`` after every epoch may return a dict of numbers
    (a test error, say), kept by name in ``history.metrics``. When the run
    starts, the BLAS threads are chosen for the machine's load, or taken from
    the checkpoint of a resumed run (``tinyvae.threads``;
    ``TINYVAE_BLAS_THREADS`` overrides).

    Semi-supervised training (``tinyvae.objectives.SemiSupervised``) takes
    ``labels``, the class of each row of ``x_train`` or -1 where it is
    unknown: an epoch is then one pass over the unlabelled rows, and every
    batch of ``batch_size`` of them also holds ``labelled_batch_size``
    labelled rows (``tinyvae.data.semi_supervised.mixed_batches``).
    A classifier's objective (``tinyvae.objectives.VariationalDropout``)
    takes the label of every row, in ordinary batches, and no ``x_test``.
    """
    # Every argument is checked before anything changes: the model, the optimizer,
    # the caller's rng and the checkpoint file are untouched by a call that fails.
    check_rng(rng, "fit")
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    max_steps = check_optional_int(max_steps, "max_steps")
    binarize = check_bool(binarize, "binarize")
    scale_to_dataset = check_bool(scale_to_dataset, "scale_to_dataset")
    weight_prior = check_bool(weight_prior, "weight_prior")
    drop_last = check_bool(drop_last, "drop_last")
    resume = check_bool(resume, "resume")
    progress = check_bool(progress, "progress")
    verbose = check_bool(verbose, "verbose")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer: expected a tinyvae optimizer such as tv.Adam(model.parameters()), "
            f"got {type(optimizer).__name__}"
        )
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step: expected a function of the step number, got {on_step!r:.60}")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch: expected a function of the epoch, got {on_epoch!r:.60}")
    if isinstance(model, Objective):
        objective = model
        if estimator is not None or n_samples != 1 or baseline:
            raise ValueError(
                "fit was given an objective: set n_samples, estimator and baseline on it, "
                "not on fit"
            )
    else:
        check_model(model, "vae", "fit")  # M2 and classifiers train through their objectives
        estimator = model.estimator if estimator is None else estimator
        objective = make_objective(model, estimator, n_samples, baseline)
    net = objective.model
    objective.check_data(x_train)
    if x_test is not None:
        objective.check_data(x_test)  # now, not after a whole epoch of training
    supervised = getattr(objective, "supervised", False)  # a classifier: every row labelled
    semi_supervised = hasattr(objective, "check_labels") and not supervised
    if labels is not None:
        if not (semi_supervised or supervised):
            raise ValueError(
                f"labels: {type(objective).__name__} trains without labels; "
                "semi-supervised training needs tinyvae.objectives.SemiSupervised"
            )
        labels = objective.check_labels(labels, len(x_train))
        if semi_supervised:
            labelled_rows, unlabelled_rows = check_labelled_set(labels, net.n_classes)
            labelled_batch_size = check_int(labelled_batch_size, "labelled_batch_size")
    elif supervised:
        raise ValueError(f"labels: {type(objective).__name__} trains a classifier; pass labels=")
    if supervised and x_test is not None:
        objective.evaluate(x_test, rng)  # says why a classifier takes no x_test, and what to do
    objective.check_samples(objective.n_samples)
    optimizer.check_updates(objective)
    n_epoch = len(unlabelled_rows) if semi_supervised and labels is not None else len(x_train)
    if drop_last and n_epoch < batch_size:
        raise ValueError(
            f"drop_last: True with {n_epoch} training examples and batch_size={batch_size} "
            "leaves no batch at all"
        )
    blas_setting()  # a bad TINYVAE_BLAS_THREADS is refused now, not after a resume
    checkpoint = check_checkpoint_path(checkpoint)  # a write test, so it comes last
    # Everything that shapes the run beyond the model and the optimizer's arrays:
    # resuming with different values would not continue the same run.
    settings = {
        "batch_size": batch_size,
        "binarize": binarize,
        "scale_to_dataset": scale_to_dataset,
        "weight_prior": weight_prior,
        "optimizer": repr(optimizer),
        **objective.settings(),  # its name, samples, and what else shapes its bound
    }
    if drop_last:
        settings["drop_last"] = True
    if semi_supervised and labels is not None:
        settings["labelled"] = len(labelled_rows)
        settings["labelled_batch_size"] = labelled_batch_size
    dloss = float(len(x_train)) if scale_to_dataset else 1.0
    steps_per_epoch = n_epoch // batch_size if drop_last else math.ceil(n_epoch / batch_size)
    history, start, step, threads = History(), 0, 0, None
    good_checkpoint = False  # whether `checkpoint` holds a good state of this run
    if resume:
        if checkpoint is None:
            raise ValueError("resume: True needs checkpoint= (the file to resume from)")
        if os.path.exists(checkpoint):
            history, start, step, threads = resume_from(
                checkpoint, net, optimizer, rng, settings, epochs, steps_per_epoch
            )
            good_checkpoint = True
        elif verbose:
            tqdm.write(f"no checkpoint at {checkpoint}: starting a new run")
    # as many BLAS threads as the machine has free cores, or as the resumed run had
    threads = adapt_blas_threads(threads)

    for epoch in range(start + 1, epochs + 1):
        if max_steps is not None and step >= max_steps:
            break
        started = time.perf_counter()
        total, count, first_step = 0.0, 0, step
        if labels is None:
            epoch_batches = (
                (x, None) for x in batches(x_train, batch_size, rng, drop_last=drop_last)
            )
        elif supervised:  # every row with its label
            epoch_batches = batches(x_train, batch_size, rng, labels=labels, drop_last=drop_last)
        else:
            epoch_batches = mixed_batches(
                x_train, labels, batch_size, labelled_batch_size, rng, drop_last, net.n_classes
            )
        bar = tqdm(
            epoch_batches,
            total=steps_per_epoch,
            disable=not progress,
            desc=f"epoch {epoch}/{epochs}",
            leave=False,
            unit="batch",
        )
        for x, y in bar:
            if binarize:
                x = binarize_pixels(x, rng)
            # y: the rows' labels (-1: unknown in semi-supervised training)
            loss = objective.loss(x, rng=rng) if y is None else objective.loss(x, rng=rng, labels=y)
            if not np.isfinite(loss):
                raise diverged(
                    f"loss became {loss} at epoch {epoch}, example {count}",
                    checkpoint,
                    good_checkpoint,
                )
            optimizer.zero_grad()  # the gradients of exactly what the optimizer updates
            objective.backward(dloss)  # N/M sum_i of the bound with scale_to_dataset
            if weight_prior:
                add_weight_prior(objective)  # MAP: -log N(theta; 0, I)
            optimizer.step()
            total += loss * len(x)
            count += len(x)
            step += 1
            bar.set_postfix(loss=f"{total / count:.2f}")
            if on_step is not None:
                on_step(step)
            if max_steps is not None and step >= max_steps:
                break
        bar.close()

        # The last step of the epoch may have made the parameters NaN although its
        # loss was finite: look before saving, so a diverged state is never saved.
        if not state_finite(net, optimizer):
            raise diverged(
                f"after epoch {epoch} a parameter or optimizer moment is not finite",
                checkpoint,
                good_checkpoint,
            )
        test_loss = objective.evaluate(x_test, rng) if x_test is not None else None
        if test_loss is not None and not np.isfinite(test_loss):
            raise diverged(
                f"after epoch {epoch} the test loss is {test_loss}", checkpoint, good_checkpoint
            )
        history.epoch.append(epoch)
        history.train_loss.append(total / count)
        if test_loss is not None:  # without x_test, nothing
            history.test_loss.append(test_loss)
        history.seconds.append(time.perf_counter() - started)
        metrics = check_metrics(on_epoch(epoch)) if on_epoch is not None else {}
        for name, value in metrics.items():
            history.metrics.setdefault(name, []).append(value)
        if verbose:
            test = f"  test loss {history.test_loss[-1]:8.3f}" if x_test is not None else ""
            shown = "".join(f"  {name} {value:.4g}" for name, value in metrics.items())
            tqdm.write(
                f"epoch {epoch:3d}  train loss {history.train_loss[-1]:8.3f}{test}{shown}  "
                f"({history.seconds[-1]:.1f} s)"
            )
        if checkpoint is not None:
            partial = {"partial_epoch": True} if step - first_step < steps_per_epoch else {}
            save_checkpoint(
                checkpoint,
                net,
                optimizer,
                rng,
                epoch=epoch,
                steps=step,
                history=history.to_dict(),
                settings=settings,
                blas_threads=threads,  # they change the rounding: a resume takes them again
                **partial,
            )
            good_checkpoint = True
    return history


def check_metrics(metrics):
    """What ``on_epoch`` returned: None or a dict of names to finite numbers."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(isinstance(k, str) for k in metrics):
        raise TypeError(
            f"on_epoch: expected it to return a dict of numbers by name, got {metrics!r:.80}"
        )
    return {name: float(value) for name, value in metrics.items()}


def resume_from(checkpoint, net, optimizer, rng, settings, epochs, steps_per_epoch):
    """Restore a run saved by ``fit``: returns ``(history, epochs done, steps done, BLAS
    threads it trained with or None)``.

    Every check (same settings, a whole epoch, fewer epochs done than asked
    for, readable history) comes before the model, optimizer and rng change.
    """
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
    load_checkpoint(checkpoint, net, optimizer, rng)
    step = saved.get("steps", start * steps_per_epoch)  # 0.1 did not save steps
    threads = saved.get("blas_threads")
    threads = threads if isinstance(threads, int) and threads >= 1 else None
    return history, start, step, threads


def fit_wake_sleep(
    wake_sleep,
    optimizer,
    x_train,
    x_test,
    *,
    epochs,
    rng,
    batch_size=100,
    binarize=False,
    progress=True,
    verbose=True,
):
    """``fit(wake_sleep, ...)`` under its tinyvae 0.1 name; the losses are -ELBO per example."""
    return fit(
        wake_sleep,
        optimizer,
        x_train,
        x_test,
        epochs=epochs,
        rng=rng,
        batch_size=batch_size,
        binarize=binarize,
        progress=progress,
        verbose=verbose,
    )
