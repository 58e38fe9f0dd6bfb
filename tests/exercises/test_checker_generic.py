"""The checker against mistakes that no catalogue lists.

Each generic mistake is injected into an exercise's reference: a sign flipped, a
factor 2 or 1/2, a reduction along the wrong axis, a term left out, no return, one
gradient too few, a gradient for noise, the upstream gradient or an input changed in
place, the grads array replaced, a parameter changed by backward itself; in a backward,
also rows scaled by factors of their own and float32 for float64 (a function's first
output is often 1-D, and its trial's float64 arithmetic casts float32 back). None may
pass, and the report must name the array (or argument) that is wrong and say how.
"""

import numpy as np
import pytest

from tinyvae.exercises import EXERCISES

# the exercises whose answer is a module (or a tuple of modules), and those whose
# answer is a function (or a tuple of functions); the capstone and MADE's masks (integer
# masks, an algorithm) have their own tests
MODULES = [ex for ex in EXERCISES.values() if ex.number in (1, 2, 3, 5, 6, 7, 8, 13, 16, 17)]
FUNCTIONS = [ex for ex in EXERCISES.values() if ex.number in (4, 9, 10, 11, 14, 18, 19)]


def first_array(values):
    """The index (or key) of the first array among a backward's or a function's outputs."""
    items = values.items() if isinstance(values, dict) else enumerate(values)
    return next(i for i, v in items if isinstance(v, np.ndarray) and v.size > 1)


def transform(values, how):
    """``values`` (a tuple, a dict, or one array; a (number, dict) pair as the VAE loss
    returns) with its first array changed as ``how`` says."""
    change = {
        "sign": lambda a: -a,
        "twice": lambda a: 2.0 * a,
        "half": lambda a: 0.5 * a,
        "mean for sum": lambda a: a / a.shape[0],  # a batch sum averaged: 1/B of it
        "transpose": lambda a: a.T,
        "float32": lambda a: a.astype(np.float32),
        # each row scaled by a factor of its own, as an upstream gradient of one value per
        # row summed over the batch, or broadcast along the wrong axis, would scale it
        "row factors": lambda a: a * np.linspace(0.5, 2.0, len(a)).reshape(-1, *[1] * (a.ndim - 1)),
        # a sum over the last axis, broadcast back: a reduction where (or along the axis
        # where) none belongs
        "wrong axis": lambda a: np.broadcast_to(a.sum(axis=-1, keepdims=True), a.shape).copy(),
        # a term that is the same along the last axis left out, as a constant of a
        # derivative or a path that reaches every entry alike would be
        "term left out": lambda a: a - np.abs(a).mean(axis=-1, keepdims=True),
    }[how]
    if isinstance(values, np.ndarray):
        return change(values)
    if isinstance(values, tuple) and len(values) == 2 and isinstance(values[1], dict):
        return values[0], transform(values[1], how)
    changed = dict(values) if isinstance(values, dict) else list(values)
    key = first_array(changed)
    changed[key] = change(changed[key])
    return changed if isinstance(values, dict) else tuple(changed)


def module_mutant(reference, how):
    """A subclass of ``reference`` whose backward has the mistake ``how``."""

    class Mutant(reference):
        def backward(self, *douts):
            if how == "dy in place":
                out = super().backward(*(np.copy(d) for d in douts))
                douts[0][...] = 0.0
                return out
            out = super().backward(*douts)
            if how == "no return":
                return None
            if how == "one short":
                return out[:-1] if isinstance(out, tuple) and len(out) > 1 else None
            if how == "noise gets a gradient":
                return tuple(np.zeros(3) if g is None else g for g in out)
            if how == "parameters stepped":  # the optimizer's work done inside backward
                for _, value, grad in self.parameters():
                    value -= 0.01 * grad
                return out
            if how == "grads replaced":  # a new array where the optimizer holds the old one
                for _, module in self.modules():
                    for name in module.grads:
                        module.grads[name] = module.grads[name] + 0.0
                return out
            return transform(out, how)

    Mutant.__name__ = reference.__name__
    return Mutant


def mutate(reference, how, factory):
    """The reference with one element (the first that applies) made wrong by ``factory``."""
    if isinstance(reference, tuple):
        return (factory(reference[0], how), *reference[1:])
    return factory(reference, how)


def function_mutant(reference, how):
    def mutant(*args, **kwargs):
        if how == "input in place":
            out = reference(*args, **kwargs)
            i = first_array(args)
            args[i][...] = args[i] * 1.5
            return out
        out = reference(*args, **kwargs)
        if how == "no return":
            return None
        return transform(out, how)

    mutant.__name__ = reference.__name__
    return mutant


def wrong_lines(result):
    return [line.strip()[len("WRONG") :].strip() for line in result.lines if "WRONG" in line]


