"""The one training loop, ``fit``: an objective, an optimizer, batches, epochs.

    history = tv.fit(model, optimizer, tv.Batches(x_train, batch_size=100, binarize=True),
                     x_test, epochs=10, rng=rng, checkpoint="run/vae.npz")

Each step is AEVB's Algorithm 1: draw a minibatch, compute the loss (drawing
the noise eps), the gradient of its bound, and one optimizer update. What
differs between AEVB, IWAE, wake-sleep, M2 and variational dropout lives in
the objective (``tinyvae.objectives``), including how it cuts the data into
batches; what a run records and how it resumes lives in ``tinyvae.runs``.
"""

import time
import warnings

import numpy as np
from tqdm import tqdm  # text bars, in a terminal and in Jupyter alike (no widget needed)

from .data.batching import Batches
from .objectives import MAP, Objective, elbo_objective, make_objective
from .runs import (
    History,
    TrainingDiverged,
    check_checkpoint_path,
    check_fit,
    check_metrics,
    diverged,
    progress_bar,
    resume_run,
    save_run,
    state_finite,
)
from .threads import adapt_blas_threads
from .validation import check_bool, check_int, check_model

__all__ = ["History", "TrainingDiverged", "evaluate", "fit", "fit_wake_sleep"]


def fit(
    objective,
    optimizer,
    data,
    x_test=None,
    *,
    epochs,
    rng,
    max_steps=None,
    on_step=None,
    on_epoch=None,
    checkpoint=None,
    resume=False,
    progress=True,
    **deprecated,
):
    """Train ``objective`` for ``epochs`` epochs in all (or ``max_steps`` steps) on ``data``
    (rows, or ``tv.Batches``); returns the ``History`` of its losses in nats per example.

    A VAE trains with its ``model.objective``. ``x_test`` is evaluated after every epoch;
    ``on_step(step)`` runs after every step, ``on_epoch(epoch)`` after every epoch (its
    numbers by name go to ``history.metrics``). ``progress``: True a bar and lines,
    "epochs" lines, False nothing. ``checkpoint`` is saved every epoch, ``resume=True``
    continues it exactly; a NaN raises ``TrainingDiverged`` (``tinyvae.runs``).
    """
    if deprecated:  # tinyvae 0.2's keywords, translated with a warning
        objective, data, progress = legacy_arguments(objective, data, progress, deprecated)
    objective, data, settings, progress = check_fit(
        objective, optimizer, data, x_test, epochs, rng, max_steps, (on_step, on_epoch), progress
    )  # every argument, before anything changes
    checkpoint = check_checkpoint_path(checkpoint)  # a write test, so it comes last
    steps_per_epoch, model = objective.steps_per_epoch(data), objective.model
    history, done, step, threads, saved = History(), 0, 0, None, False
    if check_bool(resume, "resume"):
        history, done, step, threads, saved = resume_run(
            checkpoint, model, optimizer, rng, settings, epochs, steps_per_epoch, progress
        )
    threads = adapt_blas_threads(threads)  # the machine's free cores, or the resumed run's

    for epoch in range(done + 1, epochs + 1):
        if max_steps is not None and step >= max_steps:
            break
        started, total, count, first_step = time.perf_counter(), 0.0, 0, step
        bar = progress_bar(objective.batches(data, rng), steps_per_epoch, epoch, epochs, progress)
        for batch in bar:  # a dict of the loss's data arguments
            loss = objective.loss(**batch, rng=rng)  # the batch mean of -bound
            if not np.isfinite(loss):
                raise diverged(
                    f"loss became {loss} at epoch {epoch}, example {count}", checkpoint, saved
                )
            optimizer.zero_grad()  # the gradients of exactly what the optimizer updates
            objective.backward()
            optimizer.step()
            n = len(batch["x"])
            total, count, step = total + loss * n, count + n, step + 1
            bar.set_postfix(loss=f"{total / count:.2f}")
            if on_step is not None:
                on_step(step)
            if max_steps is not None and step >= max_steps:
                break
        bar.close()

        # A last step may have made the state NaN although its loss was finite: look
        # before saving, so that a diverged state is never saved.
        if not state_finite(model, optimizer):
            what = f"after epoch {epoch} a parameter or optimizer moment is not finite"
            raise diverged(what, checkpoint, saved)
        test_loss = objective.evaluate(x_test, rng) if x_test is not None else None
        if test_loss is not None and not np.isfinite(test_loss):
            raise diverged(f"after epoch {epoch} the test loss is {test_loss}", checkpoint, saved)
        seconds = time.perf_counter() - started
        metrics = check_metrics(on_epoch(epoch)) if on_epoch is not None else {}
        line = history.record(epoch, total / count, test_loss, seconds, metrics)
        if progress:
            tqdm.write(line)
        if checkpoint is not None:
            partial = step - first_step < steps_per_epoch  # max_steps stopped mid-epoch
            save_run(checkpoint, model, optimizer, rng, history, settings, step, threads, partial)
            saved = True
    return history


