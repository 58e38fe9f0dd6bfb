"""Optimizers that update parameters in place from their accumulated gradients.

Each optimizer takes ``model.parameters()`` -- ``(name, param, grad)`` triples --
and keeps its state (moments, step count) keyed by the qualified parameter
name, so the state can be saved in a checkpoint and restored exactly.
All of them *minimize*: they step against the gradient of the loss.

Every optimizer takes ``lr_decay``: ``"constant"`` (the default) keeps the
step size ``lr``; ``"inverse_sqrt"`` makes step t use lr / sqrt(t), the decay
of Kingma & Ba's logistic regression experiment (Adam section 6.1). The
decayed step size follows from the saved step count, so a resumed run
continues exactly.
"""

import math

import numpy as np

from .validation import check_bool, check_choice, check_float

LR_DECAYS = ("constant", "inverse_sqrt")


class Optimizer:
    """Holds the parameter list and the named state; subclasses define ``step``."""

    hyperparameters = ()

    def __init__(self, parameters, lr_decay="constant"):
        self.lr_decay = check_choice(lr_decay, "lr_decay", LR_DECAYS)
        if hasattr(parameters, "parameters"):  # a model or an objective, not its parameters
            raise TypeError(
                "parameters: expected model.parameters(), the (name, param, grad) triples, "
                f"got the {type(parameters).__name__} itself; pass its .parameters()"
            )
        if callable(parameters):
            raise TypeError(
                "parameters: expected model.parameters(), got the function "
                f"{getattr(parameters, '__qualname__', type(parameters).__name__)} without its "
                "call; add the parentheses: model.parameters()"
            )
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("parameters: expected model.parameters(), got an empty list")
        for entry in self.parameters:
            if not (
                isinstance(entry, tuple)
                and len(entry) == 3
                and isinstance(entry[0], str)
                and all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in entry[1:])
                and entry[1].shape == entry[2].shape
            ):
                raise TypeError(
                    "parameters: expected model.parameters(), (name, param, grad) triples of "
                    f"floating arrays of one shape, got an entry {entry!r:.60}"
                )
        names = [name for name, _, _ in self.parameters]
        if len(set(names)) < len(names) or len({id(p) for _, p, _ in self.parameters}) < len(names):
            raise ValueError("parameters: a parameter is listed twice (it would be updated twice)")
        self.t = 0  # number of steps taken
        self.state = {}  # slot name -> {parameter name -> array}

    def _slot(self, slot):
        """A zero array per parameter for a piece of state such as Adam's ``m``."""
        self.state[slot] = {name: np.zeros_like(param) for name, param, _ in self.parameters}
        return self.state[slot]

    def step(self):
        raise NotImplementedError

    def current_lr(self):
        """The step size of step ``t``, the lr of each update rule below: ``lr``, or
        ``lr / sqrt(t)`` with ``lr_decay="inverse_sqrt"``."""
        if self.lr_decay == "inverse_sqrt":
            return self.lr / math.sqrt(self.t)
        return self.lr

    def check_parameters(self):
        """Refuse to update arrays the model no longer uses.

        ``model.astype`` replaces every parameter and gradient and makes the
        old arrays read-only; an optimizer made before it would otherwise
        update the old arrays and train nothing, without a word.
        """
        for name, param, grad in self.parameters:
            if not (param.flags.writeable and grad.flags.writeable):
                raise RuntimeError(
                    f"{type(self).__name__}: parameter {name!r} is no longer the model's "
                    "(model.astype() replaced it); make the optimizer after converting the model"
                )

    def check_updates(self, model):
        """Refuse to train ``model`` (or an objective) unless these are its parameters."""
        self.check_parameters()
        own = {id(param) for _, param, _ in model.parameters()}
        foreign = [name for name, param, _ in self.parameters if id(param) not in own]
        if foreign:
            raise ValueError(
                f"optimizer: it updates arrays that are not this model's parameters "
                f"({foreign[0]!r}, ...); make it with tv.Adam(model.parameters()) for this model"
            )

    def zero_grad(self):
        """Set the gradient of every parameter this optimizer updates to zero."""
        self.check_parameters()
        for _, _, grad in self.parameters:
            grad.fill(0.0)

    def state_dict(self):
        """Flat dict of arrays: ``"t"`` and ``"<slot>/<parameter name>"``."""
        flat = {"t": np.array(self.t)}
        for slot, arrays in self.state.items():
            for name, value in arrays.items():
                flat[f"{slot}/{name}"] = value.copy()
        return flat

    def check_state_dict(self, flat):
        """Raise ValueError unless ``flat`` fits this optimizer's parameters."""
        expected = {"t"} | {
            f"{slot}/{name}" for slot, arrays in self.state.items() for name in arrays
        }
        if set(flat) != expected:
            missing, unexpected = sorted(expected - set(flat)), sorted(set(flat) - expected)
            raise ValueError(
                f"{type(self).__name__} state does not match these parameters: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
            )
        t = np.asarray(flat["t"])
        if t.shape != () or t.dtype.kind not in "iu" or t < 0:
            raise ValueError(f"optimizer step count t: expected one integer >= 0, got {t!r}")
        for slot, arrays in self.state.items():
            for name, value in arrays.items():
                saved = flat[f"{slot}/{name}"]
                if saved.shape != value.shape or saved.dtype != value.dtype:
                    raise ValueError(
                        f"optimizer state {slot}/{name}: expected {value.shape} {value.dtype}, "
                        f"got {saved.shape} {saved.dtype}"
                    )

    def load_state_dict(self, flat):
        """Restore state saved by ``state_dict``, after checking all of it."""
        self.check_state_dict(flat)
        self.t = int(flat["t"])
        for slot, arrays in self.state.items():
            for name, value in arrays.items():
                value[...] = flat[f"{slot}/{name}"]

    def __repr__(self):
        args = ", ".join(f"{h}={getattr(self, h)!r}" for h in self.hyperparameters)
        # only when not constant, so that runs saved before the option existed still resume
        decay = f", lr_decay={self.lr_decay!r}" if self.lr_decay != "constant" else ""
        return f"{type(self).__name__}({args}{decay})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional heavy-ball or Nesterov momentum.

    Heavy ball (Polyak 1964):
        v <- momentum * v - lr * g(theta);   theta <- theta + v
    Nesterov (Sutskever et al. 2013, eq. 3-4), the gradient taken at the look-ahead
    point phi + momentum * v of the point phi:
        v <- momentum * v - lr * g(phi + momentum * v);   phi <- phi + v
    which, written for the look-ahead point theta = phi + momentum * v itself
    (the parameters we store and differentiate at), is
        v <- momentum * v - lr * g(theta);   theta <- theta + momentum * v - lr * g(theta).
    With momentum = 0 both are theta <- theta - lr * g.

    v holds lr * g summed with decaying weights, as in these equations, so a
    step size that changes (``lr_decay``) scales the new gradient only;
    torch.optim.SGD keeps the sum of g and multiplies all of it by the current
    step size. At a constant step size the two are the same.
    """

    hyperparameters = ("lr", "momentum")

    def __init__(self, parameters, lr=0.01, momentum=0.0, nesterov=False, lr_decay="constant"):
        # checked, and kept as given: repr(optimizer) is part of a checkpoint's settings
        check_float(lr, "lr", 0, low_open=True)
        check_float(momentum, "momentum", 0, 1, high_open=True)
        self.nesterov = check_bool(nesterov, "nesterov")
        if self.nesterov and momentum == 0:
            raise ValueError("nesterov: Nesterov momentum needs a momentum above 0, got 0")
        self.lr, self.momentum = lr, momentum
        super().__init__(parameters, lr_decay)
        self.velocity = self._slot("velocity")

    def __repr__(self):
        text = super().__repr__()
        # only when on, so that runs saved before the option existed still resume
        return text[:-1] + ", nesterov=True)" if self.nesterov else text

    def step(self):
        self.check_parameters()
        self.t += 1
        lr = self.current_lr()
        for name, param, grad in self.parameters:
            v = self.velocity[name]
            v *= self.momentum
            v -= lr * grad  # v <- momentum v - lr g
            if self.nesterov:
                param += self.momentum * v - lr * grad  # theta + momentum v - lr g
            else:
                param += v  # theta + v


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011), the optimizer of the AEVB experiments.

    s <- s + g^2;   theta <- theta - lr * g / (sqrt(s) + eps)
    """

    hyperparameters = ("lr", "eps")

    def __init__(self, parameters, lr=0.01, eps=1e-8, lr_decay="constant"):
        check_float(lr, "lr", 0, low_open=True)
        check_float(eps, "eps", 0, low_open=True)
        self.lr, self.eps = lr, eps
        super().__init__(parameters, lr_decay)
        self.sum_sq = self._slot("sum_sq")

    def step(self):
        self.check_parameters()
        self.t += 1
        lr = self.current_lr()
        for name, param, grad in self.parameters:
            s = self.sum_sq[name]
            s += grad * grad
            param -= lr * grad / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam, Algorithm 1 of Kingma & Ba (2014); ``bias_correction=False`` drops m_hat and v_hat.

        t <- t + 1
        g_t = gradient of the loss at theta_{t-1}
        m_t = beta1 m_{t-1} + (1 - beta1) g_t          (biased first moment estimate)
        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2        (biased second raw moment estimate)
        m_hat_t = m_t / (1 - beta1^t)                  (bias-corrected, Adam section 3)
        v_hat_t = v_t / (1 - beta2^t)
        theta_t = theta_{t-1} - lr m_hat_t / (sqrt(v_hat_t) + eps)

    Without the bias corrections, m and v start at 0 and stay too small for
    the first ~1/(1 - beta2) steps (Adam section 3 and Figure 4 show what
    that costs). ``bias_corrected_moments(name)`` returns m_hat and v_hat of
    one parameter, to look at.

    ``step`` computes the same update in place, through one scratch buffer
    per parameter and no other temporaries, in twelve array operations; the
    comments map each to its line of Algorithm 1. The last line is regrouped
    as Adam section 2 suggests, so that the corrections become two scalars:

        lr m_hat / (sqrt(v_hat) + eps) = step_size m / (sqrt(v) + eps_hat),
        step_size = lr sqrt(c2) / c1,  eps_hat = eps sqrt(c2),  c1 = 1 - beta1^t,  c2 = 1 - beta2^t,

    the same number up to rounding (the tests check it against a literal
    transcription and against torch.optim.Adam).
    """

    hyperparameters = ("lr", "beta1", "beta2", "eps")

    def __init__(
        self,
        parameters,
        lr=1e-3,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        bias_correction=True,
        lr_decay="constant",
    ):
        check_float(lr, "lr", 0, low_open=True)
        # 0 <= beta < 1: beta = 1 would never forget the first gradient (and divide by 1 - 1)
        check_float(beta1, "beta1", 0, 1, high_open=True)
        check_float(beta2, "beta2", 0, 1, high_open=True)
        check_float(eps, "eps", 0, low_open=True)
        # kept as given: repr(optimizer) is part of a checkpoint's settings
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.bias_correction = check_bool(bias_correction, "bias_correction")
        super().__init__(parameters, lr_decay)
        self.m = self._slot("m")
        self.v = self._slot("v")
        # scratch space, not state: never saved in checkpoints
        self.scratch = {name: np.empty_like(param) for name, param, _ in self.parameters}

    def __repr__(self):
        text = super().__repr__()
        # only when off, so that runs saved before the option existed still resume
        return text if self.bias_correction else text[:-1] + ", bias_correction=False)"

    def corrections(self):
        """``(c1, c2) = (1 - beta1^t, 1 - beta2^t)``, or ``(1, 1)`` without bias correction."""
        if not self.bias_correction:
            return 1.0, 1.0
        return 1.0 - self.beta1**self.t, 1.0 - self.beta2**self.t

    def bias_corrected_moments(self, name):
        """The moments the last update divided, for parameter ``name`` (copies).

        ``(m_hat, v_hat) = (m / c1, v / c2)`` with bias correction; without it,
        ``c1 = c2 = 1`` and they are the raw ``(m, v)``.
        """
        c1, c2 = self.corrections()
        return self.m[name] / c1, self.v[name] / c2

    def step(self):
        self.check_parameters()
        self.t += 1
        c1, c2 = self.corrections()
        step_size = self.current_lr() * math.sqrt(c2) / c1
        eps_hat = self.eps * math.sqrt(c2)
        for name, param, grad in self.parameters:
            m, v, tmp = self.m[name], self.v[name], self.scratch[name]
            # m_t = beta1 m_{t-1} + (1 - beta1) g_t
            np.multiply(grad, 1.0 - self.beta1, out=tmp)
            m *= self.beta1
            m += tmp
            # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
            np.square(grad, out=tmp)
            tmp *= 1.0 - self.beta2
            v *= self.beta2
            v += tmp
            # theta_t = theta_{t-1} - lr m_hat_t / (sqrt(v_hat_t) + eps)
            #         = theta_{t-1} - step_size m_t / (sqrt(v_t) + eps_hat)
            np.sqrt(v, out=tmp)
            tmp += eps_hat
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            param -= tmp


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012): divide the gradient by a running RMS of its past.

        v <- rho * v + (1 - rho) * g^2;   theta <- theta - lr * g / (sqrt(v) + eps)

    Adam without the first moment and without bias correction (Adam section 5).
    """

    hyperparameters = ("lr", "rho", "eps")

    def __init__(self, parameters, lr=1e-3, rho=0.9, eps=1e-8, lr_decay="constant"):
        check_float(lr, "lr", 0, low_open=True)
        check_float(rho, "rho", 0, 1, high_open=True)
        check_float(eps, "eps", 0, low_open=True)
        self.lr, self.rho, self.eps = lr, rho, eps
        super().__init__(parameters, lr_decay)
        self.v = self._slot("v")

    def step(self):
        self.check_parameters()
        self.t += 1
        lr = self.current_lr()
        for name, param, grad in self.parameters:
            v = self.v[name]
            v *= self.rho
            v += (1.0 - self.rho) * grad * grad  # v <- rho v + (1 - rho) g^2
            param -= lr * grad / (np.sqrt(v) + self.eps)


