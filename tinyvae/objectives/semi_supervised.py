"""The semi-supervised objective of M2 (Kingma, Rezende, Mohamed & Welling 2014, section 3.1.2).

For a labelled example the label is observed, and the bound on log p(x, y)
is the VAE's with y appended (eq. 6):

    -L(x, y) = E_q(z|x,y)[log p(x|y, z)] + log p(y) - KL(q(z|x, y) || p(z))

For an unlabelled one y is a latent variable too, and the bound on log p(x)
sums over its K values exactly (eq. 7):

    -U(x) = sum_y q(y|x) (-L(x, y)) + H(q(y|x))

Since q(y|x) appears only in -U, the labelled examples also train the
classifier directly, with weight alpha (eq. 9). The loss minimized here,
in nats per example of a batch with labels -1 on its unlabelled rows, is

    loss = w mean_labelled [L(x, y) - alpha log q(y|x)] + mean_unlabelled [U(x)]

The paper writes the objective as sums over the whole data set with
alpha = 0.1 N; with batch means instead of sums the same weight per
labelled example is alpha = 0.1 N / N_labelled (``paper_alpha``), which is
the convention of the authors' code. In those sums a labelled example
weighs as much as an unlabelled one, so the loss above estimates eq. 9
(divided by N_unlabelled) with w = N_labelled / N_unlabelled
(``paper_labelled_weight``), whatever the share of labelled rows in a
batch. w = 1 weighs the few labelled rows of a batch as much as all its
unlabelled ones: with 100 labels among 50,000 images, 500 times the paper's
weight.

The sum over y needs -L(x, y) for every class: the K copies of the
unlabelled rows, each with its own one-hot label, go through the encoder
and the decoder as one stacked batch together with the labelled rows. The K
copies of an example share the noise eps, so the K bounds are estimated
with common random numbers.

With ``features``, a trained VAE (M1), the objective is M1+M2's (section
3.1.3): every batch is replaced by z1 ~ q(z1|x) of M1, drawn afresh, and
M2 (with a Gaussian likelihood) models z1. M1 is not trained further.
``feature_units`` keeps only some units of z1: the authors' code keeps the
active ones, whose posterior mean varies over the data (``tv.active_units``).
An inactive unit is N(0, 1) noise under q(z1|x) for every image, noise that
M2 would model and its classifier learn to ignore, and 0 at its mean, which
is what the classifier sees at test time.
"""

import numpy as np

from ..data.batching import Batches
from ..data.semi_supervised import check_labelled_set, mixed_batches
from ..distributions.categorical import (
    CategoricalEntropy,
    CategoricalExpectation,
    CategoricalLogDensity,
    one_hot,
    with_labels,
)
from ..distributions.reparameterize import sample_eps
from ..nn.labelled_linear import LabelledRows
from ..validation import check_float, check_int, check_labels, check_rng
from .objective import Objective


def paper_labelled_weight(n_labelled, n_unlabelled):
    """w = N_labelled / N_unlabelled: the labelled rows' mean weighs what eq. 9's sums give it."""
    n_labelled = check_int(n_labelled, "n_labelled")
    n_unlabelled = check_int(n_unlabelled, "n_unlabelled")
    return n_labelled / n_unlabelled


def paper_alpha(n_train, n_labelled):
    """The weight of the classification loss per labelled example: 0.1 N / N_labelled."""
    n_train = check_int(n_train, "n_train")
    n_labelled = check_int(n_labelled, "n_labelled")
    if n_labelled > n_train:
        raise ValueError(
            f"n_labelled: expected at most n_train={n_train} (the labelled examples are "
            f"among the training examples), got {n_labelled}; the order is "
            "paper_alpha(n_train, n_labelled)"
        )
    return 0.1 * n_train / n_labelled


