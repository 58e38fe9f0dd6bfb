"""The module protocol that every differentiable piece of tinyvae follows.

A ``Module`` is a function with memory, in the spirit of Torch7's ``nn``:

* ``forward(*inputs)`` computes the output (an array, or a tuple of arrays)
  and keeps in ``self.cache`` exactly what the backward pass will need;
* ``backward(*grad_outputs)`` takes one upstream gradient per output and
  returns one gradient per input, in the same order: an array for a module
  with one input, a tuple for several, and ``None`` in place of the gradient
  of an input that is data, a label or noise. It **adds** the gradients of
  the parameters into ``self.grads`` (a parameter used twice gets both
  contributions); ``zero_grad()`` resets them: zeroing is explicit.

A flow step, for example, is ``forward(z, h) -> (z_new, log_det)`` and
``backward(dz_new, dlog_det) -> (dz, dh)``. Noise is always an input: no
module draws random numbers, so each one is a deterministic function that a
gradient check can test.

Parameters live in ``self.params`` by short name (``"W"``, ``"b"``); a model
made of modules lists them recursively with qualified names such as
``"encoder.layers.0.W"``. Those names key the optimizer state and checkpoints.
A parameter reachable by two paths (a network that two parts of a model use)
is listed once, under the first name found.

Two ways to name a forward/backward pair, no more: ``forward``/``backward``,
and ``forward_X``/``backward_X`` for a second pass of the same module that
keeps its own cache (a posterior's ``forward_kl``/``backward_kl``).
``log_prob`` (and ``encode``, ``sample``, ``mean``) evaluate and keep nothing.

A backward pass consumes its cache, through one guard, ``Saves``: a forward
keeps what its backward needs with ``self.save(...)`` and the backward takes
it with ``self.take()``. Calling ``backward`` twice, without a ``forward``
before it, or after another kind of forward pass raises an error instead of
silently reusing stale values. Every ``save`` makes a new record, so an
objective that noted its parts' records can tell, before its backward adds a
single gradient, that no other forward pass replaced them. To apply one
module twice before either backward, use ``shared_copy()``: the copy shares
the parameters and gradients and keeps its own cache (Torch7's
``clone("weight", "bias", "gradWeight", "gradBias")``).
"""

import copy
import warnings

import numpy as np

from ..validation import check_dtype


class Record(tuple):
    """``(phase, values, held)``: what one forward pass saved (``Saves.save``), and the
    records of the modules whose activations it built on."""


class Saves:
    """The one cache guard, for modules and objectives: ``save`` in a forward pass,
    ``take`` in its backward, once."""

    cache = None  # the Record of the last forward pass, until its backward takes it

    def save(self, *values, phase="forward", holding=()):
        """Keep ``values`` for the backward of this forward pass; ``phase`` names the
        forward pass ("forward", "forward_kl", ...). Each call makes a new record.

        ``holding``: the modules whose activations this backward will use (an
        objective's model parts); ``take`` refuses if any of them has run another
        forward pass since, so a backward never mixes two forward passes.
        """
        held = []
        for module in holding:
            if module.cache is not None:
                held.append((module, module.cache))
        self.cache = Record((phase, values, held))

    def take(self, phase="forward"):
        """What the last forward pass saved, used up: one value, or a tuple of them.

        Refuses, leaving the cache as it was, when there is nothing to take (no
        forward, a second backward, or an evaluation that keeps nothing) or when
        the last forward pass was another ``phase``.
        """
        if self.cache is None or self.cache[0] != phase:
            raise self._refusal(phase)
        for module, record in self.cache[2]:
            if module.cache is not record:  # its activations are another forward pass's
                raise self._replaced(module, phase)
        values, self.cache = self.cache[1], None
        return values[0] if len(values) == 1 else values

    def _refusal(self, phase):
        """The error for a ``take`` with nothing to take, or after another phase."""
        name = type(self).__name__
        if self.cache is None:
            return RuntimeError(
                f"{name}: a backward pass called without a matching {phase}(); call "
                f"{phase}() first (for a model, loss()) -- each forward allows exactly one "
                "backward, and evaluation calls keep nothing to backpropagate"
            )
        return RuntimeError(
            f"{name}: the last forward pass was {self.cache[0]}(), so this backward, the one "
            f"of {phase}(), cannot use it"
        )

    def _replaced(self, module, phase):
        """The error for a ``take`` whose held ``module`` ran another forward pass."""
        return RuntimeError(
            f"{type(self).__name__}: after {phase}(), another forward pass on the same model "
            f"(another objective's loss(), model.loss() or an evaluation such as model.elbo() "
            f"or model.encode()) replaced or cleared the activations of its "
            f"{type(module).__name__}; call {phase}() again. No gradient was changed."
        )


