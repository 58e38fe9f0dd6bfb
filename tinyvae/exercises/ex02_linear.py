"""Exercise 2: the backward pass of a fully connected layer, y = x W + b.

x is (B, in), W is (in, out), b is (out,), y is (B, out). Given dy = dL/dy,

    dL/dx = dy W^T                 (B, out) @ (out, in)  -> (B, in)
    dL/dW = x^T dy                 (in, B)  @ (B, out)   -> (in, out)
    dL/db = sum over the batch of dy                     -> (out,)

(each entry: dL/dW_ij = sum_n x_ni dy_nj; b is added to every row, so its
gradient sums the rows). The parameter gradients are *added* into
``self.grads["W"]`` and ``self.grads["b"]``: gradients accumulate, so a
weight used twice gets both contributions. ``backward`` returns dL/dx.
"""

import numpy as np

from ..nn.linear import Linear
from .exercise import Exercise, Mistake, module_trial


def trial(linear, rng):
    # a square layer, so that a transposed gradient has the right shape and its values show
    layer = linear(4, 4, rng=np.random.default_rng(1), dtype=np.float64)
    return module_trial(layer, {"x": rng.normal(size=(5, 4))}, rng=rng)


class _TransposedDW(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += dy.T @ x
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class _DxWithoutTranspose(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"]


class _AveragedDb(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy
        self.grads["b"] += dy.mean(axis=0)
        return dy @ self.params["W"].T


class _Overwrites(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"][...] = x.T @ dy
        self.grads["b"][...] = dy.sum(axis=0)
        return dy @ self.params["W"].T


class _IgnoresDyInDW(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ np.ones_like(dy)
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class _BatchSummedBeforeDW(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += np.outer(x.sum(axis=0), dy.sum(axis=0))
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


class _DxFromTheGradient(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.grads["W"].T  # the gradient just accumulated, not the weights


class _DxThroughTheInverse(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy
        self.grads["b"] += dy.sum(axis=0)
        return dy @ np.linalg.pinv(self.params["W"])  # "undo the layer"


class _WeightDecayInDW(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy + 1e-4 * self.params["W"]  # "a little L2 regularization"
        self.grads["b"] += dy.sum(axis=0)
        return dy @ self.params["W"].T


EXERCISE = Exercise(
    number=2,
    chapter="AEVB",
    slug="linear",
    title="Linear: dW, db and dx of y = x W + b",
    target="Linear",
    reference=Linear,
    trial=trial,
    solution="tinyvae/nn/linear.py, Linear.backward",
    hints=[
        "The chain rule, one entry at a time: y_nj = sum_i x_ni W_ij + b_j, so each of "
        "W_ij, b_j and x_ni reaches L through several entries of y, whose gradients add up. "
        "Aim for the shapes: dW (in, out) like W, db (out,) like b, dx (B, in) like x.",
        "dL/dW_ij = sum over the batch n of x_ni * dy_nj (W_ij touches column j of every "
        "row). Which matrix product is that? b_j and x_ni go the same way.",
        "dW = x.T @ dy; db = dy.sum(axis=0); dx = dy @ W.T. Add the first two into "
        "self.grads with +=, return the third.",
    ],
    mistakes=[
        Mistake(
            "transposed dW",
            _TransposedDW,
            "dW is the transpose of the right answer, which has W's shape (in, out) "
            "(hint 2 of 3 derives it entry by entry)",
        ),
        Mistake(
            "dx without the transpose",
            _DxWithoutTranspose,
            "dx uses W where W^T belongs, a missing transpose "
            "(hint 2 of 3 derives the gradients entry by entry)",
        ),
        Mistake(
            "averaged db",
            _AveragedDb,
            "db is B times too small: sum over the batch, don't average",
        ),
        Mistake(
            "= for +=",
            _Overwrites,
            "you overwrote grads instead of adding to them: use +=, gradients accumulate",
        ),
        Mistake(
            "dW ignores dy",
            _IgnoresDyInDW,
            "dW ignores dy: by the chain rule every entry of dW depends on the upstream gradient "
            "dy (hint 2 of 3 derives it)",
        ),
        Mistake(
            "dW from the batch sums",
            _BatchSummedBeforeDW,
            "dW multiplies x and dy after summing each over the batch: the sum of products "
            "is not the product of sums, each example's x must meet its own dy "
            "(hint 2 of 3 derives it entry by entry)",
        ),
        Mistake(
            "dx from the gradient dW",
            _DxFromTheGradient,
            'dx goes back through self.grads["W"], the gradient dW just accumulated, where the '
            'weights themselves belong, self.params["W"]: x reaches y through W, the matrix '
            "the forward multiplied it by (hint 2 of 3 derives the gradients entry by entry)",
        ),
        Mistake(
            "dx through the inverse of W",
            _DxThroughTheInverse,
            "dx inverts W (pinv) where a transpose belongs: the backward pass does not undo "
            "the forward, it sends dy back along the same weights, each x_ni collecting from "
            "every y_nj it reaches (hint 2 of 3 derives the gradients entry by entry)",
        ),
        Mistake(
            "weight decay added to dW",
            _WeightDecayInDW,
            "dW adds a weight-decay term, 1e-4 * W, to the gradient: the layer's backward "
            "returns the gradient of L alone, through y = x W + b; an L2 penalty belongs to the "
            "objective or the optimizer, not to the layer (hint 2 of 3 derives dW entry by "
            "entry)",
        ),
    ],
)
