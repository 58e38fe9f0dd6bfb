"""Exercise 3: the backward passes of three activations, Tanh, Softplus and ELU.

Each is elementwise, so dL/dx = dy * f'(x), where dy = dL/dy:

    Tanh       y = tanh(x)                       f'(x) = 1 - y^2
    Softplus   y = log(1 + exp(x))               f'(x) = sigmoid(x) = 1 / (1 + exp(-x))
    ELU        y = x for x > 0,                  f'(x) = 1 for x > 0,
                   alpha (exp(x) - 1) otherwise          alpha exp(x) = y + alpha otherwise

Tanh is the hidden unit of the MLPs in AEVB (Kingma & Welling 2013,
Appendix C), softplus that of the VAE in Kingma & Ba 2014, section 6.4;
ELU is from Clevert, Unterthiner & Hochreiter 2016, section 3, where its
derivative is written from the output, f(x) + alpha, as above.

Each ``forward`` caches what its derivative needs: Tanh the output y,
Softplus (here) the input x, ELU the mask x > 0 and the output y. Softplus must
work for any x, even x = 800, where exp(x) overflows to inf: compute
sigmoid without ever taking exp of a positive number. The ELU is checked
with alpha = 0.7, so an alpha left out shows.
"""

import numpy as np

from ..nn.activations import ELU, Softplus, Tanh
from ..nn.functional import sigmoid, softplus
from .exercise import Exercise, Mistake, module_trial


class _SoftplusCachingInput(Softplus):
    """The skeleton's Softplus: its forward caches x (tinyvae's caches exp(-|x|))."""

    def forward(self, x):
        self.save(x)
        return softplus(x)


ALPHA = 0.7  # not 1, so that an ELU derivative without alpha differs


def trial(activations, rng):
    tanh, softplus_, elu = activations
    x = rng.normal(scale=1.5, size=(4, 3))
    out = {"tanh dx": module_trial(tanh(), {"x": x}, rng=rng)["dx"]}
    x = rng.normal(scale=3.0, size=(4, 3))
    x[0, 0], x[0, 1] = 800.0, -800.0  # exp(800) overflows float64
    out["softplus dx"] = module_trial(softplus_(), {"x": x}, rng=rng)["dx"]
    x = rng.normal(scale=2.0, size=(4, 3))
    x[0, 0], x[0, 1] = 1.5, -1.5  # both branches, whatever the draw
    out["elu dx"] = module_trial(elu(ALPHA), {"x": x}, rng=rng)["dx"]
    return out


# -- Tanh mistakes ----------------------------------------------------------------------
class _TanhFromInput(Tanh):
    def forward(self, x):
        y = super().forward(x)
        self.save(x)
        return y

    def backward(self, dy):
        x = self.take()
        return dy * (1 - x * x)


class _TanhSechOfOutput(Tanh):
    def backward(self, dy):
        y = self.take()
        return dy / np.cosh(y) ** 2


class _TanhSigmoidDerivative(Tanh):
    def backward(self, dy):
        y = self.take()
        return dy * y * (1 - y)


class _TanhMissingSquare(Tanh):
    def backward(self, dy):
        y = self.take()
        return dy * (1 - y)


class _TanhSquaresTheDifference(Tanh):
    def backward(self, dy):
        y = self.take()
        return dy * (1 - y) ** 2  # the square taken of 1 - y, not of y


class _TanhIgnoresDy(Tanh):
    def backward(self, dy):
        y = self.take()
        return 1 - y * y


