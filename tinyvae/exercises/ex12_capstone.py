"""Exercise 12, the capstone: a VAE built from your own pieces, trained on the synthetic digits.

Put together what you wrote in exercises 2, 3, 5, 7 and 8: your Linear, your
Tanh, your Reparameterize, your BernoulliLogDensity and your StandardNormalKL.
``plug_in(model, pieces)`` swaps them into a ``tv.VAE`` (784-100-10, tanh,
Bernoulli decoder), keeping every weight. The check then

1. compares the loss and every parameter's gradient at the start with the
   library's VAE, in float64, to float64 precision (SGVB estimator B,
   AEVB eq. (10)); and
2. trains both for two epochs on 3000 synthetic digits (float32, Adam,
   batches of 100) and asks that your test -ELBO be within 1 % (a nat or
   two) of the library's.

Write ``pieces()``: return your classes, by the name of the library class
each replaces. Your classes subclass the library's, as the skeletons of the
earlier exercises do, so that they keep its ``__init__`` and ``forward``.
"""

import numpy as np

from ..data.batching import Batches, binarize
from ..data.datasets import load_dataset
from ..distributions.bernoulli import BernoulliLogDensity
from ..distributions.kl import StandardNormalKL
from ..distributions.reparameterize import Reparameterize
from ..models.vae import VAE
from ..nn.activations import Tanh
from ..nn.linear import Linear
from ..nn.module import Module
from ..optim import Adam
from ..train import fit
from .ex02_linear import EXERCISE as LINEAR
from .ex03_activations import EXERCISE as ACTIVATIONS
from .ex05_reparameterize import EXERCISE as REPARAMETERIZE
from .ex07_bernoulli import EXERCISE as BERNOULLI
from .ex08_kl import EXERCISE as KL
from .exercise import BrokenContract, Exercise, Mistake

PIECES = (Linear, Tanh, Reparameterize, BernoulliLogDensity, StandardNormalKL)
# the exercise that checks each piece on its own, and how it wants the piece
OWN_CHECK = {
    "Linear": (LINEAR, lambda cls: cls),
    "Tanh": (ACTIVATIONS, lambda cls: (cls, *ACTIVATIONS.reference[1:])),
    "Reparameterize": (REPARAMETERIZE, lambda cls: cls),
    "BernoulliLogDensity": (BERNOULLI, lambda cls: cls),
    "StandardNormalKL": (KL, lambda cls: cls),
}


def check_pieces(classes):
    """Every piece, and each one alone by its own exercise's check, before the whole: a
    mistake is blamed on the piece that has it."""
    missing = [name for name in OWN_CHECK if name not in classes]
    if missing:
        raise BrokenContract(
            f"pieces: {', '.join(missing)} missing; return all five of your classes, "
            "or the check would test the library's own in their place"
        )
    for name, (exercise, implementation) in OWN_CHECK.items():
        result = exercise.check(implementation(classes[name]))
        if not result:
            first = next(line for line in result.lines if "WRONG" in line).split("WRONG", 1)[1]
            raise BrokenContract(
                f"your {name} fails exercise {exercise.number}'s check ({first.strip()}): "
                "fix it there first"
            )


def plug_in(model, pieces):
    """Swap your classes into ``model`` in place of the library's; returns ``model``.

    ``pieces`` maps a library class name (``"Linear"``) to your class, which
    must subclass it. Each module of that class anywhere in the model is
    replaced by an instance of yours holding the same parameters and
    gradients, so the weights, and an optimizer made afterwards, are the same.
    """
    for name, cls in pieces.items():
        library = next((c for c in PIECES if c.__name__ == name), None)
        if library is None:
            raise KeyError(f"pieces: no part named {name!r}; expected one of {_names()}")
        if not (isinstance(cls, type) and issubclass(cls, library)):
            raise TypeError(
                f"pieces[{name!r}]: expected a subclass of tinyvae's {name} "
                f"(as the exercise's skeleton is), got {cls!r}"
            )
    for _, module in list(model.modules()):
        for attr, value in vars(module).items():
            if isinstance(value, Module):
                setattr(module, attr, _yours(value, pieces))
            elif isinstance(value, list):
                value[:] = [_yours(v, pieces) if isinstance(v, Module) else v for v in value]
    return model


def _names():
    return [c.__name__ for c in PIECES]


def _yours(module, pieces):
    """An instance of your class with ``module``'s state, if you replaced its class."""
    cls = pieces.get(type(module).__name__)
    if cls is None or type(module) not in PIECES:
        return module
    yours = cls.__new__(cls)
    yours.__dict__.update(vars(module))  # the same params and grads dicts
    return yours


