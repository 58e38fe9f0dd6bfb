"""Minibatches and dynamic binarization.

Stochastic gradient training (AEVB Algorithm 1) visits the training set in
random minibatches: one epoch is one pass over a random permutation of the
rows. :func:`batches` does exactly that, and nothing else. :class:`Batches`
is what ``tinyvae.fit`` trains on: the rows, their labels if any, and how
they are cut into batches; each objective draws its own batches from it.

:func:`binarize` implements *dynamic binarization*: grey-level images are
turned into binary ones by drawing each pixel from a Bernoulli distribution
whose mean is the grey level, afresh every time a batch is used. A Bernoulli
decoder then models data that really is binary, and the fresh draws act as a
regulariser (the model never sees the same binary image twice).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..validation import check_bool, check_int, check_rng

__all__ = ["Batches", "batches", "binarize"]


def batches(
    x: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    labels: np.ndarray | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, np.ndarray]]:
    """Iterate over one epoch of minibatches of the rows of ``x``.

    Parameters
    ----------
    x : array whose first axis indexes examples.
    batch_size : number of rows per batch (the last one may be smaller).
    rng : generator that draws the epoch's permutation; required if ``shuffle``.
    labels : optional array with one entry per row of ``x``; if given, the
        iterator yields ``(x_batch, labels_batch)`` pairs with matching rows.
    shuffle : visit the rows in random order (True) or in their stored order.
    drop_last : skip the final batch if it has fewer than ``batch_size`` rows.

    Every row is yielded exactly once per epoch (except those in a dropped
    last batch). The arguments are checked when ``batches`` is called, not
    when iteration starts.
    """
    x = np.asarray(x)
    batch_size = check_int(batch_size, "batch_size")
    shuffle, drop_last = check_bool(shuffle, "shuffle"), check_bool(drop_last, "drop_last")
    if x.ndim == 0:
        raise ValueError("x must have a first axis indexing examples, got a 0-dimensional array")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 0 or len(labels) != len(x):
            raise ValueError(
                f"labels must have one entry per row of x ({len(x)}), got shape {labels.shape}"
            )
    if shuffle:
        if rng is None:
            raise TypeError(
                "shuffle=True needs rng, a np.random.Generator such as np.random.default_rng(0)"
            )
        check_rng(rng, "batches")
        order = rng.permutation(len(x))
    else:
        order = np.arange(len(x))

    stop = len(x) - len(x) % batch_size if drop_last else len(x)

    def epoch():
        for start in range(0, stop, batch_size):
            index = order[start : start + batch_size]
            yield x[index] if labels is None else (x[index], labels[index])

    return epoch()


def binarize(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dynamic binarization: each pixel becomes 1 with probability ``x``, else 0.

    ``x`` holds grey levels in [0, 1] (floating point); the result has the
    same shape and dtype and contains only 0 and 1. Its expectation is ``x``.
    """
    check_rng(rng, "binarize")
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"binarize expects grey levels in [0, 1] as floats, got dtype {x.dtype} "
            f"(for uint8 images divide by 255 first)"
        )
    if np.isnan(x).any():
        raise ValueError("binarize expects grey levels in [0, 1], got NaN")
    if x.size and not (np.min(x) >= 0 and np.max(x) <= 1):
        raise ValueError(
            f"binarize expects grey levels in [0, 1], got values from {np.min(x)} to {np.max(x)}"
        )
    # A uniform u in [0, 1) is below p with probability exactly p.
    return (rng.random(x.shape) < x).astype(x.dtype)


class Batches:
    """Training data as ``tinyvae.fit`` visits it: the rows of ``x`` (and their
    ``labels``) in random minibatches of ``batch_size``, each freshly binarized
    when ``binarize`` is set, the last smaller batch skipped with ``drop_last``.

        data = tv.Batches(x_train, batch_size=100, binarize=True)
        tv.fit(model, optimizer, data, x_test, epochs=10, rng=rng)

    ``labels`` gives the class of each row: every row's for a classifier, or
    -1 where it is unknown for semi-supervised training. The objective checks
    ``x`` and ``labels`` and draws its batches (``Objective.batches``).
    """

    def __init__(self, x, labels=None, *, batch_size=128, binarize=False, drop_last=False):
        self.x, self.labels = x, labels
        self.batch_size = check_int(batch_size, "batch_size")
        self.binarize = check_bool(binarize, "binarize")
        self.drop_last = check_bool(drop_last, "drop_last")

    def __repr__(self):
        labels = "" if self.labels is None else ", labels"
        return (
            f"Batches({len(self.x)} rows{labels}, batch_size={self.batch_size}, "
            f"binarize={self.binarize}, drop_last={self.drop_last})"
        )

    def __len__(self):
        return len(self.x)

    def settings(self):
        """What a checkpoint records of how the data was batched (``tinyvae.runs``)."""
        settings = {"batch_size": self.batch_size, "binarize": self.binarize}
        if self.drop_last:
            settings["drop_last"] = True
        return settings

    def steps(self, n_rows):
        """The number of batches in an epoch over ``n_rows`` rows."""
        return n_rows // self.batch_size if self.drop_last else -(-n_rows // self.batch_size)

    def present(self, x, rng):
        """A batch as training sees it: a fresh binarization of ``x`` if asked for."""
        return binarize(x, rng) if self.binarize else x

    def epoch(self, rng):
        """One epoch of batches of rows in random order, as dicts of ``loss`` arguments:
        ``{"x": x}``, or ``{"x": x, "labels": y}`` with labels."""
        if self.labels is None:
            for x in batches(self.x, self.batch_size, rng, drop_last=self.drop_last):
                yield {"x": self.present(x, rng)}
        else:
            for x, y in batches(
                self.x, self.batch_size, rng, labels=self.labels, drop_last=self.drop_last
            ):
                yield {"x": self.present(x, rng), "labels": y}
