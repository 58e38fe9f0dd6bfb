"""The first layer of a network that reads an example and a one-hot label (M2's q(z|x, y)).

    h = [x, y] W + b = x W_x + y W_y + b,      W = [W_x; W_y]  (x's D rows, then y's K)

M2's bound on an unlabelled example sums over all K labels (Kingma, Rezende,
Mohamed & Welling 2014, eq. 7), so K rows of the encoder's input read the
same x. Written as one ``Linear`` on the concatenated rows, x W_x, the
layer's largest product, would be computed K times over; here it is
computed once per example and shared by the rows that read it:

    h_r = (x W_x)_{rows[r]} + y_r W_y + b

``LabelledRows(x, rows, y)`` says which example each row reads. W and b
have the shapes and names of the ``Linear`` on [x, y] (``encoder.layers.0.W``
is (D + K, H)), and the layer computes the same numbers up to rounding.
"""

from typing import NamedTuple

import numpy as np

from .module import Module


class LabelledRows(NamedTuple):
    """Rows of [x, y]: row r is [x[rows[r]], y[r]]. x (B, D), rows (R,) integers, y (R, K)."""

    x: np.ndarray
    rows: np.ndarray
    y: np.ndarray

    @classmethod
    def one_each(cls, x, y):
        """Row b is [x_b, y_b]: one label per example."""
        return cls(x, np.arange(len(x)), y)

    def concatenated(self):
        """The rows as one (R, D + K) array, as a ``Linear`` on [x, y] would read them."""
        return np.concatenate([self.x[self.rows], self.y], axis=1)


class LabelledLinear(Module):
    """``forward(LabelledRows) -> h`` (R, H); ``backward(dh) -> None``: x and y are data.

    Forward:  h = S^T (x W_x) + y W_y + b, where S (B, R) has S[b, r] = 1 if row r
              reads example b: row r picks its example's x W_x
    Backward: dL/dW_x = x^T (S dL/dh),  dL/dW_y = y^T dL/dh,  dL/db = sum_rows dL/dh

    ``linear`` is a ``Linear(x_dim + K, H)`` whose W and b it takes over
    (the same arrays), so that an M2 draws its weights as before.
    """

    def __init__(self, linear, x_dim):
        super().__init__()
        self.x_dim, self.n_classes = x_dim, linear.in_features - x_dim
        self.out_features = linear.out_features
        self.params, self.grads = linear.params, linear.grads  # W (D + K, H) and b

    def forward(self, inputs):
        if not isinstance(inputs, LabelledRows):
            raise TypeError(
                "LabelledLinear: expected LabelledRows(x, rows, y) (one label per example: "
                f"LabelledRows.one_each(x, y)), got {type(inputs).__name__}"
            )
        x, rows, y = inputs
        W = self.params["W"]
        self.save(x, rows, y)
        xw = x @ W[: self.x_dim]  # (B, H): once per example
        h = xw[rows]  # row r takes its example's: S^T (x W_x)
        h += y @ W[self.x_dim :]  # its label's row of W_y (y is one-hot)
        h += self.params["b"]
        return h

    def backward(self, dh):
        x, rows, y = self.take()
        # dL/dW_x = x^T (S dL/dh): each example gets the sum of the gradients of the rows
        # that read it. Written for speed: that is B R H + D B H multiplications, and
        # x[rows]^T dL/dh (the same sum, row by row) is D R H, fewer for one row per
        # example or for a narrow x (M1+M2's 50-d codes); S wins for M2's images.
        B, D, R = len(x), x.shape[1], len(rows)
        if B * (R + D) < D * R:
            reads = np.zeros((B, R), dtype=dh.dtype)  # S
            reads[rows, np.arange(R)] = 1
            self.grads["W"][: self.x_dim] += x.T @ (reads @ dh)
        else:
            self.grads["W"][: self.x_dim] += x[rows].T @ dh
        self.grads["W"][self.x_dim :] += y.T @ dh
        self.grads["b"] += dh.sum(axis=0)
        return None

    def __repr__(self):
        return f"LabelledLinear({self.x_dim} + {self.n_classes}, {self.out_features})"