class Module(Saves):
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

    # -- the cache ---------------------------------------------------------------
    def _pop_cache(self):
        """tinyvae 0.2's one-slot cache, for modules written as ``self.cache = x`` and
        ``x = self._pop_cache()``: use ``self.save(x)`` and ``self.take()``."""
        warnings.warn(
            "Module._pop_cache() is tinyvae 0.2's; keep values with self.save(...) in "
            "forward and get them back with self.take() in backward",
            DeprecationWarning,
            stacklevel=2,
        )
        if self.cache is None or isinstance(self.cache, Record):  # saved by save()
            return self.take(self.cache[0] if self.cache is not None else "forward")
        cache, self.cache = self.cache, None  # set as self.cache = ...
        return cache

    def clear_cache(self):
        """Forget every forward cache in this module and its children.

        Evaluation code calls this so that a later ``backward`` cannot consume
        values computed for another purpose.
        """
        self.cache = None
        for _, child in self.children():
            child.clear_cache()

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
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{attr}.{i}", item

    def modules(self, prefix=""):
        """Yield ``(qualified_name, module)`` for this module and every sub-module, once.

        A module reachable by two paths (a network that two parts of a model
        use) is visited once, under the first name found.
        """
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            # reversed, so that children come out in the order they were assigned
            stack.extend(
                (name + child_name + ".", child)
                for child_name, child in reversed(list(module.children()))
            )

    def parameters(self, prefix=""):
        """Yield ``(qualified_name, param, grad)`` for this module and its children.

        Each parameter array appears once, under the first name that reaches it
        (a shared copy's parameters are its original's).
        """
        seen = set()
        for module_prefix, module in self.modules(prefix):
            for name, param in module.params.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield module_prefix + name, param, module.grads[name]

    def __repr__(self):
        return f"{type(self).__name__}()"  # layers with settings say them (Linear, ...)

    def zero_grad(self):
        """Set every gradient to zero, this module's and its children's."""
        for grad in self.grads.values():
            grad.fill(0.0)
        for _, child in self.children():
            child.zero_grad()

    def num_parameters(self):
        """How many numbers training can change: each parameter once, masked weights
        (``MaskedLinear``'s zeros, which never move) left out."""
        seen, count = set(), 0
        for _, module in self.modules():
            mask = getattr(module, "mask", None)
            for name, param in module.params.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    count += int(mask.sum()) if name == "W" and mask is not None else param.size
        return count

    def shared_copy(self):
        """The same module with its own cache: parameters and gradients are shared.

        Use it to apply a module twice before either backward; the gradients
        of both applications add up in the one ``grads`` dict.
        """
        twin = copy.copy(self)  # the same params and grads dicts
        twin.cache = None
        for attr, value in vars(self).items():
            if isinstance(value, Module):
                setattr(twin, attr, value.shared_copy())
            elif isinstance(value, list) and any(isinstance(v, Module) for v in value):
                setattr(
                    twin, attr, [v.shared_copy() if isinstance(v, Module) else v for v in value]
                )
        return twin

    # -- dtype and state -------------------------------------------------------
    def astype(self, dtype):
        """Convert every parameter (and gradient) to ``dtype``; returns self.

        Used to run gradient checks in float64 on a model trained in float32.
        The arrays are replaced, so create optimizers *after* converting. The
        old arrays become read-only, so that an optimizer made before refuses
        to step instead of updating arrays nobody uses.
        """
        dtype = check_dtype(dtype)
        self.dtype = dtype
        for name in list(self.params):
            if self.params[name].dtype != dtype:  # a shared module is reached twice
                old_param, old_grad = self.params[name], self.grads[name]
                self.params[name] = old_param.astype(dtype)
                self.grads[name] = old_grad.astype(dtype)
                old_param.flags.writeable = old_grad.flags.writeable = False
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
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
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
