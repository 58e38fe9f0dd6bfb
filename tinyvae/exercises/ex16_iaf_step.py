"""Exercise 16: the backward pass of one inverse autoregressive flow step.

Inverse autoregressive flow (Kingma, Salimans, Jozefowicz, Chen, Sutskever &
Welling 2016, "Improved Variational Inference with Inverse Autoregressive
Flow", section 3, eqs. (14)-(16) and Algorithm 1) pushes a sample z through
steps of

    (m, s) = MADE(z, h),      sigma = sigmoid(s)
    z_new  = sigma * z + (1 - sigma) * m
    log_det = sum_i log sigma_i                   (one number per row)

m_i and s_i depend only on the z_j before i in the MADE's order (and on the
context h), so dz_new/dz is triangular with diagonal sigma, and log_det is
the log of its determinant. Given dz_new (B, D) and dlog_det (B,),
elementwise (d sigma / ds = sigma (1 - sigma), d log sigma / ds = 1 - sigma):

    dm = (1 - sigma) * dz_new
    ds = sigma (1 - sigma) (z - m) * dz_new + (1 - sigma) * dlog_det[:, None]

then the MADE carries dm and ds back to its inputs,
``dz_made, dh = self.made.backward(dm, ds)`` (call it once: it consumes the
MADE's cache and adds its weights' gradients), and z reaches z_new along two
paths, directly and through the MADE:

    dz = sigma * dz_new + dz_made.

Write ``IAFStep.backward(dz_new, dlog_det)``, returning ``(dz, dh)`` (the
step here has a context h). ``forward`` keeps (z, m, sigma) in the cache.
"""

import numpy as np

from ..models.iaf import IAFStep
from ..nn.module import Module
from .exercise import Exercise, Mistake, module_trial


