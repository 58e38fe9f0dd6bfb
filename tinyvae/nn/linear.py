"""The fully connected layer ``y = x @ W + b`` and the initialisations people use."""

import numpy as np

from ..validation import check_bool, check_choice, check_dtype, check_int, check_rng
from .module import Module

INITS = ("glorot_uniform", "he_uniform", "aevb_normal", "pytorch")


def init_weights(scheme, fan_in, fan_out, rng, dtype):
    """Draw ``(W, b)`` for a ``fan_in -> fan_out`` layer by a named scheme.

    ``glorot_uniform``  W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), b = 0
                        (Glorot & Bengio 2010; suits tanh and sigmoid).
    ``he_uniform``      W ~ U(-a, a), a = sqrt(6 / fan_in), b = 0
                        (He et al. 2015; keeps the variance through ReLUs).
    ``aevb_normal``     W, b ~ N(0, 0.01^2), as in AEVB section 5
                        ("initialized by random sampling from N(0, 0.01)").
    ``pytorch``         W, b ~ U(-a, a), a = 1 / sqrt(fan_in): the default of
                        PyTorch's ``nn.Linear``, for like-for-like comparisons.
    """
    shape = (fan_in, fan_out)
    if scheme == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W, b = rng.uniform(-limit, limit, shape), np.zeros(fan_out)
    elif scheme == "he_uniform":
        limit = np.sqrt(6.0 / fan_in)
        W, b = rng.uniform(-limit, limit, shape), np.zeros(fan_out)
    elif scheme == "aevb_normal":
        W, b = rng.normal(0.0, 0.01, shape), rng.normal(0.0, 0.01, fan_out)
    elif scheme == "pytorch":
        limit = 1.0 / np.sqrt(fan_in)
        W, b = rng.uniform(-limit, limit, shape), rng.uniform(-limit, limit, fan_out)
    else:
        raise ValueError(
            f"unknown init {scheme!r}; expected one of "
            "'glorot_uniform', 'he_uniform', 'aevb_normal', 'pytorch'"
        )
    return W.astype(dtype), b.astype(dtype)


class Linear(Module):
    """Affine map ``y = x @ W + b`` with ``W`` of shape ``(in_features, out_features)``.

    Forward:  y = x W + b                    x: (B, in), y: (B, out)
    Backward: dL/dx = dL/dy W^T,  dL/dW = x^T dL/dy,  dL/db = sum_batch dL/dy

    With ``input_grad=False`` (a first layer fed with data) backward skips
    the product for dL/dx and returns None, the protocol's gradient of data:
    nobody needs the gradient of the data.
    """

    def __init__(
        self,
        in_features,
        out_features,
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
        input_grad=True,
    ):
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        self.input_grad = check_bool(input_grad, "input_grad")
        rng = np.random.default_rng() if rng is None else check_rng(rng, "Linear")
        W, b = init_weights(init, in_features, out_features, rng, self.dtype)
        self.add_param("W", W)
        self.add_param("b", b)

    def forward(self, x):
        self.save(x)
        y = x @ self.params["W"]
        y += self.params["b"]  # in place: no second (B, out) array
        return y

    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy  # dL/dW_ij = sum_n x_ni dL/dy_nj
        self.grads["b"] += dy.sum(axis=0)  # b is added to every row of the batch
        if not self.input_grad:
            return None
        return dy @ self.params["W"].T  # dL/dx_ni = sum_j dL/dy_nj W_ij

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"
