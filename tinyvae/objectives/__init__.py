"""Part IV: how a model is trained -- the bounds, their estimators and gradients.

Read objective.py (the contract), then sgvb.py (AEVB's estimators A and B),
iwae.py, score_function.py, wake_sleep.py and weight_prior.py; semi_supervised.py
is M2's objective (thesis chapter 3); dropout_kl.py and
variational_dropout.py are variational dropout's (thesis chapter 6).
"""

from ..validation import check_bool, check_choice
from .dropout_kl import DropoutKL
from .iwae import IWAE
from .objective import Objective
from .score_function import ScoreFunction
from .semi_supervised import SemiSupervised, paper_alpha
from .sgvb import SGVB_A, SGVB_B, SGVB_B_Top, elbo_objective
from .variational_dropout import VariationalDropout
from .wake_sleep import WakeSleep
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
    "add_weight_prior",
    "elbo_objective",
    "make_objective",
    "paper_alpha",
    "resolve_estimator",
]
