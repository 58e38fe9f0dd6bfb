"""The module protocol that every trainable piece of tinyvae follows.

A ``Module`` is a function with memory, in the spirit of Torch7's ``nn``:

* ``forward(x)`` computes the output and keeps in ``self.cache`` exactly what
  the backward pass will need;
* ``backward(dy)`` takes the gradient of the loss with respect to the output,
  returns the gradient with respect to the input, and **adds** the gradients
  with respect to the parameters into ``self.grads`` (accumulation, so a
  parameter used twice gets both contributions);
* ``zero_grad()`` resets the accumulated gradients: zeroing is explicit.

Parameters live in ``self.params`` by short name (``"W"``, ``"b"``); a model made
of modules lists them recursively with qualified names such as
``"encoder.layers.0.W"``. Those names key the optimizer state and checkpoints.

A backward pass consumes its cache: calling ``backward`` twice, or without a
``forward`` before it, raises an error instead of silently reusing stale values.
"""

import numpy as np


class Module:
    """Base class: parameters, gradients, cache handling and recursion."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.cache = None

    # -- the contract every subclass implements --------------------------------
    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError

    def __call__(self, *inputs):
        return self.forward(*inputs)

    # -- cache helpers ---------------------------------------------------------
    def _pop_cache(self):
        """Return what ``forward`` stored and forget it (one backward per forward)."""
        if self.cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called without a matching forward pass; "
                "run forward() (for a model: loss()) first -- each forward allows exactly "
                "one backward, and evaluation calls keep nothing to backpropagate"
            )
        cache, self.cache = self.cache, None
        return cache

    # -- parameters ------------------------------------------------------------
    def add_param(self, name, value):
        """Register a parameter and a zero gradient of the same shape and dtype."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def children(self):
        """Sub-modules, by attribute name (lists of modules are numbered)."""
        for attr, value in vars(self).items():
            if isinstance(value, Module):
                yield attr, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{attr}.{i}", item

    def parameters(self, prefix=""):
        """Yield ``(qualified_name, param, grad)`` for this module and its children."""
        for name, value in self.params.items():
            yield prefix + name, value, self.grads[name]
        for child_name, child in self.children():
            yield from child.parameters(prefix + child_name + ".")

    def clear_cache(self):
        """Forget every forward cache in this module and its children.

        Evaluation code calls this so that a later ``backward`` cannot consume
        values computed for another purpose.
        """
        self.cache = None
        for _, child in self.children():
            child.clear_cache()

    def zero_grad(self):
        for _, _, grad in self.parameters():
            grad.fill(0.0)

    def num_parameters(self):
        return sum(param.size for _, param, _ in self.parameters())

    # -- dtype and state -------------------------------------------------------
    def astype(self, dtype):
        """Convert every parameter (and gradient) to ``dtype``; returns self.

        Used to run gradient checks in float64 on a model trained in float32.
        The arrays are replaced, so create optimizers *after* converting: an
        optimizer made before would keep updating the old arrays.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"astype expects a floating dtype, got {dtype}")
        self.dtype = dtype
        for name in list(self.params):
            self.params[name] = self.params[name].astype(dtype)
            self.grads[name] = self.grads[name].astype(dtype)
        for _, child in self.children():
            child.astype(dtype)
        self.cache = None
        return self

    def state_dict(self):
        """Parameters by qualified name (copies), for checkpoints."""
        return {name: param.copy() for name, param, _ in self.parameters()}

    def check_state_dict(self, state):
        """Raise ValueError unless ``state`` has exactly our names, shapes and dtypes."""
        own = {name: param for name, param, _ in self.parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                "state does not match this model's architecture: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
            )
        for name, param in own.items():
            value = np.asarray(state[name])
            if value.shape != param.shape or value.dtype != param.dtype:
                raise ValueError(
                    f"parameter {name!r}: expected shape {param.shape} and dtype {param.dtype}, "
                    f"got {value.shape} {value.dtype} (state from another architecture?)"
                )

    def load_state_dict(self, state):
        """Copy parameters in place, after checking all of them (nothing half-loaded)."""
        self.check_state_dict(state)
        for name, param, _ in self.parameters():
            param[...] = state[name]


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        # Chain rule: dL/dx = J_1^T ... J_n^T dL/dy, applied from the last layer down.
        for i in range(len(self.layers) - 1, -1, -1):
            dy = self.layers[i].backward(dy)
            if dy is None and i > 0:
                raise RuntimeError(f"layer {i} returned no input gradient (input_grad=False) "
                                   "but is not the first layer")
        return dy

    def __repr__(self):
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


def unbroadcast(grad, shape):
    """Sum a gradient over the axes that broadcasting added or stretched.

    If ``y = f(a)`` broadcast ``a`` of ``shape`` up to ``grad.shape``, every
    copy of an entry of ``a`` contributed, so dL/da is the sum over the copies.
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def check_input(x, name, ndim=None, last_dim=None, dtype=None):
    """Validate an input array and return it; raise a clear error otherwise.

    Checks, in order: it is a NumPy floating array, the number of axes, the
    size of the last axis, the dtype, and that every value is finite.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} axes, got shape {x.shape}")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise ValueError(f"{name}: expected last axis of size {last_dim}, got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} (the model's dtype), got {x.dtype}; "
            f"convert the data with .astype({np.dtype(dtype).name}) or the model with .astype()"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    return x
