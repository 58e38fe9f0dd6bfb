"""A softmax classifier: an MLP whose outputs are the logits of a categorical.

It is q(y|x) of the semi-supervised model M2 and the classifier that M1
trains on the latent codes (Kingma, Rezende, Mohamed & Welling 2014,
sections 3.1.1-3.1.2):

    logits = MLP(x),    q(y|x) = Cat(y; softmax(logits))
    loss   = -1/B sum_b log q(y_b|x_b)           (cross-entropy, nats per example)

``loss`` and ``backward`` train it; ``predict`` and ``error`` use it.
``forward`` and ``backward_logits`` give a larger objective (M2's) the
logits and take back their gradient.
"""

import numpy as np

from ..distributions.categorical import CategoricalLogDensity, one_hot
from ..nn.mlp import MLP
from ..nn.module import Module
from ..validation import check_float, check_input, check_int, check_labels


class Classifier(Module):
    """``in_dim -> hidden -> n_classes`` logits; the input is data (no gradient is computed)."""

    def __init__(
        self,
        in_dim,
        hidden=(500,),
        n_classes=10,
        activation="softplus",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.net = MLP(in_dim, hidden, self.n_classes, activation, init, rng, dtype, False)
        self.in_dim, self.dtype = self.net.sizes[0], self.net.layers[0].dtype
        self.density = CategoricalLogDensity()

    def __repr__(self):
        return f"Classifier({self.net.sizes}, activation={self.net.activation!r})"

    def check_x(self, x):
        return check_input(x, "x", ndim=2, last_dim=self.in_dim, dtype=self.dtype)

    def check_labels(self, labels, batch):
        """Integer labels 0..n_classes-1, one per example; returned as one-hot rows."""
        return one_hot(check_labels(labels, batch, self.n_classes), self.n_classes, self.dtype)

    def logits(self, x):
        """The logits of q(y|x), shape (B, n_classes); keeps no cache."""
        logits = self.net.forward(self.check_x(x))
        self.clear_cache()
        return logits

    def predict(self, x):
        """argmax_y q(y|x) for each row."""
        return np.argmax(self.logits(x), axis=1)

    def error(self, x, labels):
        """The fraction of rows whose predicted class is not the label."""
        y = self.check_labels(labels, len(self.check_x(x)))
        return float(np.mean(self.predict(x) != np.argmax(y, axis=1)))

    def loss(self, x, labels):
        """Cross-entropy -1/B sum_b log q(y_b|x_b) in nats per example; ``backward()`` follows."""
        x = self.check_x(x)
        y = self.check_labels(labels, len(x))
        log_q = self.density.forward(y, self.net.forward(x))
        self.save(len(x), phase="loss")
        return float(-np.mean(log_q))

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dtheta into the network's ``grads``."""
        dloss = check_float(dloss, "dloss")
        B = self.take("loss")
        # loss = -1/B sum_b log q(y_b|x_b): every example's log-probability gets -dloss / B
        _, dlogits = self.density.backward(np.full(B, -dloss / B, dtype=self.dtype))
        self.net.backward(dlogits)

    # -- inside a larger objective ------------------------------------------------------
    def forward(self, x):
        """The logits (B, n_classes) of checked x, kept for ``backward_logits``."""
        logits = self.net.forward(x)
        self.save()  # nothing to keep: the network holds the activations
        return logits

    def backward_logits(self, dlogits):
        """Add the gradient of the network's parameters for the logits' gradient."""
        self.take()
        self.net.backward(dlogits)
