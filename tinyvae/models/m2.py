"""M2, the generative semi-supervised model (Kingma, Rezende, Mohamed & Welling 2014).

    generative model    p(y) = Cat(y; 1/K)                     (uniform over K classes)
                        p(z) = N(z; 0, I)                      (prior.py)
                        p(x|y, z) from a decoder reading [z, one-hot y]   (likelihood.py)
    recognition model   q(z|x, y) = N(mu, diag exp(logvar)), an encoder reading [x, one-hot y]
                        q(y|x) = Cat(y; softmax(classifier(x)))           (classifier.py)

(section 3.1.2, eqs. 2-4). The label y is a second latent variable when it
is missing: the objectives in ``tinyvae.objectives.semi_supervised`` sum
over its K values. The parts are the VAE's, fed with one-hot labels
appended to their inputs, so every forward and backward pass is theirs:
``posterior`` reads x and y, ``likelihood`` reads z and y, and only the z
part of the likelihood's input gradient is used. The one difference is the
encoder's first layer, ``LabelledLinear``: it reads ``LabelledRows(x, rows,
y)`` rather than the concatenated rows [x, y], so that the K rows of an
unlabelled example compute x W_x once between them.

For M1+M2 (section 3.1.3) x is the latent code z1 of a trained M1 and the
likelihood is Gaussian: ``M2(z1_dim, likelihood="gaussian")``.
"""

import numpy as np

from .._aliases import renamed
from ..distributions.categorical import check_one_hot, one_hot, with_labels
from ..nn.activations import ACTIVATIONS
from ..nn.labelled_linear import LabelledLinear, LabelledRows
from ..nn.linear import INITS
from ..nn.mlp import MLP
from ..validation import check_choice, check_dtype, check_int, check_rng, check_sizes
from .classifier import Classifier
from .latent import LatentVariableModel
from .likelihood import BernoulliLikelihood, GaussianLikelihood
from .posterior import GaussianPosterior
from .prior import StandardNormalPrior

LIKELIHOODS = ("bernoulli", "gaussian")


class M2(LatentVariableModel):
    """M2 with MLP networks; ``hidden`` is shared by the encoder, decoder and classifier.

    The paper uses one hidden layer of 500 softplus units in each network
    and z of 50 dimensions (section 4.1).
    """

    family = "semi-supervised"  # the objectives that take it: validation.check_model

    def __init__(
        self,
        x_dim,
        n_classes=10,
        hidden=(500,),
        z_dim=50,
        activation="softplus",
        likelihood="bernoulli",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        # every argument is checked before the first weight is drawn from rng
        self.x_dim = check_int(x_dim, "x_dim")
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.hidden = check_sizes(hidden, "hidden")
        self.z_dim = check_int(z_dim, "z_dim")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.likelihood_name = check_choice(likelihood, "likelihood", LIKELIHOODS)
        self.init = check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng() if rng is None else check_rng(rng, "M2")
        K, hidden = self.n_classes, self.hidden

        out_dim = self.x_dim if likelihood == "bernoulli" else 2 * self.x_dim
        self.classifier = Classifier(self.x_dim, hidden, K, activation, init, rng, dtype)
        # q(z|x, y): the encoder reads [x, y], data both, so it computes no input gradient;
        # its first layer computes x W_x once per example for the K labels the
        # unlabelled bound tries (nn/labelled_linear.py), so it reads LabelledRows
        self.encoder = MLP(
            self.x_dim + K, hidden, 2 * self.z_dim, activation, init, rng, dtype, input_grad=False
        )
        self.encoder.layers[0] = LabelledLinear(self.encoder.layers[0], self.x_dim)
        # p(x|y, z): the decoder reads [z, y]
        self.decoder = MLP(self.z_dim + K, hidden[::-1], out_dim, activation, init, rng, dtype)
        self.prior = StandardNormalPrior(self.z_dim, self.dtype)
        self.posterior = GaussianPosterior(self.encoder, self.z_dim)
        if likelihood == "bernoulli":
            self.likelihood = BernoulliLikelihood(self.decoder)
        else:
            self.likelihood = GaussianLikelihood(self.decoder, self.x_dim)
        self.log_p_y = -np.log(K)  # log p(y) for the uniform prior: the same for every y

    def config(self):
        """The constructor arguments that fix the architecture (saved in checkpoints)."""
        return {
            "x_dim": self.x_dim,
            "n_classes": self.n_classes,
            "hidden": list(self.hidden),
            "z_dim": self.z_dim,
            "activation": self.activation,
            "likelihood": self.likelihood_name,
        }

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"M2({args})"

    # -- checking what comes in: x, z and the noise as every such model does, and y -------
    def check_y(self, y, batch):
        """Labels as one-hot rows (B, K): given as integers 0..K-1 or as one-hot rows."""
        y = np.asarray(y)
        if y.dtype.kind in "iu":
            if y.shape != (batch,):
                raise ValueError(f"y: expected {batch} labels, one per row, got shape {y.shape}")
            return one_hot(y, self.n_classes, self.dtype)
        check_one_hot(y, self.n_classes)
        if y.shape != (batch, self.n_classes):
            raise ValueError(
                f"y: expected one-hot rows of shape ({batch}, {self.n_classes}), got {y.shape}"
            )
        return y.astype(self.dtype, copy=False)

    # -- using a trained model ---------------------------------------------------
    def predict(self, x):
        """argmax_y q(y|x), the classification M2 makes."""
        return self.classifier.predict(self.check_data(x))

    def error(self, x, labels):
        """The fraction of examples whose predicted class is not the label."""
        return self.classifier.error(self.check_data(x), labels)

    def encode(self, x, y):
        """q(z|x, y): ``(mu, logvar)``, each (B, z_dim). Keeps no cache."""
        x = self.check_data(x)
        return self.posterior.encode(LabelledRows.one_each(x, self.check_y(y, len(x))))

    def decode_mean(self, z, y):
        """E[x|y, z] for latent codes z (n, z_dim) and labels y (integers or one-hot)."""
        z = self.check_z(np.asarray(z, dtype=self.dtype))
        return self.likelihood.mean(with_labels(z, self.check_y(y, len(z))))

    def analogies(self, x, y):
        """Figure 1(b): z = the mean of q(z|x, y) of each row of x, decoded with every class.

        Returns (B, K, x_dim): row b, column k is E[x|y=k, z_b], the style of
        x_b written as class k.
        """
        mu, _ = self.encode(x, y)
        B, K = len(mu), self.n_classes
        z = np.repeat(mu, K, axis=0)  # (B K, J): each code K times
        labels = np.tile(np.arange(K), B)
        return self.decode_mean(z, labels).reshape(B, K, -1)

    def sample_means(self, labels, rng):
        """E[x|y, z] for z ~ p(z) drawn afresh for each label in ``labels``."""
        check_rng(rng, "sample_means")
        y = self.check_y(labels, len(np.asarray(labels)))
        return self.decode_mean(self.prior.sample(len(y), rng), y)

    sample = renamed("sample_means", "sample")  # tinyvae 0.2's name; it returned means
