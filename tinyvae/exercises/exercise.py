"""What an exercise is, and the checker that tells a learner what they got wrong.

An exercise asks for one piece of a VAE: a backward pass, a stable formula,
an update rule. It holds

    skeleton    the file a learner starts from, ``skeletons/exNN_<name>.py``; its
                TODO raises NotImplementedError
    task        the skeleton's docstring: what to implement, the forward pass and its
                equation, the shapes, what to return -- not the answer
    hints       revealed one at a time, on request; the last gives the answer
    reference   a right answer (usually the library's own code)
    solution    where that answer lives in tinyvae's source
    trial       runs an implementation on fixed inputs and returns named arrays
    mistakes    the catalogue: wrong implementations learners write, with a diagnosis

``check`` runs the trial on the learner's implementation and on the
reference, with the same random inputs, and compares every array (a
"cmp" of each intermediate gradient). Where one differs it says how: first by
the catalogue (the learner's array equals what a known mistake produces), then
by shape (transposed, summed), sign, a constant factor, a factor or a term
that is a function of an array the trial gave the code (an input, the upstream
gradient), a reduction or a term the same along an axis, zeros or NaN. The
diagnosis comes from the numbers alone, never from reading the learner's code.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SKELETONS = Path(__file__).parent / "skeletons"  # the files learners start from
RTOL, ATOL = 1e-6, 1e-9  # float64 answers computed another way agree far below this
# the arrays the reference's trial gives the code under test, as (name, array) pairs, while
# ``known`` runs it: a diagnosis may find that an answer is the right one times a function
# of one of them (a trial may give several arrays of one name, in several calls)
_GIVEN = []


def _give(arrays):
    """Record named arrays handed to the code under test (if a reference run listens)."""
    if _GIVEN:
        for name, value in arrays.items():
            if isinstance(value, dict):  # parameters by name, as exercise 9 passes them
                _give(value)
            elif isinstance(value, np.ndarray):
                _GIVEN[-1].append((name, value))


class BrokenContract(Exception):
    """The learner's code broke the module protocol (its numbers aside): an array changed
    in place, a gradient array replaced, a gradient for data or noise, a wrong count."""


@dataclass
class Mistake:
    """A wrong implementation learners write, and what to tell someone who wrote it."""

    name: str
    implementation: object
    diagnosis: str


@dataclass
class Exercise:
    """One exercise; see the module docstring for what each field is."""

    number: int
    slug: str
    title: str
    # where it belongs in the book: "AEVB" (Kingma & Welling 2013, thesis chapter 2), or
    # the thesis chapter, "ch. 3" (semi-supervised), "ch. 4-5" (flows), "ch. 6", "ch. 7"
    chapter: str
    # the name the learner's file defines (a class or a function), or a tuple of names:
    # then the implementation is the tuple of what they name, in that order
    target: str | tuple[str, ...]
    reference: object
    trial: Callable[[object, np.random.Generator], dict]
    solution: str
    hints: list[str] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    seed: int = 0
    # a relative tolerance for arrays that are not computed the same way twice (a training
    # run in float32), by key; every other array must agree to float64 precision
    tolerance: dict[str, float] = field(default_factory=dict)
    # the reference's and the mistakes' arrays, computed once (see ``known``)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def filename(self):
        """What ``start`` calls the learner's copy: ``ex02_linear.py``."""
        return f"ex{self.number:02d}_{self.slug}.py"

    @property
    def skeleton(self):
        """The text of the file a learner starts from (``skeletons/<filename>``)."""
        return (SKELETONS / self.filename).read_text(encoding="utf-8")

    @property
    def task(self):
        """What the exercise asks: its skeleton's docstring, written there once."""
        return ast.get_docstring(ast.parse(self.skeleton))

    def run(self, implementation):
        """The trial's arrays for ``implementation``, always on the same random inputs;
        a function that changes an array it was given raises ``BrokenContract``."""
        if isinstance(implementation, tuple):
            implementation = tuple(_guarded(part) for part in implementation)
        else:
            implementation = _guarded(implementation)
        return self.trial(implementation, np.random.default_rng(self.seed))

    def known(self, implementation):
        """``run`` for the reference or a catalogued mistake, computed once per process."""
        if id(implementation) not in self.memo:
            _GIVEN.append([])
            try:
                self.memo[id(implementation)] = self.run(implementation)
            finally:
                self.memo["given", id(implementation)] = _GIVEN.pop()
        return self.memo[id(implementation)]

    def check(self, implementation):
        """Compare ``implementation`` with the reference; returns a ``CheckResult``."""
        result = CheckResult(self)
        try:
            got = self.run(implementation)
        except NotImplementedError:
            result.fail(
                "not implemented yet: fill in the TODO region (it raises NotImplementedError)"
            )
            return result
        except SystemExit as error:  # it would end the check itself, saying nothing
            result.fail(f"your code called sys.exit({error.code!r}): return a value instead")
            return result
        except BrokenContract as error:
            for sentence in error.args:  # every breach of the protocol, one line each
                result.fail(sentence)
            return result
        except Exception as error:  # the learner's code raised: show where
            result.fail(f"your code raised {type(error).__name__}: {error}{_where(error)}")
            return result
        want = self.known(self.reference)
        for name, expected in want.items():
            if name not in got:
                result.fail(f"{name}: missing from what your code returned")
                continue
            if got[name] is None:
                result.fail(f"{name}: None; was it returned (a missing `return`)?")
                continue
            if narrowed(got[name], expected):
                result.fail(
                    f"{name}: it is {np.asarray(got[name]).dtype}, where the inputs are "
                    f"{np.asarray(expected).dtype}: keep their precision (no astype, no "
                    "float32 constant)"
                )
            elif not agrees(got[name], expected, *self.tolerances(name)):
                partner = self.swapped(name, got, want)
                if partner and agrees(-np.asarray(got[name]), expected):
                    result.fail(  # the right dmu is minus the right dx, say: both readings
                        f"{name}: its sign is flipped (it is also the right {partner}, which is "
                        f"minus the right {name}: a sign, or the wrong order of the two?)"
                    )
                elif partner:
                    result.fail(
                        f"{name}: it is the right {partner}, and {partner} the right {name}: "
                        "they are returned in the wrong order (see the task for the order)"
                    )
                else:
                    result.fail(f"{name}: {self.diagnose(name, got, expected)}")
            else:
                result.ok(name)
        return result

    def _same(self, got, theirs, name, nan=False):
        """Whether a learner's array is a mistake's. NaN where the mistake has NaN counts
        as the same (an overflow, say), if the entries that are numbers agree too (or if
        ``nan``): NaN everywhere tells nothing apart."""
        if theirs is None:
            return False
        try:
            tell = nan or np.isfinite(np.asarray(got, dtype=float)).any()
        except (TypeError, ValueError):
            return False
        return agrees(got, theirs, *self.tolerances(name), tell)

    def swapped(self, name, got, want):
        """The other array that ``name`` changed places with, or None."""
        for other, expected in want.items():
            if (
                other != name
                and got.get(other) is not None
                and agrees(got[name], expected)
                and agrees(got[other], want[name])
            ):
                return other
        return None

    def tolerances(self, name):
        """``(rtol, atol)`` for the array ``name``."""
        return self.tolerance.get(name, RTOL), ATOL

    def diagnose(self, name, got, expected):
        """Why array ``name`` differs: a catalogued mistake if one matches, else its shape.

        Where several mistakes give this array, the one that gives most of the learner's
        other arrays too is named (two mistakes may agree on a first step, not after it).
        An array that is NaN throughout tells nothing apart by itself: a mistake that is
        NaN there too is named only if it also gives another of the learner's wrong arrays.
        """
        want = self.known(self.reference)
        try:
            all_nan = not np.isfinite(np.asarray(got[name], dtype=float)).any()
        except (TypeError, ValueError):  # not numbers: no mistake of the catalogue gives it
            all_nan = False
        best, best_count = None, 0 if all_nan else -1
        for mistake in self.mistakes:
            try:
                theirs = self.known(mistake.implementation)
            except Exception:  # a mistake that crashes on these inputs cannot match
                continue
            if name in theirs and self._same(got[name], theirs[name], name, all_nan):
                count = sum(
                    key in got
                    and got[key] is not None
                    and not (all_nan and self._same(got[key], want.get(key), key))
                    and self._same(got[key], value, key)
                    for key, value in theirs.items()
                    if key != name
                )
                if count > best_count:
                    best, best_count = mistake, count
        if best is not None:
            return best.diagnosis
        got, expected = np.asarray(got[name]), np.asarray(expected)
        sizes = {n for value in want.values() for n in np.shape(value)}
        return describe_difference(got, expected, sizes, self.memo["given", id(self.reference)])


