"""The variational objective of a classifier with dropout (Kingma, Salimans & Welling 2015, §2-3).

With a posterior q(W) over the weights (the dropout noise) and a prior p(W),

    L = sum_{i=1..N} E_q[ log p(y_i | x_i, W) ] - KL(q(W) || p(W)),

estimated on a minibatch of M of the N examples, with one draw of the noise
per example (the local reparameterization trick of the model's layers), by

    L ~ N/M sum_m log p(y_m | x_m, W_m) - KL.

tinyvae reports every loss per example, so this objective is -L / N:

    loss = -1/M sum_m log p(y_m | x_m, W_m) + KL / N.

The KL is that of the learned dropout rates from the log-uniform prior
(``DropoutKL``), one term per weight (times 1/3 for the paper's A2); a
model without learned rates has none, and the objective is plain training
with dropout. ``l2`` adds an L2 penalty on the weights (not the biases or
the rates), l2/2 sum_ij W_ij^2 per example: a Gaussian prior on W with
precision N l2, MAP-estimated -- the regularized logistic regression of
Kingma & Ba (2014, section 6.1) when the model has no hidden layer.
``fit(objective, optimizer, tv.Batches(x, y), ...)`` trains it; a
classifier has no label-free test loss, so the test error comes from
``on_epoch`` (``model.error(x_test, y_test)``).
"""

import numpy as np

from ..distributions.categorical import CategoricalLogDensity, log_softmax, one_hot
from ..validation import check_float, check_int, check_labels, check_rng
from .dropout_kl import DropoutKL
from .objective import Objective