def _digits():
    """3000 training and 1000 test digits."""
    data = load_dataset("synthetic")
    return data.x_train[:3000], data.x_test[:1000]


def trial(pieces, rng):
    classes = pieces()
    check_pieces(classes)
    x_train, x_test = _digits()

    # 1. the loss and every gradient at the start, float64
    model = VAE(784, (100,), 10, activation="tanh", rng=np.random.default_rng(0), dtype=np.float64)
    plug_in(model, classes)
    x = binarize(x_train[:32].astype(np.float64), rng)
    eps = rng.standard_normal((32, 10))
    model.zero_grad()
    out = {"loss at the start": np.array(model.loss(x, eps=eps))}
    model.backward()
    out.update({f"d{name} at the start": grad.copy() for name, _, grad in model.parameters()})

    # 2. two epochs of training, float32
    model = plug_in(VAE(784, (100,), 10, activation="tanh", rng=np.random.default_rng(0)), classes)
    train_rng = np.random.default_rng(1)
    x_test = binarize(x_test, train_rng)
    with np.errstate(all="ignore"):  # a wrong piece may overflow; the check says which
        try:
            data = Batches(x_train, batch_size=100, binarize=True)
            history = fit(model, Adam(model.parameters()), data, x_test, epochs=2,
                          rng=train_rng, progress=False)  # fmt: skip
            out["test -ELBO after two epochs"] = np.array(history.test_loss[-1])
        except RuntimeError:  # TrainingDiverged
            out["test -ELBO after two epochs"] = np.array(np.nan)
    return out


def reference():
    return {c.__name__: c for c in PIECES}


class _AveragedDb(Linear):
    def backward(self, dy):
        x = self.take()
        self.grads["W"] += x.T @ dy
        self.grads["b"] += dy.mean(axis=0)
        return None if not self.input_grad else dy @ self.params["W"].T


class _TanhFromInput(Tanh):
    def forward(self, x):
        y = super().forward(x)
        self.save(x, y)
        return y

    def backward(self, dy):
        x, _ = self.take()
        return dy * (1 - x * x)


class _NoHalf(Reparameterize):
    def backward(self, dz):
        dmu, dlogvar, _ = super().backward(dz)
        return dmu, 2 * dlogvar, None


class _FlippedBernoulli(BernoulliLogDensity):
    def backward(self, dlogp):
        _, dlogits = super().backward(dlogp)
        return None, -dlogits


class _KLWithoutMinusOne(StandardNormalKL):
    def backward(self, dkl):
        mu, var = self.take()
        return dkl[:, None] * mu, dkl[:, None] * 0.5 * var


def _with(cls):
    """The reference pieces with one replaced: a catalogued mistake."""

    def pieces():
        classes = reference()
        classes[next(c.__name__ for c in PIECES if issubclass(cls, c))] = cls
        return classes

    return pieces


EXERCISE = Exercise(
    number=12,
    chapter="AEVB",
    slug="capstone",
    title="capstone: a VAE from your own pieces, trained",
    target="pieces",
    reference=reference,
    trial=trial,
    solution="the library's classes: tinyvae/nn/linear.py, nn/activations.py, "
    "distributions/reparameterize.py, distributions/bernoulli.py, distributions/kl.py",
    hints=[
        "Each earlier exercise file defines one class: from ex02_linear import Linear, "
        "from ex03_activations import Tanh, from ex05_reparameterize import Reparameterize, "
        "from ex07_bernoulli import ..., from ex08_kl import ....",
        "Return a dict keyed by the library's class names: "
        '{"Linear": Linear, "Tanh": Tanh, "Reparameterize": Reparameterize, '
        '"BernoulliLogDensity": ..., "StandardNormalKL": ...}.',
        "If a gradient is wrong here but its exercise passed, check that the class you "
        "return is the one from that exercise (not the skeleton's).",
    ],
    mistakes=[
        Mistake(
            "averaged db",
            _with(_AveragedDb),
            "your Linear fails exercise 2's check",
        ),
        Mistake(
            "tanh from the input",
            _with(_TanhFromInput),
            "your Tanh fails exercise 3's check",
        ),
        Mistake(
            "reparameterization without the 1/2",
            _with(_NoHalf),
            "your Reparameterize fails exercise 5's check",
        ),
        Mistake(
            "Bernoulli gradient sign",
            _with(_FlippedBernoulli),
            "your BernoulliLogDensity fails exercise 7's check",
        ),
        Mistake(
            "KL without the -1",
            _with(_KLWithoutMinusOne),
            "your StandardNormalKL fails exercise 8's check",
        ),
    ],
    tolerance={"test -ELBO after two epochs": 0.01},
)