def _guarded(implementation):
    """A learner's function, run so that changing an array argument in place is refused
    (a class is returned as it is: ``module_trial`` guards modules)."""
    if isinstance(implementation, type) or not callable(implementation):
        return implementation

    try:
        parameters = inspect.signature(implementation).parameters.values()
        names = [
            p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []

    @functools.wraps(implementation)
    def call(*args, **kwargs):
        _give(dict(zip(names, args)) | kwargs)
        given = [(i, a, np.copy(a)) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        out = implementation(*args, **kwargs)
        if out is None:
            raise BrokenContract(
                f"{implementation.__name__}: it returned None; is its `return` missing?"
            )
        for i, array, before in given:
            if not np.array_equal(array, before, equal_nan=True):
                name = names[i] if i < len(names) else f"argument {i + 1}"
                raise BrokenContract(
                    f"{name}: your code changed this array in place (-=, *=, +=); the "
                    "caller's arrays must stay as they were: compute new ones"
                )
        return out

    return call


def _where(error):
    """`` (file, line N)`` of the innermost frame outside tinyvae and NumPy: the learner's
    line, not the checker's or a library's."""
    frames = traceback.extract_tb(error.__traceback__)
    outside = [
        frame
        for frame in frames
        if "/tinyvae/" not in frame.filename.replace("\\", "/")
        and "/numpy/" not in frame.filename.replace("\\", "/")
    ]
    frame = (outside or frames or [None])[-1]
    return f" ({frame.filename}, line {frame.lineno})" if frame else ""


class CheckResult:
    """What ``Exercise.check`` found: one line per array, and whether all were right."""

    def __init__(self, exercise):
        self.exercise = exercise
        self.lines = []
        self.passed = True
        self.printed = False  # by ``tinyvae.exercises.check``

    def ok(self, name):
        self.lines.append(f"  ok     {name}")

    def fail(self, sentence):
        self.passed = False
        self.lines.append(f"  WRONG  {sentence}")

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"CheckResult(exercise={self.exercise.number}, passed={self.passed})"

    def _ipython_display_(self):
        """A notebook cell ending in ``check(...)`` shows the report once, not an object."""
        if not self.printed:
            print(self)

    def __str__(self):
        ex = self.exercise
        verdict = (
            "PASSED: every array equals the reference."
            if self.passed
            else f"FAILED. `python -m tinyvae.exercises hint {ex.number}` gives a hint."
        )
        return "\n".join([f"Exercise {ex.number}: {ex.title}", *self.lines, verdict])


def agrees(got, expected, rtol=RTOL, atol=ATOL, equal_nan=False):
    """Same shape and equal to ``rtol`` and ``atol`` (float64 precision by default).

    NaN agrees with nothing, unless ``equal_nan`` (used to recognise a mistake).
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        return False
    return bool(np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan))


def narrowed(got, expected):
    """Whether ``got`` is floating point of less precision than ``expected`` (float32 for a
    float64 answer: gradient checks need every digit)."""
    got, expected = np.asarray(got), np.asarray(expected)
    floats = np.issubdtype(got.dtype, np.floating) and np.issubdtype(expected.dtype, np.floating)
    return floats and got.dtype.itemsize < expected.dtype.itemsize


def describe_difference(got, expected, sizes=(), given=None):
    """A sentence on how ``got`` differs from ``expected``, from the numbers alone.

    ``sizes`` are the sizes of the trial's other axes (the batch, say), which a factor
    is compared with too: a mean over the batch scales dW by 1/B though B is not one
    of dW's axes. ``given`` holds (name, array) pairs, the arrays the trial gave the code
    (inputs, the upstream gradient), which a factor, a difference or the entries that
    are NaN are compared with.
    """
    if got.shape != expected.shape:
        if got.size == expected.size and agrees(got.reshape(expected.shape), expected):
            return (
                f"it has shape {got.shape}, expected {expected.shape}, with the right values: "
                "an axis of size 1 too many or too few (keepdims=True, or [:, None], where "
                "none belongs, or the reverse?)"
            )
        if (
            got.shape[1:] == expected.shape
            and got.shape[0] > 1
            and agrees(got.sum(axis=0), expected)
        ):
            return (
                f"it keeps the leading samples axis, shape {got.shape}: every sample's path "
                f"reaches the same {expected.shape} array, so add them up (sum over axis 0)"
            )
        if got.shape == expected.shape[::-1] and agrees(got.T, expected):
            return f"it is the transpose of the right answer (shape {got.shape})"
        if got.ndim == expected.ndim and set(got.shape) <= set(sizes) | set(expected.shape):
            return (
                f"it has shape {got.shape}, expected {expected.shape}: a sum, max or mean over "
                "the wrong axis?"
            )
        return f"it has shape {got.shape}, expected {expected.shape}"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and agrees(got.T, expected):
        return "it is the transpose of the right answer"
    # infinities where the answer has the same ones are right: describe the other entries
    same = ~np.isfinite(expected) & (got == expected)
    if same.any():
        got, expected = np.where(same, 0.0, got), np.where(same, 0.0, expected)
    if not np.isfinite(got).all():
        return _where_not_finite(got, given or ())
    if got.size == 1:  # a scalar: a factor or a sign would say nothing
        return f"yours is {got.item():.6g}, expected {expected.item():.6g}"
    if agrees(got, np.zeros_like(got)):
        return "it is all zeros (was it computed, and returned or added?)"
    if not expected.any():
        return "it should be all zeros, and is not"
    if agrees(-got, expected):
        return "its sign is flipped"
    scale = np.vdot(got, expected) / np.vdot(got, got)
    if agrees(scale * got, expected):
        ratio = 1 / scale  # got = ratio * expected
        for n in (set(got.shape) | set(sizes)) - {1}:  # an axis's size: a mean for a sum?
            if np.isclose(ratio, 1 / n):
                return (
                    f"it is {ratio:.4g} times the right answer: 1/{n}, 1 over an axis of size "
                    f"{n} (a mean where a sum belongs?), or a missing factor"
                )
            if np.isclose(ratio, n):
                return (
                    f"it is {ratio:.4g} times the right answer: {n}, the size of an axis (a sum "
                    "where a mean belongs?), or an extra factor"
                )
        return f"it is {ratio:.4g} times the right answer (a missing or extra factor)"
    found = _given_factor(got, expected, given or ())
    if found is not None:
        label, name, c = found
        times = label if np.isclose(c, 1.0) else f"{c:.4g} {label}"
        return (
            f"it is the right answer times {times}, entry by entry: a factor too many or "
            f"missing, or the wrong function of {name} (sigma where sigma^2 belongs, say)?"
        )
    found = _given_factor(got - expected, np.ones_like(expected), given or ())
    if found is not None:
        label, name, c = found
        return (
            f"it differs from the right answer by {c:.4g} {label}, entry by entry: a term in "
            f"{name} too many, or left out?"
        )
    along = _scaled_slices(got, expected)
    if along is not None:
        return (
            f"each slice along axis {along} is the right one times a factor of its own: a "
            "normalization, a sum or an upstream gradient (one value per row) taken over, or "
            "broadcast along, the wrong axis?"
        )
    along = _constant_axis(got, expected)
    if along is not None:
        return (
            f"it is the same along axis {along}, where the right answer varies: a term that "
            f"varies along axis {along} left out, or a sum or mean over it broadcast back?"
        )
    along = _constant_axis(expected - got, expected)
    if along is not None:
        return (
            f"it differs from the right answer by a term that is the same along axis {along}: "
            "a term left out (or one too many), such as a constant, or one of two paths?"
        )
    worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
    return (
        f"largest difference at index {tuple(int(i) for i in worst)}: "
        f"yours {got[worst]:.6g}, expected {expected[worst]:.6g}"
    )


def _where_not_finite(got, given):
    """Why ``got`` holds NaN or infinity, from where it does: where a given array is
    infinite, or large, or elsewhere."""
    bad = ~np.isfinite(got)
    for name, a in given if got.size > 1 else ():  # a single number has no "where"
        a = np.asarray(a)
        if a.dtype.kind != "f":
            continue
        for label, extreme in (("infinite", ~np.isfinite(a)), ("large", np.abs(a) > 30)):
            for mask in _aligned(extreme, got.shape):
                if mask.any() and np.array_equal(bad & mask, bad):
                    if label == "infinite":
                        return (
                            f"it holds NaN or infinity exactly where {name} is infinite: "
                            "inf - inf, -inf - (-inf) and 0 * inf are NaN; treat those "
                            "entries apart (the task says what they give)"
                        )
                    return (
                        f"it holds NaN or infinity exactly where |{name}| is large (up to "
                        f"{np.abs(a[np.isfinite(a)]).max():.4g}): {OVERFLOW}"
                    )
    for name, a in given:  # a number, or NaN nowhere in particular: what could overflow
        a = np.asarray(a)
        if a.dtype.kind == "f" and (np.abs(a[np.isfinite(a)]) > 30).any():
            largest = np.abs(a[np.isfinite(a)]).max()
            return (
                f"it holds NaN or infinity, and {name} has entries up to {largest:.4g}: {OVERFLOW}"
            )
    return "it holds NaN or infinity (an overflow? a log of 0?)"


OVERFLOW = (
    "an exp that overflows (exp(800) = inf, inf / inf = NaN), or the log of a probability "
    "that rounded to 0 (log 0 = -inf, 0 * -inf = NaN)? Take exp only of numbers <= 0, and "
    "logs from the stable log forms, as the task says"
)


def _aligned(mask, shape):
    """``mask`` as masks of ``shape``: itself, broadcast, or reduced by any() over one
    axis (a sum or max over that axis turns one bad entry into a bad result), or spread
    along one (a row's sum that is NaN, broadcast back over the row)."""
    with contextlib.suppress(ValueError):  # a mask that does not broadcast is skipped
        yield np.broadcast_to(mask, shape)
    for axis in range(mask.ndim):
        if mask.shape[:axis] + mask.shape[axis + 1 :] == tuple(shape):
            yield mask.any(axis=axis)
    if mask.shape == tuple(shape):
        for axis in range(mask.ndim):
            yield np.broadcast_to(mask.any(axis=axis, keepdims=True), shape)


def _functions(name, a):
    """A few functions of a given array that turn up as factors: a, 1/a, a^2 and, for a
    log (logvar, say), the exp of +-a and +-a/2 (sigma, the variance and their inverses)."""
    yield name, a
    yield f"1/{name}", 1.0 / a
    yield f"{name}^2", a * a
    for power, label in ((0.5, "/2"), (1.0, ""), (-0.5, "/2"), (-1.0, "")):
        sign = "-" if power < 0 else ""
        yield f"exp({sign}{name}{label})", np.exp(power * a)


def _given_factor(got, expected, given):
    """``(label, name, c)`` where ``got`` = c * ``expected`` * f(a) entry by entry, f(a)
    one of ``_functions`` of a given array ``a`` that broadcasts onto ``got`` and is not
    constant (a constant factor is said otherwise); or None."""
    if got.ndim == 0 or got.size < 3:
        return None
    for name, a in given:
        a = np.asarray(a)
        if a.dtype.kind != "f" or a.ndim > got.ndim or a.size < 3:
            continue
        try:
            a = np.broadcast_to(a, got.shape)
        except ValueError:
            continue
        with np.errstate(all="ignore"):  # 1/a and exp(a) may overflow: those cannot match
            for label, q in _functions(name, a):
                e = expected * q
                c = np.vdot(got, e) / np.vdot(e, e)
                if (
                    np.isfinite(e).all()
                    and np.isfinite(c)
                    and c != 0
                    and not agrees(q, np.full_like(q, q.flat[0]))
                    and agrees(got, c * e)
                ):
                    return label, name, c
    return None


def _scaled_slices(got, expected):
    """The axis whose slices of ``got`` are each ``expected``'s times a factor of their own
    (the factors not all equal, else a single factor says it), or None. Only with three
    slices or more of three entries or more: in smaller arrays such factors fit by chance."""
    for axis in range(got.ndim if got.ndim > 1 else 0):
        other = tuple(i for i in range(got.ndim) if i != axis)
        if got.shape[axis] < 3 or got.size // got.shape[axis] < 3:
            continue
        scale = np.sum(got * expected, axis=other, keepdims=True) / np.maximum(
            np.sum(expected * expected, axis=other, keepdims=True), 1e-300
        )
        if agrees(got, scale * expected) and not agrees(scale, np.full_like(scale, scale.mean())):
            return axis
    return None


def _constant_axis(values, expected):
    """The first axis (of size > 1) along which ``values`` is constant while ``expected``
    is not, or None."""

    def constant(a, axis):
        return agrees(a, np.broadcast_to(a.mean(axis=axis, keepdims=True), a.shape))

    for axis, size in enumerate(values.shape):
        if size > 1 and constant(values, axis) and not constant(expected, axis):
            return axis
    return None


# -- helpers that most trials use -------------------------------------------------------
def with_samples(run, shapes):
    """``run()``, the part of a trial with a leading samples axis (``shapes`` says which),
    after the one-sample part passed: an error there is a shape the code assumed."""
    try:
        return run()
    except (ValueError, IndexError) as error:
        raise BrokenContract(
            f"with L samples ({shapes}) your code raised {type(error).__name__}: {error}"
            f"{_where(error)}; it ran on one sample, so it assumes 2-D arrays somewhere: "
            "index from the end ([..., None], axis=-1), not [:, None] or axis=1"
        ) from error


def module_trial(module, inputs, constant=(), rng=None, upstream=None):
    """Run a module once: its output, the gradient of each input, the added parameter grads.

    Parameter gradients are prefilled with random numbers and what backward
    *added* is reported, so ``=`` in place of ``+=`` shows. Inputs listed in
    ``constant`` (by name) are data: their gradient must be None. ``upstream`` is
    what the exercise calls the upstream gradient (by default the name of backward's
    argument: dy, dz, dlogp, ...). The protocol is checked too
    (``BrokenContract``, every breach at once): nothing changed in place, parameters
    included, the grads arrays kept, one gradient per input, in order. Returns
    ``{"y": ..., "d<input>": ..., "d<param>": ...}``.
    """
    if upstream is None:
        try:
            upstream = next(iter(inspect.signature(module.backward).parameters))
        except (TypeError, ValueError, StopIteration):
            upstream = "dy"
    prefill, held, values = {}, {}, {}
    for name, value, grad in module.parameters():
        grad[...] = rng.standard_normal(grad.shape)
        prefill[name], held[name], values[name] = grad.copy(), grad, value.copy()
    originals = {name: np.copy(value) for name, value in inputs.items()}
    y = module.forward(*inputs.values())
    dy = rng.standard_normal(np.shape(y))
    _give(inputs | {upstream: dy})
    dy_original = dy.copy()
    grads = module.backward(dy)
    if grads is None and len(inputs) > 1:
        raise BrokenContract(
            f"backward returned None, not one gradient per input ({', '.join(inputs)}): "
            "is its `return` missing?"
        )
    if not isinstance(grads, tuple):
        grads = (grads,)
    # the protocol, beyond the numbers: what an optimizer and a caller rely on
    broken = []
    for name, value in inputs.items():
        if not np.array_equal(value, originals[name], equal_nan=True):
            broken.append(
                f"{name}: your code changed the input array in place; compute new arrays "
                "(x * dy, not x *= dy): the caller may use its input again"
            )
    if not np.array_equal(dy, dy_original, equal_nan=True):
        broken.append(
            f"{upstream}: your backward changed the upstream gradient in place; compute new "
            "arrays (dy * ..., not dy *= ...): another branch may use it too"
        )
    for name, value, grad in module.parameters():
        if not np.array_equal(value, values[name], equal_nan=True):
            broken.append(
                f"{name}: your backward changed the parameter itself; backward only adds "
                "gradients into self.grads: the optimizer's step changes parameters"
            )
        if grad is not held[name]:
            broken.append(
                f"d{name}: you replaced the array self.grads[{name!r}] instead of adding into "
                f"it (self.grads[{name!r}] += ...): an optimizer holds the original array, "
                "so nothing would train"
            )
    if len(grads) != len(inputs):
        broken.append(
            f"backward returned {len(grads)} value(s) for the {len(inputs)} input(s) of "
            f"forward ({', '.join(inputs)}): return one per input, in order"
            + (f", None for {', '.join(constant)}" if constant else "")
        )
    nones, wanted = [g is None for g in grads], [name in constant for name in inputs]
    if len(grads) == len(inputs) and nones != wanted and sorted(nones) == sorted(wanted):
        broken.append(
            f"backward returned its gradients in the wrong order: one per input, in the order "
            f"forward takes them ({', '.join(inputs)}), with None for {', '.join(constant)}"
        )
    for (name, _), grad in zip(inputs.items(), grads):
        if name in constant and grad is not None and sorted(nones) != sorted(wanted):
            broken.append(
                f"d{name}: {name} is data or noise, so its gradient is None; "
                "return None in its place"
            )
    if broken:
        raise BrokenContract(*broken)
    out = {"y": y}
    for (name, _), grad in zip(inputs.items(), grads):
        if name not in constant:
            out[f"d{name}"] = grad
    for name, _, grad in module.parameters():
        out[f"d{name}"] = grad - prefill[name]
    return out
