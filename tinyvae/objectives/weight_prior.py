"""The MAP weight prior of AEVB's experiments: p(theta) = N(0, I).

AEVB (section 5) maximizes the bound plus log p(theta) over the whole data
set, estimated from a minibatch of M of the N points:

    J(theta, phi) = N/M sum_i L(theta, phi; x_i) + log p(theta, phi),
    -log N(theta; 0, I) = 1/2 ||theta||^2 + const,

whose gradient adds theta to the gradient of -J: plain weight decay.
``MAP`` is that objective, wrapped around any other:

    objective = tv.MAP(tv.SGVB_B(model), n_data=len(x_train))
    tv.fit(objective, optimizer, x_train, ...)
"""

import numpy as np

from ..validation import check_float, check_int
from .objective import Objective


class MAP:
    """AEVB's J(theta, phi) (section 5) around ``objective``'s bound L:

        -J = -N/M sum_i L(x_i) + 1/2 ||theta||^2 = N * loss + 1/2 ||theta||^2,

    for a batch of M of the ``n_data`` = N training points. ``loss`` reports the
    wrapped objective's loss, -bound per example, the number to watch;
    ``backward`` adds the gradient of -J. Everything else (the batches, the
    test loss, the parameters) is the wrapped objective's.
    """

    def __init__(self, objective, n_data):
        if not isinstance(objective, Objective):
            raise TypeError(
                f"objective: expected a tinyvae objective such as tv.SGVB_B(model), "
                f"got {type(objective).__name__}"
            )
        self.objective = objective
        self.n_data = check_int(n_data, "n_data")

    def __repr__(self):
        return f"MAP({self.objective!r}, n_data={self.n_data})"

    def __getattr__(self, name):  # model, batches, evaluate, parameters, ...: the objective's
        return getattr(self.objective, name)

    def settings(self):
        """The wrapped objective's, and that the bound is scaled and the prior added."""
        return {**self.objective.settings(), "scale_to_dataset": True, "weight_prior": True}

    def training_settings(self, data):
        return {**self.objective.training_settings(data), **self.settings()}

    def loss(self, x, **arguments):
        """The wrapped objective's loss: the batch mean of -bound, in nats per example."""
        return self.objective.loss(x, **arguments)

    def backward(self, dloss=1.0):
        """Add d(dloss * -J)/dtheta into every gradient."""
        dloss = check_float(dloss, "dloss")
        self.objective.backward(self.n_data * dloss)  # -N/M sum_i L: N times the batch mean
        for _, theta, grad in self.objective.parameters():
            grad += dloss * theta  # d/dtheta of -log N(theta; 0, I) = 1/2 ||theta||^2 + const


def add_weight_prior(model, scale=1.0):
    """Add d/dtheta [scale/2 ||theta||^2] = scale * theta into every gradient.

    ``model`` is anything with ``parameters()``: a model or an objective.

    Returns the penalty scale/2 ||theta||^2 (in nats, for the whole model).
    """
    scale = check_float(scale, "scale", 0)
    penalty = 0.0
    for _, param, grad in model.parameters():
        grad += scale * param  # d/dtheta (theta^2 / 2) = theta
        penalty += 0.5 * scale * float(np.vdot(param, param))
    return penalty
