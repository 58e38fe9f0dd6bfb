"""Part IV: how a model is trained -- the bounds, their estimators and gradients.

Read objective.py (the contract), then sgvb.py (AEVB's estimators A and B),
iwae.py, warm_up.py, free_bits.py, score_function.py, wake_sleep.py and
weight_prior.py; semi_supervised.py is M2's objective (thesis chapter 3); dropout_kl.py and
variational_dropout.py are variational dropout's (thesis chapter 6).
"""

from ..validation import check_bool, check_choice
from .dropout_kl import DropoutKL
from .free_bits import FreeBits
from .iwae import IWAE
from .objective import Objective
from .score_function import ScoreFunction
from .semi_supervised import SemiSupervised, paper_alpha, paper_labelled_weight
from .sgvb import SGVB_A, SGVB_B, SGVB_B_Top, elbo_objective
from .variational_dropout import VariationalDropout
from .wake_sleep import WakeSleep
from .warm_up import WarmUp
from .weight_prior import MAP, add_weight_prior

# Every estimator by its short name (as in the papers) and its descriptive one.
ESTIMATORS = {
    "B": SGVB_B,
    "sgvb_b": SGVB_B,
    "A": SGVB_A,
    "sgvb_a": SGVB_A,
    "B_top": SGVB_B_Top,
    "sgvb_b_top": SGVB_B_Top,
    "iwae": IWAE,
    "score": ScoreFunction,
    "score_function": ScoreFunction,
}


def resolve_estimator(name):
    """The objective class for an estimator name; a clear error for an unknown one."""
    return ESTIMATORS[check_choice(name, "estimator", ESTIMATORS)]


def default_estimator(posterior_class):
    """ "B" where q(z|x) has a closed-form KL from the prior (AEVB eq. 10), else "A"."""
    return "B" if hasattr(posterior_class, "forward_kl") else "A"


def check_estimator(name, posterior_class):
    """The estimator ``name`` (None: ``default_estimator``) if a posterior of
    ``posterior_class`` offers what its bound needs; a clear error otherwise.
    A model checks this before it draws a single weight."""
    if name is None:
        return default_estimator(posterior_class)
    needs = resolve_estimator(name).needs
    if not hasattr(posterior_class, needs):
        usable = [n for n, cls in ESTIMATORS.items() if hasattr(posterior_class, cls.needs)]
        raise ValueError(
            f"estimator: {name!r} needs a posterior with {needs}(), which "
            f"{posterior_class.__name__} does not have; expected one of {usable}"
        )
    return name


def make_objective(model, estimator, n_samples=1, baseline=False):
    """The objective that trains ``model`` with ``estimator`` and ``n_samples`` samples.

    ``baseline`` (the leave-one-out baseline) applies to the score-function
    estimator only.
    """
    cls = resolve_estimator(estimator)
    if cls is ScoreFunction:
        return ScoreFunction(model, n_samples, baseline=baseline)
    if check_bool(baseline, "baseline"):
        raise ValueError(
            f"baseline: True applies to the score-function estimator, not {estimator!r}"
        )
    return cls(model, n_samples)


__all__ = [
    "DropoutKL",
    "ESTIMATORS",
    "FreeBits",
    "IWAE",
    "MAP",
    "SGVB_A",
    "SGVB_B",
    "SGVB_B_Top",
    "Objective",
    "ScoreFunction",
    "SemiSupervised",
    "VariationalDropout",
    "WakeSleep",
    "WarmUp",
    "add_weight_prior",
    "check_estimator",
    "default_estimator",
    "elbo_objective",
    "make_objective",
    "paper_alpha",
    "paper_labelled_weight",
    "resolve_estimator",
]