def assert_refused_and_named(exercise, implementation, how, words):
    """Refused, and the first wrong line names an array (or an argument, or the values
    returned) and says how it is wrong, in its own words or the catalogue's."""
    result = exercise.check(implementation)
    assert not result, f"{exercise.slug}: a mistake ({how}) passed"
    first = wrong_lines(result)[0]
    subject, _, said = first.partition(": ")
    names = set(exercise.known(exercise.reference))
    named = subject in names or subject.startswith("backward returned")
    # an input's or an argument's name: dy, dx, deps, dstep.made.V, theta, log_w, ...
    subject = subject.replace(" or ", "_").replace(".", "_")  # "dz_new or dlog_det"
    named = named or subject.startswith("argument ") or subject.isidentifier()
    assert named, f"{exercise.slug} ({how}) names no array: {first}"
    assert "raised" not in first, f"{exercise.slug} ({how}) crashed instead: {first}"
    catalogued = {m.diagnosis for m in exercise.mistakes}
    assert any(w in first for w in words) or said in catalogued, f"{exercise.slug} ({how}): {first}"


@pytest.mark.parametrize("exercise", MODULES, ids=[ex.slug for ex in MODULES])
@pytest.mark.parametrize(
    "how, words",
    [
        ("sign", ["sign", "times", "factor", "differen", "negative"]),
        ("twice", ["times", "factor", "2", "differen"]),
        ("half", ["times", "factor", "1/2", "differen"]),
        ("mean for sum", ["times", "factor", "differen", "average", "sum"]),
        ("wrong axis", ["same along axis", "axis", "all zeros"]),
        ("term left out", ["same along axis", "term", "path"]),
        ("float32", ["float32"]),
        ("row factors", ["factor of its own", "times", "factor"]),
        ("no return", ["None", "returned", "return"]),
        ("dy in place", ["in place"]),
    ],
)
def test_a_generic_mistake_in_a_backward_is_refused_and_named(exercise, how, words):
    assert_refused_and_named(exercise, mutate(exercise.reference, how, module_mutant), how, words)


# a gradient transposed, where the first one is square (elsewhere a shape error says it)
TRANSPOSED = [(6, module_mutant), (13, module_mutant), (14, function_mutant)]


@pytest.mark.parametrize("number, factory", TRANSPOSED, ids=[str(n) for n, _ in TRANSPOSED])
def test_a_transposed_gradient_is_refused_and_named(number, factory):
    exercise = EXERCISES[number]
    implementation = mutate(exercise.reference, "transpose", factory)
    assert_refused_and_named(exercise, implementation, "transpose", ["transpose"])


# (exercise, mistake, words): the protocol's own mistakes, where they can happen
PROTOCOL = [
    (2, "grads replaced", ["replaced"]),
    *[(n, "parameters stepped", ["changed the parameter"]) for n in (2, 16, 17)],
    (16, "grads replaced", ["replaced"]),
    (17, "grads replaced", ["replaced"]),
    *[(n, "one short", ["returned"]) for n in (5, 6, 7, 8, 13, 16, 17)],
    *[(n, "noise gets a gradient", ["None"]) for n in (5, 7, 13, 17)],
]


@pytest.mark.parametrize("number, how, words", PROTOCOL, ids=[f"{n}-{h}" for n, h, _ in PROTOCOL])
def test_a_broken_protocol_is_refused_and_named(number, how, words):
    exercise = EXERCISES[number]
    assert_refused_and_named(exercise, mutate(exercise.reference, how, module_mutant), how, words)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=[ex.slug for ex in FUNCTIONS])
@pytest.mark.parametrize(
    "how, words",
    [
        ("sign", ["sign", "times", "factor", "differen", "yours is", "largest"]),
        ("twice", ["times", "factor", "2", "differen", "yours is", "largest"]),
        ("half", ["times", "factor", "1/2", "differen", "yours is", "largest"]),
        ("mean for sum", ["times", "factor", "differen", "yours is", "largest", "sum"]),
        ("wrong axis", ["same along axis", "axis", "all zeros"]),
        ("term left out", ["same along axis", "term", "path"]),
        ("no return", ["None", "return", "raised"]),
        ("input in place", ["in place"]),
    ],
)
def test_a_generic_mistake_in_a_function_is_refused_and_named(exercise, how, words):
    implementation = mutate(exercise.reference, how, function_mutant)
    assert_refused_and_named(exercise, implementation, how, words)


def with_input(reference, how):
    """A subclass of ``reference`` whose first gradient is also multiplied by g^2, or has
    g / 2 added, where g is the first input array of its shape: the mistakes of a wrong
    quantity (sigma for sigma^2, a term in mu too many)."""

    class Mutant(reference):
        def forward(self, *inputs):
            self.given = inputs
            return super().forward(*inputs)

        def backward(self, *douts):
            out = list(super().backward(*douts))
            i = next(i for i, d in enumerate(out) if d is not None)
            g = next(  # an input of that shape with moderate entries: g^2 must not overflow
                a for a in self.given if np.shape(a) == np.shape(out[i]) and np.abs(a).max() < 1e3
            )
            out[i] = out[i] * g**2 if how == "times" else out[i] + 0.5 * g
            return tuple(out)

    Mutant.__name__ = reference.__name__
    return Mutant


