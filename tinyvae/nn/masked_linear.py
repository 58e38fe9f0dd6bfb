"""A linear layer whose weights are multiplied by a fixed binary mask (MADE's building block).

    y = x (W * M) + b                    x: (B, in), M: (in, out) of 0s and 1s

A zero in M cuts the connection from input i to output j, for good: the
mask enters the forward pass, and the backward pass masks dL/dW as well,

    dL/dW = (x^T dL/dy) * M,   dL/dx = dL/dy (W * M)^T,   dL/db = sum_batch dL/dy

so a masked weight never receives a gradient and an optimizer never moves it
(Germain, Gregor, Murray & Larochelle 2015, section 4).
"""

import numpy as np

from ..validation import check_bool, check_choice, check_dtype, check_rng
from .linear import INITS, init_weights
from .module import Module


def check_mask(mask, name="mask"):
    """A 2-D array of zeros and ones (bool or numbers); returned as bool."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or 0 in mask.shape:
        raise ValueError(
            f"{name}: expected a non-empty 2-D array (in, out), got shape {mask.shape}"
        )
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
            raise ValueError(f"{name}: expected only zeros and ones")
        mask = mask.astype(bool)
    return mask


class MaskedLinear(Module):
    """``y = x @ (W * mask) + b`` with a fixed binary ``mask`` of shape (in, out).

    The weights are drawn as for ``Linear`` (``init`` names the scheme); the
    masked ones are set to zero so that ``params["W"]`` shows the layer as it
    acts. ``input_grad=False`` skips dL/dx for a layer fed with data.
    """

    def __init__(self, mask, init="glorot_uniform", rng=None, dtype=np.float32, input_grad=True):
        super().__init__()
        mask = check_mask(mask)
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        self.input_grad = check_bool(input_grad, "input_grad")
        rng = np.random.default_rng() if rng is None else check_rng(rng, "MaskedLinear")
        self.in_features, self.out_features = mask.shape
        W, b = init_weights(init, self.in_features, self.out_features, rng, self.dtype)
        self.mask = mask.astype(self.dtype)  # 0.0 and 1.0: multiplies W
        self.add_param("W", W * self.mask)
        self.add_param("b", b)

    def astype(self, dtype):
        super().astype(dtype)
        self.mask = self.mask.astype(self.dtype)
        return self

    def forward(self, x):
        self.save(x)
        # W * mask and not W alone: an optimizer's update could have moved a masked weight
        # only if someone wrote into W by hand; the product keeps the connection cut anyway
        y = x @ (self.params["W"] * self.mask)
        y += self.params["b"]
        return y

    def backward(self, dy):
        x = self.take()
        # dL/dW_ij = M_ij sum_n x_ni dL/dy_nj: a cut connection gets no gradient.
        # A cut entry can overflow to inf (a huge input paired with a huge gradient that
        # it never reaches), and inf * 0 is NaN: those are set to 0. (The test for NaN
        # costs little; np.where(cut, 0, ...) on every call would double the time.)
        with np.errstate(over="ignore", invalid="ignore"):
            dW = (x.T @ dy) * self.mask
        if np.isnan(dW).any():
            np.copyto(dW, 0, where=self.mask == 0)
        self.grads["W"] += dW
        self.grads["b"] += dy.sum(axis=0)
        if not self.input_grad:
            return None
        return dy @ (self.params["W"] * self.mask).T  # dL/dx_ni = sum_j dL/dy_nj W_ij M_ij

    def __repr__(self):
        kept = int(self.mask.sum())
        return f"MaskedLinear({self.in_features}, {self.out_features}, {kept} connections)"
