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
``None`` for inputs that are data or noise (name them with ``constant=``),
and adds parameter gradients into ``module.grads``. The checker never
passes what it did not check: a missing ``return``, ``None`` where a
gradient was due, a gradient for data, the wrong number or shape of
gradients and a replaced ``grads`` array are failures, each with a sentence
in the report.
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
    for i in np.ndindex(x.shape):  # indexes x itself, also when it is a strided view
        original = x[i]
        x[i] = original + h
        plus = _weighted_sum(f(), dy)
        x[i] = original - h
        minus = _weighted_sum(f(), dy)
        x[i] = original
        grad[i] = (plus - minus) / (2 * h)
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


GOOD, WRONG = 1e-7, 1e-2  # CS231n's bands for a relative error in float64


def verdict(error):
    """What a relative error says, in CS231n's bands."""
    if error <= GOOD:
        return "good"
    if error > WRONG:
        return "wrong"
    return "look again (a kink? float32?)"


class GradcheckReport:
    """One row per checked array, and a sentence for everything that could not be checked.

    A row's ``rel_error`` is the norm-wise relative error of the whole array,
    with its ``verdict`` in CS231n's bands (<= 1e-7 good, > 1e-2 wrong, in
    between look again); ``worst_index`` is the entry with the largest
    absolute difference, shown with its analytic and numeric values so a bug
    can be located. ``problems`` lists what made a check impossible: no
    gradient returned, ``None`` where an array was due, a gradient for data,
    the wrong number or shape of gradients, ``grads`` replaced instead of
    added to. A report passes only if there are no problems, at least one
    array was checked, and every error is below ``tol``; ``bool(report)`` is
    ``report.passed()``, so ``assert report`` works.
    """

    def __init__(self, tol):
        self.tol = tol
        self.rows = []
        self.problems = []
        self.s_scale = 1.0  # |s| at the checked point; set by the check functions

    def problem(self, sentence):
        self.problems.append(sentence)

    def add(self, name, analytic, numeric):
        """Compare one gradient with its finite differences (a problem if it cannot be)."""
        if analytic is None:
            self.problem(f"{name}: backward gave None, but it has a gradient")
            return
        if not isinstance(analytic, np.ndarray):
            self.problem(f"{name}: expected an array, got {type(analytic).__name__}")
            return
        if analytic.shape != numeric.shape:
            hint = " (transposed?)" if analytic.shape == numeric.shape[::-1] else ""
            self.problem(
                f"{name}: gradient has shape {analytic.shape}, expected {numeric.shape}{hint}"
            )
            return
        diff = np.abs(analytic - numeric)
        diff = np.where(np.isfinite(diff), diff, np.inf)
        worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
        error = rel_error(analytic, numeric, self.s_scale)
        self.rows.append(
            {
                "name": name,
                "shape": numeric.shape,
                "rel_error": error,
                "verdict": verdict(error),
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
        if self.problems or not self.rows:
            return False
        return all(row["rel_error"] < tol for row in self.rows)  # False for NaN too

    def __bool__(self):
        return self.passed()

    def __str__(self):
        header = (
            f"{'name':<28} {'shape':<14} {'rel error':>11}  {'worst at':<12} "
            f"{'analytic':>12} {'numeric':>12}  verdict"
        )
        lines = [header, "-" * len(header)]
        for row in self.rows:
            flag = "" if row["rel_error"] < self.tol else "   <-- FAIL"
            lines.append(
                f"{row['name']:<28} {str(row['shape']):<14} {row['rel_error']:>11.2e}  "
                f"{str(row['worst_index']):<12} {row['analytic']:>12.5g} "
                f"{row['numeric']:>12.5g}  {row['verdict']}{flag}"
            )
        lines += [f"PROBLEM: {sentence}" for sentence in self.problems]
        if not self.rows and not self.problems:
            lines.append("PROBLEM: nothing was checked (no gradient and no parameter)")
        if self.passed():
            lines.append(
                f"PASSED: largest relative error {self.max_error:.2e} (tolerance {self.tol:.0e})"
            )
        else:
            failed = sum(not row["rel_error"] < self.tol for row in self.rows)
            reasons = [f"{len(self.problems)} problem(s)"] if self.problems else []
            if failed:
                reasons.append(f"{failed} of {len(self.rows)} arrays above {self.tol:.0e}")
            lines.append("FAILED: " + ("; ".join(reasons) or "nothing was checked"))
        return "\n".join(lines)


def _differentiable(n_inputs, constant, n_grads):
    """Which inputs must get a gradient: all but ``constant``; or the first ``n_grads``."""
    if constant is not None:
        constant = set(constant) if isinstance(constant, (list, tuple, set)) else {constant}
        return [i not in constant for i in range(n_inputs)]
    if n_grads is not None:
        return [i < n_grads for i in range(n_inputs)]
    return [True] * n_inputs


def _check(forward, backward, inputs, wanted, rng, h, report):
    """Shared core: random dy, one backward, finite differences per input. An input
    given as None (an optional input left out) must get None back."""
    wanted = [due and x is not None for due, x in zip(wanted, inputs)]
    for i, x in enumerate(inputs):
        if x is not None:
            _require_float64(f"input {i}", x)
    outputs = _as_tuple(forward(*inputs))
    dys = tuple(rng.standard_normal(np.shape(y)) for y in outputs)
    report.s_scale = abs(_weighted_sum(outputs, dys))
    returned = backward(*dys)  # one gradient per input, None for data and noise
    if returned is None and any(wanted):
        report.problem(
            "backward returned nothing (a missing `return`?); expected a gradient for "
            + ", ".join(f"input {i}" for i, w in enumerate(wanted) if w)
        )
        return dys
    analytic = (returned,) if len(inputs) == 1 and not isinstance(returned, tuple) else returned
    if not isinstance(analytic, tuple) or len(analytic) != len(inputs):
        count = len(analytic) if isinstance(analytic, tuple) else "one array"
        report.problem(
            f"backward returned {count} gradient(s) for {len(inputs)} inputs; "
            "return a tuple with one per input (None for data and noise)"
        )
        return dys
    for i, (grad, due) in enumerate(zip(analytic, wanted)):
        if not due:
            if grad is not None:
                report.problem(
                    f"input {i}: backward gave a gradient, but this input is data or noise "
                    "(return None for it)"
                )
            continue
        numeric = numerical_gradient(lambda: forward(*inputs), inputs[i], dys, h)
        report.add(f"input {i}", grad, numeric)
    return dys


def check_function(
    forward, backward, *inputs, constant=None, n_grads=None, rng=None, h=1e-5, tol=1e-6
):
    """Check ``backward`` against finite differences of ``forward``.

    ``forward(*inputs)`` returns an array or a tuple of arrays;
    ``backward(*dys)`` (called once, right after a forward) returns one
    gradient per input (a bare array for a single input), ``None`` for the
    inputs listed in ``constant`` (their indices: data, labels, noise). Every
    other input must get a gradient. (``n_grads=k``, the older spelling, says
    that the first k inputs have gradients and the rest are constant.)
    Inputs must be float64 arrays. Returns a ``GradcheckReport``.
    """
    report = GradcheckReport(tol)
    wanted = _differentiable(len(inputs), constant, n_grads)
    rng = np.random.default_rng(0) if rng is None else rng
    _check(forward, backward, inputs, wanted, rng, h, report)
    return report


def _prefill_grads(model, rng):
    """Put random values in every gradient: backward must *add* to them."""
    before = {}
    for name, _, grad in model.parameters():
        grad[...] = rng.standard_normal(grad.shape)
        before[name] = (grad, grad.copy())
    return before


def _accumulated(before, name, grad, report):
    """What backward added to a gradient; a problem (and None) if it replaced the array."""
    array, prefill = before[name]
    if grad is not array:
        report.problem(
            f"{name}: backward replaced the array grads[{name!r}]; add into it in place "
            "(grads[...] += ...), an optimizer holds the original array"
        )
        return None
    return grad - prefill


def _check_parameters(model, forward, dys, before, h, report):
    """Compare what backward added to each parameter's grads with finite differences."""
    for name, param, grad in model.parameters():
        analytic = _accumulated(before, name, grad, report)
        if analytic is not None:
            report.add(name, analytic, numerical_gradient(forward, param, dys, h))


def check_module(
    module, *inputs, constant=None, n_grads=None, rng=None, h=1e-5, tol=1e-6, verbose=False
):
    """Check a module's input gradients and every parameter's gradient.

    ``module`` and ``inputs`` must be float64. ``constant`` lists the indices
    of inputs that are data or noise (backward returns None for them); every
    other input must get a gradient (``n_grads=k``: the first k do).
    Parameter gradients must be accumulated (added) into ``module.grads``:
    they are prefilled with random values to check that. Returns a
    ``GradcheckReport``; prints it when ``verbose``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    for name, param, _ in module.parameters():
        _require_float64(name, param)
    report = GradcheckReport(tol)
    wanted = _differentiable(len(inputs), constant, n_grads)
    before = _prefill_grads(module, rng)
    dys = _check(module.forward, module.backward, inputs, wanted, rng, h, report)
    _check_parameters(module, lambda: module.forward(*inputs), dys, before, h, report)
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
    _check_parameters(model, loss_fn, dloss, before, h, report)
    model.clear_cache()
    if verbose:
        print(report)
    return report
