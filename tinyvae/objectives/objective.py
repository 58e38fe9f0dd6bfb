"""What every training objective provides, and the bookkeeping they all share.

An objective holds a model and turns a batch into a number to minimize:

    loss = objective.loss(x, rng=rng)   # batch mean of -bound, nats per example
    objective.backward(dloss=1.0)       # adds d(dloss * loss)/dtheta into the grads
    objective.parameters()              # what the optimizer updates

An estimator implements two methods. ``forward(x, eps)`` returns the
per-example bound, shape (B,), from noise ``eps`` of shape (L, B, J), and
keeps in the model's parts what its backward needs (and anything else in
``self.saved``). ``backward_bound(dbound, L)`` takes d(objective)/d(bound_b)
for each example and sends it back through the model's parts. Keeping the
upstream gradient per example (not one scalar) lets an objective weight its
examples, as the semi-supervised one will.

The activations live in the model's parts, which any other forward pass on
the same model replaces. So ``loss`` notes which forward pass each part
holds, and ``backward`` checks that they still hold it before it adds a
single gradient: a backward never mixes two forward passes.
"""

import numpy as np

from ..nn.module import Saves
from ..validation import check_float, check_int, check_model


def parts_of(model):
    """The model's parts whose activations an objective's backward uses: p(z), q(z|x),
    p(x|z) and, in the semi-supervised models, q(y|x); a classifier has none."""
    names = ("posterior", "prior", "likelihood", "classifier")
    return tuple(getattr(model, name) for name in names if hasattr(model, name))


class Objective(Saves):
    """Base class: ``loss``, ``backward`` and ``bound`` on top of ``forward``."""

    name = None  # the short name, e.g. "B"
    family = "vae"  # the models it trains (validation.check_model)
    needs = "forward"  # what the bound asks of the posterior: a sample and log q at it

    def __init__(self, model, n_samples=1):
        check_model(model, self.family, type(self).__name__)
        self.model, self.n_samples = model, check_int(n_samples, "n_samples")
        self.check_parts()
        self.parts = parts_of(model)  # the parts check_parts accepted
        self.cache = None
        self.saved = None  # what an estimator's backward needs beyond the parts' caches

    def __repr__(self):
        return f"{type(self).__name__}(n_samples={self.n_samples})"

    # -- what an estimator implements ------------------------------------------------
    def forward(self, x, eps):
        raise NotImplementedError

    def backward_bound(self, dbound, n_samples):
        raise NotImplementedError

    def check_samples(self, n_samples):
        """Refuse a number of samples the estimator cannot use (an estimator that has such
        a limit also checks it in its ``noise``, before any noise is drawn)."""

    def check_parts(self):
        """Refuse a model whose parts the bound cannot use (a posterior without the KL it
        needs, say). Checked when the objective is made, and again by ``loss`` and
        ``bound`` if a part has been replaced since."""

    def noise(self, batch, rng, eps):
        """eps of shape (L, B, J): the given one checked, or ``n_samples`` draws from ``rng``
        (after every other check: a call that fails leaves the caller's rng as it was)."""
        if eps is None and isinstance(rng, np.random.Generator):  # the usual case
            shape = (self.n_samples, batch, self.model.z_dim)
            return rng.standard_normal(shape, dtype=self.model.dtype)
        return self.model.noise(batch, rng, eps, self.n_samples)  # checked, or a clear error

    # -- what training uses ------------------------------------------------------------
    def settings(self):
        """What a checkpoint of a run records about the objective, so that a resumed run
        continues the same one (``fit`` compares them): its name and samples, and
        anything else an objective adds."""
        return {"n_samples": self.n_samples, "estimator": self.name}

    def check_data(self, x):
        """Validate a batch of data before anything runs."""
        return self.model.check_data(x)

    def check_training(self, data):
        """``tinyvae.fit``'s training data, ``Batches``, checked whole before training."""
        self.check_data(data.x)
        if data.labels is not None:
            raise ValueError(
                f"labels: {type(self).__name__} trains without labels; "
                "semi-supervised training needs tinyvae.objectives.SemiSupervised"
            )
        return data

    def check_test(self, x):
        """``tinyvae.fit``'s test data, checked before the first epoch."""
        self.check_data(x)

    def steps_per_epoch(self, data):
        """The number of batches ``batches`` yields in one epoch."""
        return data.steps(len(data))

    def batches(self, data, rng):
        """One epoch of training batches, each a dict of ``loss``'s arguments."""
        return data.epoch(rng)

    def training_settings(self, data):
        """What shapes a run of ``fit`` on ``data``: the batches' and the objective's
        settings (a checkpoint records them, a resumed run compares them)."""
        return {**data.settings(), **self.settings()}

    def parameters(self):
        return self.model.parameters()

    def zero_grad(self):
        self.model.zero_grad()

    def clear_cache(self):
        self.cache = self.saved = None
        self.model.clear_cache()

    def loss(self, x, rng=None, eps=None):
        """Batch mean of -bound, in nats per example, for one draw of the noise.

        Pass ``rng`` to draw ``eps`` (with ``n_samples`` samples per example),
        or ``eps`` itself, shape (B, J) or (L, B, J), to make the loss a
        deterministic function of the parameters. ``backward()`` follows.
        """
        model = self.model
        if self.parts != (model.posterior, model.prior, model.likelihood):  # one replaced:
            self.check_parts()  # check the new ones
            self.parts = parts_of(model)
        x = model.check_data(x)
        eps = self.noise(len(x), rng, eps)  # (L, B, J)
        # every argument is checked: from here on the parts' caches change
        bound = self.forward(x, eps)  # (B,)
        # the parts must still hold these activations when backward comes (a forward that
        # fails halfway keeps the previous record, whose parts then no longer hold it)
        self.save(eps.shape[:2], phase="loss", holding=self.parts)
        return float(-bound.mean())

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dtheta into every parameter's ``grads``."""
        dloss = check_float(dloss, "dloss")
        L, B = self.take("loss")  # refused if another forward pass ran on the parts
        # loss = -1/B sum_b bound_b, so every example's bound gets -dloss / B
        self.backward_bound(np.full(B, -dloss / B, dtype=self.model.dtype), L)
        self.saved = None

    # -- what evaluation uses ----------------------------------------------------------
    def evaluate(self, x, rng):
        """The test loss ``fit`` reports: mean -ELBO per example, z sampled.

        The ELBO whatever the training bound (estimator B where the posterior
        has a closed-form KL, else A), so that runs with different bounds (a
        VAE and an IWAE, AEVB and wake-sleep) compare: ``model.elbo`` chooses so.
        """
        bound = self.model.elbo(x, rng=rng, n_samples=self.n_samples)
        return float(-np.mean(bound, dtype=np.float64))

    def bound(self, x, rng=None, eps=None, batch_size=1000):
        """The per-example bound, shape (B,), computed in chunks; keeps no cache."""
        self.check_parts()
        x = self.model.check_data(x)
        batch_size = check_int(batch_size, "batch_size")
        eps = self.noise(len(x), rng, eps)
        out = np.empty(len(x), dtype=self.model.dtype)
        try:
            for start in range(0, len(x), batch_size):
                stop = start + batch_size
                out[start:stop] = self.forward(x[start:stop], eps[:, start:stop])
        finally:
            self.clear_cache()
        return out