def check_feature_units(units, features, x_dim):
    """The units of M1's z1 that M2 models, as sorted indices (None: all of them)."""
    z_dim = getattr(features, "z_dim", None)
    if features is not None and z_dim is None:
        raise ValueError(f"features: expected a trained VAE (M1), got {features!r}")
    if units is None:
        if features is not None and z_dim != x_dim:
            hint = f"; or pass feature_units, the {x_dim} units of z1 to keep"
            raise ValueError(
                f"features: expected a trained VAE with z_dim={x_dim} (M2's x_dim), got "
                f"{features!r}{hint if z_dim > x_dim else ''}"
            )
        return None
    if features is None:
        raise ValueError("feature_units: only for M1+M2; pass features= (M1) as well")
    expected = (
        f"feature_units: expected {x_dim} integer indices (M2's x_dim) of units of z1, such "
        "as np.flatnonzero(variances > 0.01) for tv.active_units's variances"
    )
    try:
        kept = np.asarray(units)
    except ValueError:  # a ragged list
        raise ValueError(f"{expected}, got {units!r}") from None
    if kept.ndim != 1 or kept.dtype.kind not in "iu" or len(kept) != x_dim:
        raise ValueError(f"{expected}, got {kept.dtype} of shape {kept.shape}")
    if kept.min() < 0 or kept.max() >= z_dim or len(np.unique(kept)) != len(kept):
        raise ValueError(
            f"feature_units: expected distinct indices in 0..{z_dim - 1} (M1's z_dim is "
            f"{z_dim}), got {kept.tolist()}"
        )
    return np.sort(kept)