class _Joined(Module):
    """A step with one output, [z_new, log_det] side by side (B, D + 1), for module_trial."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def forward(self, z, h):
        z_new, log_det = self.step.forward(z, h)
        return np.concatenate([z_new, log_det[:, None]], axis=1)

    def backward(self, dy):
        # views into dy: a backward that changes dz_new or dlog_det in place changes dy,
        # which module_trial refuses
        return self.step.backward(dy[:, :-1], dy[:, -1])


def trial(iaf_step, rng):
    # D = 4 and B = 5, so that dlog_det (B,) broadcast against (B, D) without [:, None] raises
    D, B = 4, 5
    order = rng.permutation(D)
    step = iaf_step(D, (6,), 3, order, forget_bias=0.5, rng=rng, dtype=np.float64)
    inputs = {"z": rng.normal(size=(B, D)), "h": rng.normal(size=(B, 3))}
    out = module_trial(_Joined(step), inputs, rng=rng, upstream="dz_new or dlog_det")
    y = out.pop("y")
    named = {"z_new": y[:, :-1], "log_det": y[:, -1]}
    # the MADE's gradients, named as the step names them: dmade.layers.0.W, ..., dmade.V
    named.update({key.replace("dstep.", "d"): value for key, value in out.items()})
    return named


class _Mistake(IAFStep):
    """A wrong backward: ``dm_ds`` gives (dm, ds), ``dz`` combines the two paths."""

    def backward(self, dz_new, dlog_det):
        z, m, sigma = self.take()
        dm, ds = self.dm_ds(dz_new, dlog_det, z, m, sigma)
        dz_made, dh = self.made.backward(dm, ds)
        return self.dz(dz_new, sigma, dz_made), dh

    def dm_ds(self, dz_new, dlog_det, z, m, sigma):
        dm = (1.0 - sigma) * dz_new
        return dm, self.ds_flow(dz_new, z, m, sigma) + self.ds_log_det(dlog_det, sigma)

    def ds_flow(self, dz_new, z, m, sigma):
        return sigma * (1.0 - sigma) * (z - m) * dz_new

    def ds_log_det(self, dlog_det, sigma):
        return (1.0 - sigma) * dlog_det[:, None]

    def dz(self, dz_new, sigma, dz_made):
        return sigma * dz_new + dz_made


class _NoDirectPath(_Mistake):
    def dz(self, dz_new, sigma, dz_made):
        return dz_made


class _NoMadePath(_Mistake):
    def dz(self, dz_new, sigma, dz_made):
        return sigma * dz_new


class _DirectPathWithoutSigma(_Mistake):
    def dz(self, dz_new, sigma, dz_made):
        return dz_new + dz_made


class _NoLogDet(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return 0.0


class _LogDetOverSigma(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return dlog_det[:, None] / sigma


class _LogDetSummedOverTheBatch(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return (1.0 - sigma) * dlog_det.sum()


class _LogDetOfExpScale(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return dlog_det[:, None] * np.ones_like(sigma)


class _SigmaForSigmoidDerivative(_Mistake):
    def ds_flow(self, dz_new, z, m, sigma):
        return sigma * (z - m) * dz_new


class _GradientOfSigma(_Mistake):
    def dm_ds(self, dz_new, dlog_det, z, m, sigma):
        dm, _ = super().dm_ds(dz_new, dlog_det, z, m, sigma)
        return dm, (z - m) * dz_new + dlog_det[:, None] / sigma  # d/dsigma, not d/ds


class _FlowTermWithRespectToSigma(_Mistake):
    def ds_flow(self, dz_new, z, m, sigma):
        return (z - m) * dz_new


class _LogDetAsSigmoidDerivative(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return sigma * (1.0 - sigma) * dlog_det[:, None]


class _LogDetWithSigma(_Mistake):
    def ds_log_det(self, dlog_det, sigma):
        return sigma * dlog_det[:, None]


class _MMinusZ(_Mistake):
    def ds_flow(self, dz_new, z, m, sigma):
        return sigma * (1.0 - sigma) * (m - z) * dz_new


class _DmWithoutGate(_Mistake):
    def dm_ds(self, dz_new, dlog_det, z, m, sigma):
        _, ds = super().dm_ds(dz_new, dlog_det, z, m, sigma)
        return dz_new, ds


class _DmSignFlipped(_Mistake):
    def dm_ds(self, dz_new, dlog_det, z, m, sigma):
        dm, ds = super().dm_ds(dz_new, dlog_det, z, m, sigma)
        return -dm, ds


class _DmWithSigma(_Mistake):
    def dm_ds(self, dz_new, dlog_det, z, m, sigma):
        _, ds = super().dm_ds(dz_new, dlog_det, z, m, sigma)
        return sigma * dz_new, ds


EXERCISE = Exercise(
    number=16,
    chapter="ch. 4-5",
    slug="iaf_step",
    title="IAF: the backward pass of a flow step and its log-determinant",
    target="IAFStep",
    reference=IAFStep,
    trial=trial,
    solution="tinyvae/models/iaf.py, IAFStep.backward",
    hints=[
        "Walk the forward lines backwards. z_new depends on m and s (through sigma), log_det "
        "on s alone: gather dm and ds, each (N, D), before you call self.made.backward(dm, ds), "
        "which returns (dz_made, dh). z reaches z_new along two paths, directly (the z in "
        "sigma * z) and through the MADE (via m and s): dz is the sum of both. dlog_det is "
        "(N,): dlog_det[:, None] spreads each row's value over its D entries.",
        "Elementwise, z_new_i = sigma_i z_i + (1 - sigma_i) m_i has d/dm_i = 1 - sigma_i, "
        "d/dsigma_i = z_i - m_i and d/dz_i = sigma_i (the direct path). So "
        "dm = (1 - sigma) * dz_new.",
        "For ds, chain through sigma = sigmoid(s): d sigma / ds = sigma (1 - sigma), and "
        "d log sigma / ds = 1 - sigma for log_det. So ds = sigma * (1 - sigma) * (z - m) * "
        "dz_new + (1 - sigma) * dlog_det[:, None].",
        "dm = (1 - sigma) * dz_new; ds = sigma * (1 - sigma) * (z - m) * dz_new + "
        "(1 - sigma) * dlog_det[:, None]; dz_made, dh = self.made.backward(dm, ds); "
        "return sigma * dz_new + dz_made, dh.",
    ],
    mistakes=[
        Mistake(
            "ds taken with respect to sigma",
            _GradientOfSigma,
            "ds is the gradient with respect to sigma, not s: both of its terms still have to "
            "be chained through sigma = sigmoid(s), times the sigmoid's derivative",
        ),
        Mistake(
            "no direct path",
            _NoDirectPath,
            "dz misses the direct path: z enters z_new = sigma * z + (1 - sigma) * m itself, as "
            "well as through the MADE (hint 2 of 4 derives it)",
        ),
        Mistake(
            "no path through the MADE",
            _NoMadePath,
            "dz misses the path through the MADE: m and s depend "
            "on z (on the variables before each i), and self.made.backward(dm, ds) returns that "
            "part, dz_made (hint 1 of 4 describes both paths)",
        ),
        Mistake(
            "direct path without sigma",
            _DirectPathWithoutSigma,
            "dz's direct path is dz_new, as if z_new = z + ...: it misses the factor sigma that "
            "multiplies z in z_new (hint 2 of 4 derives it)",
        ),
        Mistake(
            "no log-det term",
            _NoLogDet,
            "ds misses the log-determinant's term: log_det = sum_i log sigma_i depends on s too "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "dlog_det / sigma",
            _LogDetOverSigma,
            "ds has dlog_det / sigma as its log-det term, the derivative with respect to sigma, "
            "not s: the chain rule through sigma = sigmoid(s) is missing (hint 3 of 4 derives it)",
        ),
        Mistake(
            "dlog_det summed over the batch",
            _LogDetSummedOverTheBatch,
            "ds's log-det term uses dlog_det summed over the batch: dlog_det holds one value "
            "per example, (B,), and each multiplies its own row, dlog_det[:, None] "
            "(hint 3 of 4 derives the term)",
        ),
        Mistake(
            "log-det of an exp scale",
            _LogDetOfExpScale,
            "ds has dlog_det as its log-det term, as for a scale exp(s) (log exp(s) = s): here "
            "the scale is sigma = sigmoid(s), whose log has another derivative "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "sigma for the sigmoid's derivative",
            _SigmaForSigmoidDerivative,
            "ds uses sigma for d sigma / ds in its z_new term, missing the sigmoid derivative's "
            "factor 1 - sigma (hint 3 of 4 derives it)",
        ),
        Mistake(
            "z_new term with respect to sigma",
            _FlowTermWithRespectToSigma,
            "ds's z_new term is the gradient with respect to sigma, not s: it still has to be "
            "chained through sigma = sigmoid(s), times the sigmoid's derivative "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "log-det term with the derivative of sigma",
            _LogDetAsSigmoidDerivative,
            "ds has sigma (1 - sigma) dlog_det as its log-det term, the derivative of sigma, "
            "not of log sigma: the chain rule through the log is missing (hint 3 of 4 derives it)",
        ),
        Mistake(
            "log-det term with sigma",
            _LogDetWithSigma,
            "ds has sigma dlog_det as its log-det term: sigma = sigmoid(s) is the derivative "
            "of log(1 + exp(s)), not of log sigma = log sigmoid(s), whose derivative in s is "
            "another factor (hint 3 of 4 derives it)",
        ),
        Mistake(
            "(m - z)",
            _MMinusZ,
            "ds has the sign of its z_new term flipped, in the "
            "factor m - z (hint 2 of 4 derives d z_new / d sigma)",
        ),
        Mistake(
            "dm without the gate",
            _DmWithoutGate,
            "dm misses the gate, the factor that multiplies m in z_new (hint 2 of 4 derives it)",
        ),
        Mistake(
            "dm sign flipped",
            _DmSignFlipped,
            "dm, the gradient you pass to self.made.backward, has its sign flipped, so every "
            "gradient from the MADE (its weights', dh and dz's path through it) is wrong with "
            "it: m enters z_new with the gate 1 - sigma, which is positive (hint 2 of 4 "
            "derives dm)",
        ),
        Mistake(
            "dm with sigma",
            _DmWithSigma,
            "dm uses sigma, the gate of z, where the gate of m in z_new belongs "
            "(hint 2 of 4 derives it)",
        ),
    ],
)