def evaluate(model, x, rng, n_samples=1):
    """Mean -ELBO per example over ``x``, z sampled: the test loss ``fit`` reports
    for a VAE (``Objective.evaluate``)."""
    return elbo_objective(model, n_samples).evaluate(x, rng)


LEGACY = (
    "labels", "labelled_batch_size", "batch_size", "binarize", "drop_last", "n_samples",
    "estimator", "baseline", "scale_to_dataset", "weight_prior", "verbose",
)  # fmt: skip


def legacy_arguments(objective, data, progress, given):
    """tinyvae 0.2's ``fit`` keywords, as 0.3's objective, ``Batches`` and ``progress``;
    they still work, with a ``DeprecationWarning`` saying what to write instead."""
    unknown = sorted(set(given) - set(LEGACY))
    if unknown:
        raise TypeError(f"fit() got an unexpected keyword argument {unknown[0]!r}")
    warnings.warn(
        f"fit({', '.join(f'{name}=' for name in given)}) is tinyvae 0.2's; set the batches "
        "with tv.Batches(x, labels, batch_size=, binarize=, drop_last=), the estimator on "
        "the objective (tv.SGVB_B(model, n_samples), tv.MAP(objective, n_data) for AEVB's "
        "weight prior), and progress=True, 'epochs' or False (see CHANGELOG.md)",
        DeprecationWarning,
        stacklevel=3,
    )
    batching = {k: given[k] for k in ("batch_size", "binarize", "drop_last") if k in given}
    if isinstance(data, Batches):
        raise TypeError("data: tv.Batches already holds the batching; drop fit's 0.2 keywords")
    data = Batches(data, given.get("labels"), **batching)
    model_keywords = {k: given[k] for k in ("n_samples", "estimator", "baseline") if k in given}
    if isinstance(objective, (Objective, MAP)):
        if any(given.get(k) not in (None, 1, False) for k in model_keywords):
            raise ValueError(
                "fit was given an objective: set n_samples, estimator and baseline on it, "
                "not on fit"
            )
    elif model_keywords:
        check_model(objective, "vae", "fit")
        estimator = given.get("estimator")
        estimator = objective.estimator if estimator is None else estimator
        objective = make_objective(
            objective, estimator, given.get("n_samples", 1), given.get("baseline", False)
        )
    if "labelled_batch_size" in given:  # 0.3: the objective's own setting, which this sets
        target = objective.objective if isinstance(objective, MAP) else objective
        if not hasattr(target, "labelled_batch_size"):
            raise ValueError(
                f"labelled_batch_size: {type(target).__name__} draws no labelled batches "
                "(tv.SemiSupervised does)"
            )
        target.labelled_batch_size = check_int(given["labelled_batch_size"], "labelled_batch_size")
    scale = check_bool(given.get("scale_to_dataset", False), "scale_to_dataset")
    if scale != check_bool(given.get("weight_prior", False), "weight_prior"):
        raise ValueError(
            "scale_to_dataset, weight_prior: AEVB's J takes both; write tv.MAP(objective, n_data)"
        )
    if scale:
        if not isinstance(objective, Objective):
            objective = check_model(objective, "vae", "fit").objective
        objective = MAP(objective, len(data))
    if check_bool(given.get("verbose", True), "verbose"):  # 0.2: progress=False kept the lines
        progress = True if check_bool(progress, "progress") else "epochs"
    else:
        progress = False
    return objective, data, progress


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
    verbose = check_bool(verbose, "verbose")
    return fit(
        wake_sleep,
        optimizer,
        Batches(x_train, batch_size=batch_size, binarize=binarize),
        x_test,
        epochs=epochs,
        rng=rng,
        progress=(True if check_bool(progress, "progress") else "epochs") if verbose else False,
    )
