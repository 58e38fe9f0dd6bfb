"""Gradient checking: compare a hand-written backward pass with finite differences.

The exercise every learner of backprop does. For a function y = f(x) and a
random upstream gradient dy, the scalar s = sum(f(x) * dy) has gradient
ds/dx = J^T dy -- exactly what ``backward(dy)`` must return. The central
difference

    ds/dx_i ~ (s(x + h e_i) - s(x - h e_i)) / 2h

has error O(h^2) plus round-off, so in float64 with h = 1e-5 a correct
backward agrees to about 1e-9 relative error, while a wrong one is off by 1e-2
or more. At a kink (ReLU at exactly 0) the derivative does not exist and the
check rightly fails; move inputs and biases off kinks before checking.

Use it on your own layer::

    report = tv.gradcheck.check_module(MyLayer().astype(np.float64), x)
    print(report)            # one row per input and parameter
    assert report.passed()   # every relative error below 1e-6

``check_module`` follows the module protocol: ``backward`` returns one
gradient per input of ``forward`` (a bare array for a single input), with
``None`` for inputs that are data or noise, which are then not checked, and
adds parameter gradients into ``module.grads``. (A tuple shorter than the
inputs leaves the trailing ones unchecked, the rule of tinyvae 0.1.)
"""

import numpy as np

ABSOLUTE_FLOOR = 1e-3


def rel_error(analytic, numeric, s_scale=1.0):
    """Relative error of two arrays: ||a - n|| / (||a|| + ||n||), 0 when equal.

    Norm-wise, so entries much smaller than the rest (whose finite
    differences are mostly round-off) do not dominate: a correct float64
    backward gives about 1e-9, a wrong one 1e-2 or more. Where the arrays
    differ most is reported separately. A floor of ``ABSOLUTE_FLOOR`` times
    ``s_scale`` (the size |s| of the scalar being differentiated, at least 1)
    keeps an array whose gradient is almost zero from failing on round-off.
    """
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if not (np.isfinite(analytic).all() and np.isfinite(numeric).all()):
        return float("inf")  # a NaN or infinite gradient is never right
    # The floor compares arrays with a tiny gradient in absolute terms. A central
    # difference of s in float64 has round-off of about 1e-16 |s| / h = 1e-11 |s| per
    # entry (more when s sums larger terms that cancel), so differences below
    # tol * floor = 1e-9 |s| are round-off, not a wrong backward.
    floor = ABSOLUTE_FLOOR * max(1.0, s_scale)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric) + floor
    return float(np.linalg.norm(analytic - numeric) / scale)


def numerical_gradient(f, x, dy, h=1e-5):
    """d/dx of sum(f() * dy) by central differences.

    ``f`` takes no arguments and reads ``x``, which is perturbed in place one
    entry at a time and restored. This loop over entries is the method itself
    (one pair of function evaluations per entry), so checks use small shapes.
    """
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views into x and grad
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        plus = _weighted_sum(f(), dy)
        flat_x[i] = original - h
        minus = _weighted_sum(f(), dy)
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * h)
    return grad


def _weighted_sum(outputs, dys):
    outputs, dys = _as_tuple(outputs), _as_tuple(dys)
    return sum(float(np.sum(y * dy)) for y, dy in zip(outputs, dys))


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _require_float64(name, array):
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        dtype = getattr(array, "dtype", type(array).__name__)
        raise TypeError(
            f"gradient checks need float64 arrays ({name} is {dtype}); float32 round-off "
            "swamps finite differences. Use model.astype(np.float64) and x.astype(np.float64)"
        )


class GradcheckReport:
    """One row per checked array: its relative error and where it is worst.

    A row's ``rel_error`` is the norm-wise relative error of the whole array;
    ``worst_index`` is the entry with the largest absolute difference, shown
    with its analytic and numeric values so a bug can be located.
    """

    def __init__(self, tol):
        self.tol = tol
        self.rows = []
        self.s_scale = 1.0  # |s| at the checked point; set by the check functions

    def add(self, name, analytic, numeric):
        if analytic is None or np.shape(analytic) != numeric.shape:
            got = "None" if analytic is None else np.shape(analytic)
            raise ValueError(f"gradient of {name}: expected shape {numeric.shape}, got {got}")
        diff = np.abs(analytic - numeric)
        diff = np.where(np.isfinite(diff), diff, np.inf)
        worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
        self.rows.append(
            {
                "name": name,
                "shape": numeric.shape,
                "rel_error": rel_error(analytic, numeric, self.s_scale),
                "worst_index": tuple(int(i) for i in worst),
                "analytic": float(analytic[worst]) if diff.size else 0.0,
                "numeric": float(numeric[worst]) if diff.size else 0.0,
            }
        )

    @property
    def max_error(self):
        return max((row["rel_error"] for row in self.rows), default=0.0)

    def passed(self, tol=None):
        tol = self.tol if tol is None else tol
        return all(row["rel_error"] < tol for row in self.rows)  # False for NaN too

    def __str__(self):
        header = (
            f"{'name':<28} {'shape':<14} {'rel error':>11}  {'worst at':<12} "
            f"{'analytic':>12} {'numeric':>12}"
        )
        lines = [header, "-" * len(header)]
        for row in self.rows:
            flag = "" if row["rel_error"] < self.tol else "   <-- FAIL"
            lines.append(
                f"{row['name']:<28} {str(row['shape']):<14} {row['rel_error']:>11.2e}  "
                f"{str(row['worst_index']):<12} {row['analytic']:>12.5g} "
                f"{row['numeric']:>12.5g}{flag}"
            )
        verdict = "PASSED" if self.passed() else "FAILED"
        lines.append(
            f"{verdict}: largest relative error {self.max_error:.2e} (tolerance {self.tol:.0e})"
        )
        return "\n".join(lines)