class AdaMax(Optimizer):
    """AdaMax, Algorithm 2 of Kingma & Ba (2014): Adam with the infinity norm.

        m <- beta1 * m + (1 - beta1) * g                (as in Adam)
        u <- max(beta2 * u, |g| + eps)                  (the exponentially weighted
                                                         infinity norm, Adam section 7.1)
        theta <- theta - (lr / (1 - beta1^t)) * m / u

    u needs no bias correction: it is a max, not an average started at 0.
    The paper's u is max(beta2 u, |g|); the eps (as in torch.optim.Adamax)
    keeps u above 0 for a parameter whose every gradient so far was exactly 0,
    where the paper's update would be 0 / 0.
    """

    hyperparameters = ("lr", "beta1", "beta2", "eps")

    def __init__(self, parameters, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, lr_decay="constant"):
        check_float(lr, "lr", 0, low_open=True)
        check_float(beta1, "beta1", 0, 1, high_open=True)
        check_float(beta2, "beta2", 0, 1, high_open=True)
        check_float(eps, "eps", 0, low_open=True)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        super().__init__(parameters, lr_decay)
        self.m = self._slot("m")
        self.u = self._slot("u")

    def step(self):
        self.check_parameters()
        self.t += 1
        step_size = self.current_lr() / (1.0 - self.beta1**self.t)  # m's bias correction
        for name, param, grad in self.parameters:
            m, u = self.m[name], self.u[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * grad  # m <- beta1 m + (1 - beta1) g
            u *= self.beta2
            np.maximum(u, np.abs(grad) + self.eps, out=u)  # u <- max(beta2 u, |g| + eps)
            param -= step_size * m / u