class VariationalDropout(Objective):
    """``loss(x, rng, labels=y)`` = -1/M sum log p(y|x, W) + KL / ``n_train`` + l2/2 ||W||^2."""

    name = "variational_dropout"
    family = "classifier"

    def __init__(self, model, n_train, kl_approximation="kingma", l2=0.0):
        super().__init__(model, n_samples=1)
        self.n_train = check_int(n_train, "n_train")
        self.l2 = check_float(l2, "l2", 0)
        self.log_p = CategoricalLogDensity()
        self.kl_term = DropoutKL(kl_approximation)
        self.terms = None  # the last loss's two terms, in nats per example

    def __repr__(self):
        l2 = f", l2={self.l2}" if self.l2 else ""
        return f"VariationalDropout(n_train={self.n_train}, {self.kl_term.approximation!r}{l2})"

    def settings(self):
        """Also N, the KL's weight 1 / N, and (when not the defaults) l2 and the KL's form."""
        settings = {**super().settings(), "n_train": self.n_train}
        if self.l2:
            settings["l2"] = self.l2
        if self.kl_term.approximation != "kingma":
            settings["kl_approximation"] = self.kl_term.approximation
        return settings

    def check_labels(self, labels, batch):
        """Integer labels 0..K-1, one per row (every row of a classifier's data is labelled)."""
        return check_labels(labels, batch, self.model.n_classes)

    def check_training(self, data):
        """Every row with its label: ``tv.Batches(x, labels)``."""
        self.check_data(data.x)
        if data.labels is None:
            raise ValueError(
                f"labels: {type(self).__name__} trains a classifier; train on tv.Batches(x, labels)"
            )
        self.check_labels(data.labels, len(data))
        return data

    def check_test(self, x):
        self.evaluate(x, None)  # says why a classifier takes no x_test, and what to do

    # -- the KL of the learned rates ------------------------------------------------------
    def kl(self):
        """KL(q(W) || p(W)) over every weight, with its gradient kept for ``backward``."""
        layers = self.model.rate_layers()
        if not layers:
            return 0.0, None
        log_alpha = np.concatenate([layer.params["log_alpha"].ravel() for layer in layers])
        counts = np.concatenate(
            [np.full(layer.params["log_alpha"].size, layer.kl_count()) for layer in layers]
        )
        kl = self.kl_term.forward(log_alpha.astype(np.float64))
        return float(self.model.kl_scale * np.sum(counts * kl)), counts

    def backward_kl(self, dkl, counts):
        dflat = self.kl_term.backward(self.model.kl_scale * dkl * counts)
        start = 0
        for layer in self.model.rate_layers():
            grad = layer.grads["log_alpha"]
            grad += dflat[start : start + grad.size].reshape(grad.shape).astype(grad.dtype)
            start += grad.size

    # -- the L2 penalty -------------------------------------------------------------------------
    def weights(self):
        """(W, dL/dW) of every layer: its weight matrix (``W``, or ``theta`` of a noisy layer)."""
        return [
            (param, grad)
            for name, param, grad in self.model.parameters()
            if name.rsplit(".", 1)[-1] in ("W", "theta")
        ]

    def penalty(self):
        """l2/2 sum ||W||^2 over the weight matrices, in nats per example."""
        if not self.l2:
            return 0.0
        return 0.5 * self.l2 * sum(float(np.vdot(W, W)) for W, _ in self.weights())

    # -- training ---------------------------------------------------------------------------
    def _inputs(self, x, rng, eps, labels, caller):
        """``(x, labels, eps)`` checked, the noise drawn from ``rng`` if not given."""
        x = self.model.check_data(x)
        if labels is None:
            raise ValueError(f"labels: {caller} of a classifier needs the label of every row")
        labels = self.check_labels(labels, len(x))
        if eps is not None:
            return x, labels, self.model.check_noise(len(x), eps)
        if self.model.dropout != "none":
            check_rng(rng, caller)
        return x, labels, self.model.noise(len(x), rng)

    def loss(self, x, rng=None, eps=None, labels=None):
        """The loss for one draw of the noise: from ``rng``, or ``eps`` (one array per layer)."""
        x, labels, eps = self._inputs(x, rng, eps, labels, "VariationalDropout.loss")
        # every argument is checked: from here on the caches change
        logits = self.model.forward(x, eps)
        log_p = self.log_p.forward(one_hot(labels, self.model.n_classes, logits.dtype), logits)
        kl, counts = self.kl()
        nll = float(-np.mean(log_p, dtype=np.float64))
        penalty = self.penalty()
        self.terms = {"nll": nll, "kl_per_example": kl / self.n_train, "l2_penalty": penalty}
        self.save(len(x), counts, phase="loss", holding=self.model.layers)
        return nll + kl / self.n_train + penalty

    def backward(self, dloss=1.0):
        dloss = check_float(dloss, "dloss")
        M, counts = self.take("loss")  # refused if another forward pass ran on the layers
        # loss = -1/M sum_m log p_m + KL / N
        _, dlogits = self.log_p.backward(np.full(M, -dloss / M, dtype=self.model.dtype))
        self.model.backward(dlogits)
        if counts is not None:
            self.backward_kl(dloss / self.n_train, counts)
        if self.l2:
            for W, dW in self.weights():
                dW += (dloss * self.l2) * W  # d/dW (l2/2 W^2) = l2 W

    def bound(self, x, rng=None, eps=None, labels=None):
        """The per-example bound, shape (B,): log p(y|x, W) for one draw of the noise, less
        KL / n_train (minus the loss, per example, without the L2 penalty). Keeps no
        cache, like ``Objective.bound``."""
        x, labels, eps = self._inputs(x, rng, eps, labels, "VariationalDropout.bound")
        try:
            log_pi = log_softmax(self.model.forward(x, eps).astype(np.float64))
        finally:
            self.clear_cache()
        kl, _ = self.kl()
        return log_pi[np.arange(len(x)), labels] - kl / self.n_train

    def evaluate(self, x, rng):
        raise TypeError(
            "x_test: a classifier has no test loss without the test labels; pass x_test=None "
            "to fit and report the test error with on_epoch=lambda epoch: "
            "{'test_error': model.error(x_test, y_test)}"
        )
