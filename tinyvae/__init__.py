"""tinyvae: variational autoencoders in NumPy, every backward pass by hand.

Read it like a book, in this order:

    nn/             Part I    the module protocol, Linear, activations, MLP, masked
                              linear layers and MADE, Gaussian-weight and dropout layers
    distributions/  Part II   reparameterization, Gaussian, Bernoulli, KL, categorical,
                              2-D target energies
    models/         Part III  what p(z), q(z|x) and p(x|z) are; the VAE; two stochastic
                              layers; M2; inverse autoregressive flow; a dropout classifier
    objectives/     Part IV   the bounds: SGVB A and B, IWAE, score function, wake-sleep,
                              the semi-supervised objective, variational dropout
    optim.py                  Adam (Algorithm 1), AdaMax, SGD (heavy ball, Nesterov),
                              AdaGrad, RMSProp
    gradcheck.py              the proof of every backward pass
    evaluation.py             L_k, active units, gradient variance
    train.py                  the one training loop, fit
    checkpoint.py, plots.py, files.py, validation.py, threads.py, memory.py, data/   the plumbing

Everything public is also here, flat: ``tv.VAE``, ``tv.Adam``, ``tv.fit``, ...
"""

from . import _aliases, gradcheck
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data import Batches, Dataset, batches, binarize, load_dataset
from .distributions import (
    BernoulliLogDensity,
    BernoulliLogLikelihood,
    GaussianKL,
    GaussianLogDensity,
    Reparameterize,
    StandardNormalKL,
    StandardNormalLogDensity,
    sample_eps,
)
from .evaluation import active_units, gradient_variance, log_likelihood
from .models import (
    M2,
    VAE,
    BernoulliLikelihood,
    Classifier,
    DropoutMLP,
    GaussianLikelihood,
    GaussianPosterior,
    HierarchicalVAE,
    IAFPosterior,
    IAFStep,
    StandardNormalPrior,
)
from .nn import (
    ELU,
    MADE,
    MLP,
    BayesianLinear,
    LeakyReLU,
    Linear,
    MaskedLinear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    init_weights,
    logsumexp,
    sigmoid,
    softplus,
)
from .objectives import (
    ESTIMATORS,
    IWAE,
    MAP,
    SGVB_A,
    SGVB_B,
    FreeBits,
    Objective,
    ScoreFunction,
    SemiSupervised,
    SGVB_B_Top,
    VariationalDropout,
    WakeSleep,
    WarmUp,
    add_weight_prior,
    make_objective,
    paper_alpha,
    paper_labelled_weight,
)
from .optim import SGD, AdaGrad, Adam, AdaMax, Optimizer, RMSProp
from .threads import set_blas_threads
from .train import History, TrainingDiverged, fit, fit_wake_sleep

_aliases.install()

__version__ = "0.3.0"
