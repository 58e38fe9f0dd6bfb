"""The MAP weight prior of AEVB's experiments: p(theta) = N(0, I).

AEVB (section 5) maximizes the bound plus log p(theta) over the whole data
set, estimated from a minibatch of M of the N points:

    J(theta, phi) = N/M sum_i L(theta, phi; x_i) + log p(theta, phi),
    -log N(theta; 0, I) = 1/2 ||theta||^2 + const,

whose gradient adds theta to the gradient of -J: plain weight decay.
``tinyvae.fit(..., scale_to_dataset=True, weight_prior=True)`` trains on J
by calling ``objective.backward(dloss=N)`` and then this regularizer.
"""

import numpy as np

from ..validation import check_float


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
