"""Exercise 1, the warm-up: the backward pass of y = x * x, elementwise.

Every backward pass in tinyvae answers one question: given dL/dy, the
gradient of the loss with respect to a module's output (``dy``, the same
shape as y), what is dL/dx? By the chain rule, elementwise,

    dL/dx_i = dL/dy_i * dy_i/dx_i = dy_i * 2 x_i.

Write ``Square.backward``. ``forward`` keeps x with ``self.save(x)``;
``self.take()`` hands it back (once).
"""

from ..nn.module import Module
from .exercise import Exercise, Mistake, module_trial


class Square(Module):
    """y = x * x, elementwise; dL/dx = dy * 2x."""

    def forward(self, x):
        self.save(x)
        return x * x

    def backward(self, dy):
        x = self.take()
        return dy * 2 * x  # d(x^2)/dx = 2x, times the upstream gradient


def trial(square, rng):
    return module_trial(square(), {"x": rng.normal(size=(4, 3))}, rng=rng)


class _IgnoresDy(Square):
    def backward(self, dy):
        return 2 * self.take()


class _MissesTheTwo(Square):
    def backward(self, dy):
        return dy * self.take()


class _ReturnsTheOutput(Square):
    def backward(self, dy):
        x = self.take()
        return dy * x * x


class _MissesTheX(Square):
    def backward(self, dy):
        self.take()
        return 2 * dy


EXERCISE = Exercise(
    number=1,
    chapter="AEVB",
    slug="square",
    title="warm-up: the backward pass of y = x^2",
    target="Square",
    reference=Square,
    trial=trial,
    solution="tinyvae/exercises/ex01_square.py, class Square (three lines)",
    hints=[
        "backward returns one array, the same shape as x: dL/dx.",
        "The chain rule, one entry at a time: dL/dx_i = dL/dy_i * dy_i/dx_i.",
        "dy_i/dx_i = 2 x_i, so the answer is dy * 2 * x.",
    ],
    mistakes=[
        Mistake(
            "ignores dy",
            _IgnoresDy,
            "dx ignores dy: multiply the local derivative 2x by the upstream gradient dy "
            "(the chain rule)",
        ),
        Mistake("misses the 2", _MissesTheTwo, "dx misses the factor 2: d(x^2)/dx = 2x"),
        Mistake(
            "returns y dy",
            _ReturnsTheOutput,
            "you returned dy * x^2, the output times dy: differentiate first, d(x^2)/dx = 2x",
        ),
        Mistake("misses x", _MissesTheX, "dx = 2 dy misses the x: d(x^2)/dx = 2x"),
    ],
)