def _check(forward, backward, inputs, n_grads, rng, h, report):
    """Shared core: random dy, one backward, finite differences per input."""
    for i, x in enumerate(inputs):
        _require_float64(f"input {i}", x)
    outputs = _as_tuple(forward(*inputs))
    dys = tuple(rng.standard_normal(np.shape(y)) for y in outputs)
    report.s_scale = abs(_weighted_sum(outputs, dys))
    analytic = _as_tuple(backward(*dys))  # one gradient per input, None for data and noise
    if len(analytic) > len(inputs):
        raise ValueError(
            f"backward returned {len(analytic)} gradients for {len(inputs)} inputs "
            "(expected one per input, None for data and noise)"
        )
    checked = [i for i, grad in enumerate(analytic) if grad is not None]
    if n_grads is not None and len(checked) != n_grads:
        raise ValueError(
            f"backward returned {len(checked)} gradients, expected {n_grads} "
            "(one per differentiable input)"
        )
    for i in checked:
        numeric = numerical_gradient(lambda: forward(*inputs), inputs[i], dys, h)
        report.add(f"input {i}", analytic[i], numeric)
    return dys


def check_function(forward, backward, *inputs, n_grads=None, rng=None, h=1e-5, tol=1e-6):
    """Check ``backward`` against finite differences of ``forward``.

    ``forward(*inputs)`` returns an array or a tuple of arrays;
    ``backward(*dys)`` (called once, right after a forward) returns one
    gradient per input, an array or a tuple, ``None`` for a constant;
    ``n_grads`` says how many must not be ``None``. Inputs must be float64 arrays. Returns a
    ``GradcheckReport``.
    """
    report = GradcheckReport(tol)
    _check(
        forward,
        backward,
        inputs,
        n_grads,
        np.random.default_rng(0) if rng is None else rng,
        h,
        report,
    )
    return report


def _prefill_grads(model, rng):
    """Put random values in every gradient: backward must *add* to them."""
    before = {}
    for name, _, grad in model.parameters():
        grad[...] = rng.standard_normal(grad.shape)
        before[name] = (grad, grad.copy())
    return before


def _accumulated(before, name, grad):
    """What backward added to a gradient, or a clear error if it replaced the array."""
    array, prefill = before[name]
    if grad is not array:
        raise ValueError(
            f"backward replaced the array grads[{name!r}]; it must add into it "
            "in place (an optimizer holds the original array)"
        )
    return grad - prefill


def check_module(module, *inputs, n_grads=None, rng=None, h=1e-5, tol=1e-6, verbose=False):
    """Check a module's input gradients and every parameter's gradient.

    ``module`` and ``inputs`` must be float64; ``n_grads`` is the number of
    inputs that backward must return gradients (not ``None``) for. Parameter
    gradients must be accumulated (added) into ``module.grads``: they are
    prefilled with random values to check that. Returns a
    ``GradcheckReport``; prints it when ``verbose``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    for name, param, _ in module.parameters():
        _require_float64(name, param)
    report = GradcheckReport(tol)
    before = _prefill_grads(module, rng)
    dys = _check(module.forward, module.backward, inputs, n_grads, rng, h, report)
    analytic = {name: _accumulated(before, name, grad) for name, _, grad in module.parameters()}
    for name, param, _ in module.parameters():
        numeric = numerical_gradient(lambda: module.forward(*inputs), param, dys, h)
        report.add(name, analytic[name], numeric)
    module.clear_cache()  # the numeric forwards leave caches that no backward may use
    if verbose:
        print(report)
    return report


def check_loss(model, loss_fn, h=1e-5, tol=1e-6, rng=None, verbose=False):
    """Check a model's parameter gradients for a scalar loss.

    ``loss_fn()`` computes the loss (e.g. ``lambda: vae.loss(x, eps=eps)``,
    deterministic because the noise is fixed); ``model.backward(dloss)`` is
    called with a random upstream scalar ``dloss``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    for name, param, _ in model.parameters():
        _require_float64(name, param)
    report = GradcheckReport(tol)
    dloss = float(rng.standard_normal())
    before = _prefill_grads(model, rng)
    report.s_scale = abs(loss_fn() * dloss)
    model.backward(dloss)
    analytic = {name: _accumulated(before, name, grad) for name, _, grad in model.parameters()}
    for name, param, _ in model.parameters():
        numeric = numerical_gradient(loss_fn, param, dloss, h)
        report.add(name, analytic[name], numeric)
    model.clear_cache()
    if verbose:
        print(report)
    return report