# -- Softplus mistakes ------------------------------------------------------------------
class _SoftplusExp(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        with np.errstate(over="ignore"):
            return dy * np.exp(x)


class _SoftplusItself(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        return dy * softplus(x)


class _SoftplusSigmoidDerivative(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        s = sigmoid(x)
        return dy * s * (1 - s)


class _SoftplusSigmoidOfOutput(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        return dy * sigmoid(softplus(x))


class _SoftplusSigmoidOfMinusX(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        return dy * sigmoid(-x)


class _SoftplusSigmoidOfAbs(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        return dy / (1 + np.exp(-np.abs(x)))  # sigmoid(|x|): right only where x >= 0


class _SoftplusIgnoresDy(_SoftplusCachingInput):
    def backward(self, dy):
        x = self.take()
        return sigmoid(x)


# -- ELU mistakes -----------------------------------------------------------------------
class _EluForgetsAlpha(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy, dy * (y + 1))


class _EluExpWithoutAlpha(ELU):
    def forward(self, x):
        y = super().forward(x)
        self.save(x > 0, x)
        return y

    def backward(self, dy):
        positive, x = self.take()
        return np.where(positive, dy, dy * np.exp(np.minimum(x, 0)))


class _EluAlphaTimesYPlusOne(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy, dy * self.alpha * (y + 1))


class _EluYWithoutAlpha(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy, dy * y)


class _EluExpOfOutput(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy, dy * self.alpha * np.exp(y))


class _EluMaskInverted(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy * (y + self.alpha), dy)


class _EluAlphaOnPositiveSide(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, self.alpha * dy, dy * (y + self.alpha))


class _EluNoMask(ELU):
    def backward(self, dy):
        _, y = self.take()
        return dy * (y + self.alpha)


class _EluSlopeForDyWherePositive(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, 1.0, dy * (y + self.alpha))  # the slope 1, without dy


class _EluIgnoresDy(ELU):
    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, 1.0, y + self.alpha)


EXERCISE = Exercise(
    number=3,
    chapter="AEVB",
    slug="activations",
    title="activations: the backward passes of Tanh, Softplus and ELU",
    target=("Tanh", "Softplus", "ELU"),
    reference=(Tanh, Softplus, ELU),
    trial=trial,
    solution="tinyvae/nn/activations.py, Tanh.backward, Softplus.backward and ELU.backward "
    "(and sigmoid in tinyvae/nn/functional.py; tinyvae's Softplus caches exp(-|x|) and "
    "x < 0 rather than x, which makes its backward cheaper)",
    hints=[
        "Each activation is elementwise, so by the chain rule dL/dx is dy times the local "
        "derivative f'(x), entry by entry. Write f' in terms of what forward kept "
        "(Tanh: y; Softplus: x; ELU: the mask and y).",
        "Tanh: d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2, from the output y alone. "
        "Differentiate log(1 + exp(x)) and alpha (exp(x) - 1) the same way.",
        "Softplus: d/dx log(1 + exp(x)) = exp(x) / (1 + exp(x)), the logistic sigmoid; to "
        "keep it finite at x = 800, take exp only of -|x| (tinyvae/nn/functional.py shows "
        "how). ELU: 1 where x > 0; alpha exp(x) = alpha (exp(x) - 1) + alpha = y + alpha "
        "elsewhere.",
        "Tanh: dy * (1 - y * y). Softplus: e = np.exp(-np.abs(x)); "
        "dy * np.where(x >= 0, 1 / (1 + e), e / (1 + e)). "
        "ELU: np.where(positive, dy, dy * (y + self.alpha)).",
    ],
    mistakes=[
        Mistake(
            "tanh derivative from the input",
            (_TanhFromInput, Softplus, ELU),
            "tanh dx uses 1 - x^2, a function of the input x, where tanh's derivative "
            "is a function of the cached output y (hint 2 of 4 derives it)",
        ),
        Mistake(
            "tanh sech^2 of the output",
            (_TanhSechOfOutput, Softplus, ELU),
            "tanh dx applies sech^2 to the cached output y, which is already tanh(x): sech^2 "
            "belongs to x, or must be written in terms of y (hint 2 of 4 derives it)",
        ),
        Mistake(
            "tanh with the sigmoid's derivative",
            (_TanhSigmoidDerivative, Softplus, ELU),
            "tanh dx uses y (1 - y), the sigmoid's derivative, not tanh's (hint 2 of 4 derives it)",
        ),
        Mistake(
            "tanh without the square",
            (_TanhMissingSquare, Softplus, ELU),
            "tanh dx uses 1 - y: tanh's derivative, written from the output y, has y "
            "squared (hint 2 of 4 derives it)",
        ),
        Mistake(
            "tanh squares 1 - y",
            (_TanhSquaresTheDifference, Softplus, ELU),
            "tanh dx squares the whole difference 1 - y: in tanh's derivative, written from "
            "the output y, the square belongs to y alone: a parenthesis misplaced? "
            "(hint 2 of 4 derives it)",
        ),
        Mistake(
            "tanh ignores dy",
            (_TanhIgnoresDy, Softplus, ELU),
            "tanh dx ignores dy: multiply the local derivative by the upstream gradient dy "
            "(the chain rule)",
        ),
        Mistake(
            "softplus derivative exp(x)",
            (Tanh, _SoftplusExp, ELU),
            "softplus dx uses exp(x), which misses the chain rule through the log of "
            "log(1 + exp(x)) and overflows to inf at x = 800 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus derivative = softplus",
            (Tanh, _SoftplusItself, ELU),
            "softplus dx uses softplus(x) itself, the function, not its derivative "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus with the sigmoid's derivative",
            (Tanh, _SoftplusSigmoidDerivative, ELU),
            "softplus dx uses sigmoid(x) (1 - sigmoid(x)), the sigmoid's derivative, not "
            "softplus's (hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus sigmoid of the output",
            (Tanh, _SoftplusSigmoidOfOutput, ELU),
            "softplus dx applies sigmoid to softplus(x), the output: softplus's derivative "
            "is the sigmoid of the input x itself, which forward cached (hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus sigmoid of -x",
            (Tanh, _SoftplusSigmoidOfMinusX, ELU),
            "softplus dx uses sigmoid(-x) = 1 - sigmoid(x), a sign flipped inside the sigmoid: "
            "it is near 1 where x is very negative, where softplus is flat and its slope is "
            "near 0 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus sigmoid of |x|",
            (Tanh, _SoftplusSigmoidOfAbs, ELU),
            "softplus dx is sigmoid(|x|), right only where x >= 0: the stable sigmoid takes "
            "exp(-|x|) for safety but still depends on the sign of x, e / (1 + e) where x < 0 "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "softplus ignores dy",
            (Tanh, _SoftplusIgnoresDy, ELU),
            "softplus dx ignores dy: multiply the local derivative by the upstream gradient dy "
            "(the chain rule)",
        ),
        Mistake(
            "ELU forgets alpha",
            (Tanh, Softplus, _EluForgetsAlpha),
            "elu dx uses y + 1 where x <= 0, right only if alpha "
            "were 1 (here alpha = 0.7): a constant that should be alpha is 1 (hint 3 of 4 "
            "derives it)",
        ),
        Mistake(
            "ELU exp(x) without alpha",
            (Tanh, Softplus, _EluExpWithoutAlpha),
            "elu dx uses exp(x) where x <= 0, missing the factor alpha of alpha (exp(x) - 1) "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "ELU y for the derivative",
            (Tanh, Softplus, _EluYWithoutAlpha),
            "elu dx uses y itself where x <= 0: that is the function alpha (exp(x) - 1), "
            "not its derivative, which differs from it by a constant (hint 3 of 4 derives it)",
        ),
        Mistake(
            "ELU alpha (y + 1)",
            (Tanh, Softplus, _EluAlphaTimesYPlusOne),
            "elu dx is alpha (y + 1) where x <= 0: y is already alpha (exp(x) - 1), so "
            "alpha exp(x) = y + alpha; alpha (y + 1) would hold if y were exp(x) - 1 "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "ELU exp of the output",
            (Tanh, Softplus, _EluExpOfOutput),
            "elu dx takes exp of the cached output y where x <= 0: the exp in "
            "alpha (exp(x) - 1) is of the input x, and y is already alpha (exp(x) - 1); "
            "write the derivative in terms of y with no exp (hint 3 of 4 derives it)",
        ),
        Mistake(
            "ELU mask inverted",
            (Tanh, Softplus, _EluMaskInverted),
            "elu dx has its two sides swapped: the cached mask is True where x > 0, where "
            "y = x, so np.where(positive, a, b) must put that side's derivative in a and "
            "the x <= 0 side's in b (hint 3 of 4 derives both sides)",
        ),
        Mistake(
            "ELU alpha on the positive side",
            (Tanh, Softplus, _EluAlphaOnPositiveSide),
            "elu dx scales the x > 0 side by alpha, but there y = x, and alpha enters only "
            "where x <= 0 (hint 3 of 4 derives both sides)",
        ),
        Mistake(
            "ELU without the mask",
            (Tanh, Softplus, _EluNoMask),
            "elu dx applies the x <= 0 side's derivative everywhere: "
            "where x > 0 (the cached mask) y = x, whose derivative differs "
            "(hint 3 of 4 derives both sides)",
        ),
        Mistake(
            "ELU slope without dy where x > 0",
            (Tanh, Softplus, _EluSlopeForDyWherePositive),
            "elu dx is 1 where x > 0, the slope alone: that side too is dy times its local "
            "derivative (the chain rule), so it is dy itself",
        ),
        Mistake(
            "ELU ignores dy",
            (Tanh, Softplus, _EluIgnoresDy),
            "elu dx ignores dy: multiply the local derivative by the upstream gradient dy "
            "(the chain rule)",
        ),
    ],
)