class SemiSupervised(Objective):
    """M2's objective for batches mixing labelled and unlabelled rows (label -1).

    ``alpha`` weighs the classification loss of the labelled rows (see
    ``paper_alpha``), ``labelled_weight`` the labelled rows' mean against the
    unlabelled rows' (see ``paper_labelled_weight``); ``n_samples`` is the number
    of z samples per row;
    ``features`` a trained VAE whose q(z1|x) turns images into M2's data
    (M1+M2), and ``feature_units`` the indices of the units of z1 that M2
    models (all by default). In ``tinyvae.fit`` every batch of unlabelled rows also holds
    ``labelled_batch_size`` labelled ones (``batches``).
    """

    name = "m2"
    family = "semi-supervised"

    def __init__(
        self,
        model,
        alpha,
        n_samples=1,
        features=None,
        labelled_batch_size=100,
        labelled_weight=1.0,
        feature_units=None,
    ):
        super().__init__(model, n_samples)
        self.alpha = check_float(alpha, "alpha", 0)
        self.labelled_weight = check_float(labelled_weight, "labelled_weight", 0)
        self.labelled_batch_size = check_int(labelled_batch_size, "labelled_batch_size")
        self.feature_units = check_feature_units(feature_units, features, model.x_dim)
        self.features = features
        self.log_q_y = CategoricalLogDensity()  # log q(y|x) of the labelled rows
        self.expectation = CategoricalExpectation()  # sum_y q(y|x) (-L(x, y))
        self.entropy = CategoricalEntropy()  # H(q(y|x))
        self.terms = None  # the last loss's three terms, batch means in nats

    def __repr__(self):
        m1 = ", features=M1" if self.features is not None else ""
        if self.feature_units is not None:
            m1 += f" ({len(self.feature_units)} of its {self.features.z_dim} units)"
        w = f", labelled_weight={self.labelled_weight!r}" if self.labelled_weight != 1 else ""
        return f"SemiSupervised(alpha={self.alpha!r}{w}, n_samples={self.n_samples}{m1})"

    def settings(self):
        settings = {**super().settings(), "alpha": self.alpha}
        if self.labelled_weight != 1.0:  # so a checkpoint of the default resumes as before
            settings["labelled_weight"] = self.labelled_weight
        if self.feature_units is not None:
            settings["feature_units"] = self.feature_units.tolist()
        return settings

    # -- checking what comes in ---------------------------------------------------------
    def check_labels(self, labels, batch):
        """Integer labels, one per row: 0..K-1, or -1 where the label is unknown."""
        if labels is None:
            return np.full(batch, -1)
        return check_labels(labels, batch, self.model.n_classes, unlabelled=True)

    def check_data(self, x):
        """Images for M1+M2 (checked by M1), else M2's own data."""
        return (self.features or self.model).check_data(x)

    # -- what fit uses ---------------------------------------------------------------------
    def check_training(self, data):
        """Rows with their labels (-1: unknown); without labels, every row is unlabelled."""
        super().check_training(Batches(data.x))
        if data.labels is not None:
            labels = self.check_labels(data.labels, len(data))
            check_labelled_set(labels, self.model.n_classes)
        return data

    def steps_per_epoch(self, data):
        """An epoch is one pass over the unlabelled rows."""
        if data.labels is None:
            return super().steps_per_epoch(data)
        return data.steps(int(np.sum(np.asarray(data.labels) < 0)))

    def batches(self, data, rng):
        """Batches of ``data.batch_size`` unlabelled rows, each after ``labelled_batch_size``
        labelled ones (``tinyvae.data.semi_supervised.mixed_batches``)."""
        if data.labels is None:
            yield from super().batches(data, rng)
            return
        for x, y in mixed_batches(
            data.x,
            data.labels,
            data.batch_size,
            self.labelled_batch_size,
            rng,
            data.drop_last,
            self.model.n_classes,
        ):
            yield {"x": data.present(x, rng), "labels": y}

    def training_settings(self, data):
        """Also the size of the labelled set and the labelled rows in every batch."""
        settings = super().training_settings(data)
        if data.labels is not None:
            settings["labelled"] = int(np.sum(np.asarray(data.labels) >= 0))
            settings["labelled_batch_size"] = self.labelled_batch_size
        return settings

    def _inputs(self, x, rng):
        """M2's data for the batch: x itself, or z1 ~ q(z1|x) of M1 (drawn from ``rng``)."""
        if self.features is None:
            return x
        eps1 = sample_eps(rng, (len(x), self.features.z_dim), self.model.dtype)
        z1, _ = self.features.posterior.sample(x, eps1)
        return self._kept(z1)

    def _kept(self, z1):
        """The units of z1 that M2 models, in M2's dtype."""
        if self.feature_units is not None:
            z1 = z1[:, self.feature_units]
        return z1.astype(self.model.dtype, copy=False)

    def _check_rng_for_features(self, rng):
        if self.features is not None:
            if rng is None:
                raise ValueError("rng: M1+M2 draws z1 ~ q(z1|x) for every batch; pass rng=")
            check_rng(rng)

    # -- the bound of a labelled example -----------------------------------------------
    def forward_labelled(self, inputs, eps):
        """-L(x, y) for each row of ``inputs``, ``LabelledRows(x, rows, y)`` (row r is
        example x[rows[r]] with the one-hot label y[r]), and noise eps (L, R, J): shape (R,)."""
        model = self.model
        z, kl = model.posterior.forward_kl(inputs, eps)  # q(z|x, y): (L, R, J), (R,)
        x_rows = inputs.x[inputs.rows]
        log_px = model.likelihood.forward(x_rows, with_labels(z, inputs.y))  # log p(x|y, z)
        return log_px.mean(axis=0) + model.log_p_y - kl

    def backward_labelled(self, dbound, n_samples):
        """Backward of ``forward_labelled`` for d(objective)/d(-L) per row."""
        # d(-L)/d log p(x|y, z_l) = 1/L;  d(-L)/dKL = -1;  log p(y) is a constant
        dlog_px = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        _, dzy = self.model.likelihood.backward(dlog_px)  # y is a label: its gradient is dropped
        self.model.posterior.backward_kl(dzy[..., : self.model.z_dim], -dbound)

    # -- the whole objective --------------------------------------------------------------
    def forward(self, x, labels, eps):
        """The three terms of the loss, for checked inputs; keeps what backward needs."""
        K = self.model.n_classes
        lab, unl = np.flatnonzero(labels >= 0), np.flatnonzero(labels < 0)
        B_l, B_u = len(lab), len(unl)
        y_l = one_hot(labels[lab], K, self.model.dtype)
        # the rows of -L(x, y): each labelled example once, then the K copies of the
        # unlabelled ones, copy k (rows B_l + k B_u .. B_l + (k+1) B_u - 1) with the label k
        rows = np.concatenate([lab, np.tile(unl, K)])
        y_rows = np.concatenate([y_l, np.repeat(np.eye(K, dtype=y_l.dtype), B_u, axis=0)])
        eps_rows = eps[:, rows]  # the K copies of an example share its noise
        bound_rows = self.forward_labelled(LabelledRows(x, rows, y_rows), eps_rows)

        logits = self.model.classifier.forward(x[np.concatenate([lab, unl])])
        log_q_y = self.log_q_y.forward(y_l, logits[:B_l])  # (B_l,)
        minus_L_u = bound_rows[B_l:].reshape(K, B_u).T  # (B_u, K): -L(x_b, y=k)
        minus_U = self.expectation.forward(logits[B_l:], minus_L_u) + self.entropy.forward(
            logits[B_l:]
        )
        self.saved = (B_l, B_u)
        return {
            "labelled": -bound_rows[:B_l],  # L(x, y)
            "classification": -log_q_y,  # -log q(y|x)
            "unlabelled": -minus_U,  # U(x)
        }

    def loss(self, x, rng=None, eps=None, labels=None):
        """The batch's loss in nats per example; ``backward()`` follows.

        ``labels`` holds the class of each row, or -1 where it is unknown
        (None: every row is unlabelled). ``eps`` (B, J) or (L, B, J) is the
        noise of z for each row, shared by the K copies of an unlabelled row.
        """
        x = self.check_data(x)
        labels = self.check_labels(labels, len(x))
        self._check_rng_for_features(rng)
        eps = self.noise(len(x), rng, eps)  # draws eps after every check
        terms = self.forward(self._inputs(x, rng), labels, eps)
        self.save(len(eps), phase="loss", holding=self.parts)  # with q(y|x)
        self.terms = {
            name: float(value.mean()) if value.size else 0.0 for name, value in terms.items()
        }
        labelled = self.terms["labelled"] + self.alpha * self.terms["classification"]
        return self.labelled_weight * labelled + self.terms["unlabelled"]

    def noise(self, batch, rng, eps):
        eps = self.model.check_noise(batch, rng, eps)
        if eps is None:
            eps = sample_eps(rng, (self.n_samples, batch, self.model.z_dim), self.model.dtype)
        return eps

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dtheta into the grads of M2's parameters."""
        dloss = check_float(dloss, "dloss")
        L = self.take("loss")  # refused if another forward pass ran on the parts
        (B_l, B_u), self.saved = self.saved, None
        dtype = self.model.dtype
        # loss = w mean_l [L - alpha log q(y|x)] + mean_u [U]: each row's share of dloss
        d_l = -dloss * self.labelled_weight / B_l if B_l else 0.0  # per labelled -L(x, y)
        d_u = np.full(B_u, -dloss / B_u if B_u else 0.0, dtype=dtype)  # per -U(x)

        # -U = sum_y q(y|x) (-L(x, y)) + H(q(y|x)): the logits get both terms' gradient
        # (together pi_y (-L(x, y) - log pi_y - (-U))), each -L(x, y) the weight pi_y
        dlogits_u, dminus_L_u = self.expectation.backward(d_u)
        dlogits_u = dlogits_u + self.entropy.backward(d_u)
        _, dlogits_l = self.log_q_y.backward(np.full(B_l, self.alpha * d_l, dtype=dtype))
        self.model.classifier.backward_logits(np.concatenate([dlogits_l, dlogits_u]))

        dbound_rows = np.concatenate([np.full(B_l, d_l, dtype=dtype), dminus_L_u.T.ravel()])
        self.backward_labelled(dbound_rows.astype(dtype, copy=False), L)

    # -- evaluation ------------------------------------------------------------------------
    def bound(self, x, rng=None, eps=None, batch_size=500, labels=None):
        """Per-example bound, computed in chunks and keeping no cache.

        -U(x), the bound on log p(x), where the label is -1 (every row by
        default); -L(x, y), the bound on log p(x, y), where it is given.
        """
        x = self.check_data(x)
        labels = self.check_labels(labels, len(x))
        batch_size = check_int(batch_size, "batch_size")
        self._check_rng_for_features(rng)
        eps = self.noise(len(x), rng, eps)
        out = np.empty(len(x), dtype=np.float64)
        try:
            for start in range(0, len(x), batch_size):
                rows = slice(start, start + batch_size)
                part = labels[rows]
                terms = self.forward(self._inputs(x[rows], rng), part, eps[:, rows])
                out[np.flatnonzero(part >= 0) + start] = -terms["labelled"]
                out[np.flatnonzero(part < 0) + start] = -terms["unlabelled"]
        finally:
            self.clear_cache()
        return out

    def evaluate(self, x, rng):
        """Mean -bound per example over ``x`` (all unlabelled): -U(x), the test loss of ``fit``."""
        return float(-np.mean(self.bound(x, rng=rng)))

    def predict(self, x):
        """argmax_y q(y|x); for M1+M2, q(y|z1) at the mean of q(z1|x)."""
        x = self.check_data(x)
        if self.features is not None:
            x = self._kept(self.features.posterior.mean(x))
        return self.model.classifier.predict(x)

    def error(self, x, labels, batch_size=2000):
        """Test classification error of argmax_y q(y|x), a fraction in [0, 1]."""
        x = self.check_data(x)
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu" or labels.shape != (len(x),):
            raise ValueError(
                f"labels: expected {len(x)} integer labels, got {labels.dtype} {labels.shape}"
            )
        predicted = np.concatenate(
            [self.predict(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        )
        return float(np.mean(predicted != labels))

    def clear_cache(self):
        super().clear_cache()
        for module in (self.log_q_y, self.expectation, self.entropy):
            module.clear_cache()
