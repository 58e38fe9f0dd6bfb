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
left untouched.
"""

import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .data.batching import batches
from .data.batching import binarize as binarize_pixels
from .objectives import Objective, elbo_objective, make_objective
from .objectives.weight_prior import add_weight_prior
from .validation import check_rng


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    """Per-epoch numbers: losses are -ELBO in nats per example."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


def evaluate(model, x, rng, n_samples=1):
    """Mean -ELBO per example over ``x``, z sampled: the test loss ``fit`` reports.

    The ELBO of the model whatever the training bound (estimator B where the
    posterior has a closed-form KL, else A), so that runs with different
    bounds (a VAE and an IWAE, AEVB and wake-sleep) compare.
    """
    bound = elbo_objective(model, n_samples).bound(x, rng=rng)
    return float(-np.mean(bound, dtype=np.float64))


def fit(
    model,
    optimizer,
    x_train,
    x_test=None,
    *,
    epochs,
    rng,
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
    called after every step with the number of steps taken so far.
    """
    check_rng(rng, "fit")
    if isinstance(model, Objective):
        objective = model
        if estimator is not None or n_samples != 1 or baseline:
            raise ValueError(
                "fit was given an objective: set n_samples, estimator and baseline on it, "
                "not on fit"
            )
    else:
        objective = make_objective(model, estimator or model.estimator, n_samples, baseline)
    net = objective.model
    net.check_data(x_train)
    if x_test is not None:
        net.check_data(x_test)  # now, not after a whole epoch of training
    # Everything that shapes the run beyond the model and the optimizer's arrays:
    # resuming with different values would not continue the same run.
    settings = {
        "batch_size": batch_size,
        "binarize": binarize,
        "n_samples": objective.n_samples,
        "estimator": estimator if objective is not model else objective.name,
        "scale_to_dataset": scale_to_dataset,
        "weight_prior": weight_prior,
        "optimizer": repr(optimizer),
    }
    if baseline or getattr(objective, "baseline", False):
        settings["baseline"] = True
    if drop_last:
        settings["drop_last"] = True
    dloss = float(len(x_train)) if scale_to_dataset else 1.0
    history, start = History(), 0
    if resume:
        if checkpoint is None:
            raise ValueError("resume=True needs checkpoint= (the file to resume from)")
        if os.path.exists(checkpoint):
            saved = read_checkpoint(checkpoint)[1].get("settings")
            if saved != settings:
                raise CheckpointError(
                    f"{checkpoint} was written by a run with {saved}; this run has "
                    f"{settings}. Resume with the same settings, or start a new run."
                )
            metadata = load_checkpoint(checkpoint, net, optimizer, rng)
            history = History(**metadata["history"])
            start = metadata["epoch"]

    steps_per_epoch = (
        len(x_train) // batch_size if drop_last else math.ceil(len(x_train) / batch_size)
    )
    step = start * steps_per_epoch
    for epoch in range(start + 1, epochs + 1):
        if max_steps is not None and step >= max_steps:
            break
        started = time.perf_counter()
        total, count = 0.0, 0
        bar = tqdm(
            batches(x_train, batch_size, rng, drop_last=drop_last),
            total=steps_per_epoch,
            disable=not progress,
            desc=f"epoch {epoch}/{epochs}",
            leave=False,
            unit="batch",
        )
        for x in bar:
            if binarize:
                x = binarize_pixels(x, rng)
            loss = objective.loss(x, rng=rng)
            if not np.isfinite(loss):
                kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
                raise TrainingDiverged(
                    f"loss became {loss} at epoch {epoch}, example {count}: training stopped"
                    f"{kept}. Try a smaller learning rate."
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

        history.epoch.append(epoch)
        history.train_loss.append(total / count)
        history.test_loss.append(
            evaluate(net, x_test, rng, objective.n_samples) if x_test is not None else float("nan")
        )
        history.seconds.append(time.perf_counter() - started)
        if verbose:
            test = f"  test loss {history.test_loss[-1]:8.3f}" if x_test is not None else ""
            tqdm.write(
                f"epoch {epoch:3d}  train loss {history.train_loss[-1]:8.3f}{test}  "
                f"({history.seconds[-1]:.1f} s)"
            )
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                net,
                optimizer,
                rng,
                epoch=epoch,
                history=history.to_dict(),
                settings=settings,
            )
    return history


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