# the backwards whose first gradient has the shape of an input array
GIVEN = [5, 6, 7, 8, 13, 17]


@pytest.mark.parametrize("how, words", [("times", ["times", "^2"]), ("plus", ["differs from"])])
@pytest.mark.parametrize("number", GIVEN)
def test_a_factor_or_a_term_in_an_input_is_named(number, how, words):
    exercise = EXERCISES[number]
    implementation = mutate(exercise.reference, how, with_input)
    assert_refused_and_named(exercise, implementation, how, words)


def test_a_scalar_gets_no_factor_and_an_all_zero_answer_no_ratio():
    from tinyvae.exercises.exercise import describe_difference

    said = describe_difference(np.array(2.0), np.array(1.0))
    assert "times" not in said and "yours is 2" in said
    said = describe_difference(np.ones((2, 2)), np.zeros((2, 2)))
    assert "should be all zeros" in said and "inf" not in said


def test_an_error_is_reported_at_the_learners_line(tmp_path):
    from tinyvae.exercises import check

    source = tmp_path / "mine.py"
    source.write_text(
        "import tinyvae as tv\n"
        "class Linear(tv.Linear):\n"
        "    def backward(self, dy):\n"
        "        x = self.take()\n"
        "        return dy @ x  # shapes do not match\n"
    )
    namespace = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    result = check(2, namespace["Linear"], verbose=False)
    assert not result and f"{source}, line 5" in str(result)


# -- right answers written another way pass -----------------------------------------------
def test_a_right_answer_written_with_einsum_passes():
    import tinyvae as tv

    class Linear(tv.Linear):
        def backward(self, dy):
            x = self.take()
            self.grads["W"] += np.einsum("bi,bo->io", x, dy)
            self.grads["b"] += np.einsum("bo->o", dy)
            return np.einsum("bo,io->bi", dy, self.params["W"])

    assert EXERCISES[2].check(Linear)


def test_a_right_answer_written_with_log_sigmoids_passes():
    """x log sigmoid(l) + (1 - x) log sigmoid(-l), each log sigmoid computed stably, is
    the same function as x l - softplus(l)."""
    import tinyvae as tv

    def log_sigmoid(a):
        return -(np.maximum(-a, 0) + np.log1p(np.exp(-np.abs(a))))

    class BernoulliLogDensity(tv.BernoulliLogDensity):
        def forward(self, x, logits):
            self.save(logits, x)
            return np.sum(x * log_sigmoid(logits) + (1 - x) * log_sigmoid(-logits), axis=-1)

        def backward(self, dlogp):
            logits, x = self.take()
            p = np.exp(log_sigmoid(logits))  # sigmoid(l), never exp of a large number
            return None, dlogp[..., None] * (x - p)

    assert EXERCISES[7].check(BernoulliLogDensity)


def test_a_right_answer_written_with_logaddexp_passes():
    def iwae_bound(log_w):
        return np.logaddexp.reduce(log_w, axis=0) - np.log(len(log_w))

    def normalized_weights(log_w):
        return np.exp(log_w - np.logaddexp.reduce(log_w, axis=0))

    assert EXERCISES[10].check((iwae_bound, normalized_weights))


def test_a_right_answer_from_the_cache_in_another_order_passes():
    import tinyvae as tv

    class StandardNormalKL(tv.StandardNormalKL):
        def backward(self, dkl):
            mu, var = self.take()
            g = dkl[:, None]
            return mu * g, (var - 1.0) * g / 2.0

    assert EXERCISES[8].check(StandardNormalKL)


def test_every_breach_of_the_protocol_is_reported_not_only_the_first():
    import tinyvae as tv

    class Rebinds(tv.Linear):
        def backward(self, dy):
            x = self.take()
            self.grads["W"] = self.grads["W"] + x.T @ dy
            self.grads["b"] = self.grads["b"] + dy.sum(axis=0)
            return dy @ self.params["W"].T

    lines = wrong_lines(EXERCISES[2].check(Rebinds))
    assert [line.split(":")[0] for line in lines] == ["dW", "db"]


def test_nan_is_placed_where_an_input_is_large_or_infinite():
    from tinyvae.exercises.exercise import describe_difference

    x = np.array([[0.5, 800.0, -1.0], [2.0, -3.0, -800.0]])
    want = np.tanh(x)  # any finite answer
    overflowed = np.where(np.abs(x) > 100, np.nan, want)
    said = describe_difference(overflowed, want, given=[("x", x)])
    assert "where |x| is large" in said and "exp" in said
    # a reduction over axis 0 of an array with an all -inf column: NaN in that column
    a = np.array([[0.0, -np.inf, 1.0], [2.0, -np.inf, 3.0]])
    want = np.array([2.1, -np.inf, 3.1])
    said = describe_difference(np.array([2.1, np.nan, 3.1]), want, given=[("a", a)])
    assert "where a is infinite" in said
    # NaN elsewhere: the general sentence
    said = describe_difference(np.array([np.nan, -np.inf, 3.1]), want, given=[("a", a)])
    assert said.startswith("it holds NaN or infinity (")
