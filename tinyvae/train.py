"""A small training loop: minibatches, progress bar, history, checkpoints.

    history = tv.fit(model, opt, x_train, x_test, epochs=10, rng=rng,
                     binarize=True, checkpoint="run/vae.npz")

Each epoch draws a fresh permutation (and, with ``binarize=True``, a fresh
binarization of every training image) from ``rng``, takes one optimizer step
per minibatch, then reports the test loss, -ELBO with sampled z, in nats per
example. With ``checkpoint=`` the model, optimizer, RNG and history are saved
after every epoch; ``resume=True`` continues such a run exactly where it
stopped, bit for bit. If the loss turns NaN or infinite, training stops with
``TrainingDiverged`` and the last good checkpoint is left untouched.
"""

import math
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .batching import batches
from .batching import binarize as binarize_pixels
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .weight_prior import add_weight_prior


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
    """Mean -ELBO per example over ``x``, with z sampled from q(z|x)."""
    return float(-np.mean(model.elbo(x, rng=rng, n_samples=n_samples), dtype=np.float64))


def fit(model, optimizer, x_train, x_test=None, *, epochs, rng, batch_size=128,
        binarize=False, n_samples=1, estimator=None, scale_to_dataset=False,
        weight_prior=False, checkpoint=None, resume=False, progress=True, verbose=True):
    """Train ``model`` for ``epochs`` epochs in total; returns a ``History``.

    ``x_test`` is evaluated as given (binarize it once beforehand if
    needed). With ``resume=True`` and an existing ``checkpoint``, the model,
    optimizer, ``rng`` and history are restored from it and training continues
    from the saved epoch up to ``epochs``. ``progress`` shows a bar per epoch;
    ``verbose`` prints one line of losses per epoch.

    ``estimator`` picks the training bound (default: the model's; see
    ``tinyvae.vae``) with ``n_samples`` samples. AEVB's own setup is
    ``scale_to_dataset=True`` (the minibatch gradient times N, the data set
    size) with ``weight_prior=True`` (a N(0, I) prior on every parameter,
    ``tinyvae.weight_prior``). The reported losses are always the bound per
    example, without the prior.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("fit needs rng=np.random.default_rng(seed) for shuffling and noise")
    model.check_data(x_train)
    if x_test is not None:
        model.check_data(x_test)        # now, not after a whole epoch of training
    # Everything that shapes the run beyond the model and the optimizer's arrays:
    # resuming with different values would not continue the same run.
    settings = {"batch_size": batch_size, "binarize": binarize, "n_samples": n_samples,
                "estimator": estimator, "scale_to_dataset": scale_to_dataset,
                "weight_prior": weight_prior, "optimizer": repr(optimizer)}
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
                    f"{settings}. Resume with the same settings, or start a new run.")
            metadata = load_checkpoint(checkpoint, model, optimizer, rng)
            history = History(**metadata["history"])
            start = metadata["epoch"]

    for epoch in range(start + 1, epochs + 1):
        started = time.perf_counter()
        total, count = 0.0, 0
        steps = math.ceil(len(x_train) / batch_size)
        bar = tqdm(batches(x_train, batch_size, rng), total=steps, disable=not progress,
                   desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch")
        for x in bar:
            if binarize:
                x = binarize_pixels(x, rng)
            loss = model.loss(x, rng=rng, n_samples=n_samples, estimator=estimator)
            if not np.isfinite(loss):
                kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
                raise TrainingDiverged(
                    f"loss became {loss} at epoch {epoch}, example {count}: training stopped"
                    f"{kept}. Try a smaller learning rate.")
            model.zero_grad()
            model.backward(dloss)        # N/M sum_i of the bound with scale_to_dataset
            if weight_prior:
                add_weight_prior(model)  # MAP: -log N(theta; 0, I)
            optimizer.step()
            total += loss * len(x)
            count += len(x)
            bar.set_postfix(loss=f"{total / count:.2f}")
        bar.close()

        history.epoch.append(epoch)
        history.train_loss.append(total / count)
        history.test_loss.append(evaluate(model, x_test, rng, n_samples)
                                 if x_test is not None else float("nan"))
        history.seconds.append(time.perf_counter() - started)
        if verbose:
            test = f"  test loss {history.test_loss[-1]:8.3f}" if x_test is not None else ""
            tqdm.write(f"epoch {epoch:3d}  train loss {history.train_loss[-1]:8.3f}{test}  "
                       f"({history.seconds[-1]:.1f} s)")
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, rng, epoch=epoch,
                            history=history.to_dict(), settings=settings)
    return history
