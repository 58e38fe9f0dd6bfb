"""Checks at the door: validate an argument before any state changes.

Every public entry point checks what comes in with these helpers, before it
touches a parameter, a gradient, optimizer state, a cache, a file or the
caller's random generator. A bad argument gets an error of one form,

    lr: expected a finite number > 0, got -0.001
    batch_size: expected an integer >= 1, got 1.5 (float)

naming the argument, what was expected and what came. ``TypeError`` means
the kind of value is wrong, ``ValueError`` that its value is.
"""

import math
import numbers
import sys

import numpy as np


def _got(value):
    """How a message shows the value that came: its repr, with its type unless that is plain."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if value is None or type(value) in (bool, int, str):
        return text
    return f"{text} ({type(value).__name__})"


def check_int(value, name, minimum=1, maximum=None):
    """An integer (not a bool, not 1.5, not 3.0) in ``[minimum, maximum]``; returns it as int."""
    bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer {bounds}, got {_got(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name}: expected an integer {bounds}, got {value}")
    return int(value)


def check_optional_int(value, name, minimum=1):
    """``None``, or an integer >= ``minimum``."""
    return None if value is None else check_int(value, name, minimum)


def check_float(value, name, low=None, high=None, low_open=False, high_open=False):
    """A finite real number in the interval given; returns it as float.

    ``low``/``high`` are the bounds (``None`` for none); ``low_open`` and
    ``high_open`` exclude them: ``check_float(lr, "lr", 0, low_open=True)``
    asks for lr > 0, ``check_float(beta1, "beta1", 0, 1, high_open=True)``
    for 0 <= beta1 < 1.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # a 0-d array, e.g. from np.float32(1e-3) * 2
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if (
            math.isfinite(number)
            and (low is None or (number > low if low_open else number >= low))
            and (high is None or (number < high if high_open else number <= high))
        ):
            return number
    raise _float_refused(value, name, low, high, low_open, high_open)


def _float_refused(value, name, low, high, low_open, high_open):
    """The error for a value ``check_float`` refused, naming what was expected."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    expected = "a finite number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return TypeError(f"{name}: expected {expected}, got {_got(value)}")
    return ValueError(f"{name}: expected {expected}, got {float(value)}")


def check_bool(value, name):
    """``True`` or ``False`` (NumPy's bool too); not 0, 1 or a string."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {_got(value)}")
    return bool(value)


def check_choice(value, name, choices):
    """One of ``choices``; the message lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {sorted(choices)}, got {_got(value)}")
    return value


def check_sizes(values, name):
    """A sequence of layer sizes, each an integer >= 1; returns a tuple of ints."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise TypeError(
            f"{name}: expected a list of layer sizes such as [400] or (500, 500), "
            f"got {_got(values)}"
        )
    return tuple(check_int(v, f"{name}[{i}]") for i, v in enumerate(values))


def check_dtype(dtype, name="dtype"):
    """np.float32 (to train) or np.float64 (for gradient checks)."""
    expected = f"{name}: expected np.float32 or np.float64"
    if dtype is None:
        raise TypeError(f"{expected}, got None")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{expected}, got {_got(dtype)}") from None
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{expected}, got {dtype}")
    return dtype


def check_input(x, name, ndim=None, last_dim=None, dtype=None, support=None):
    """Validate an input array and return it; raise a clear error otherwise.

    Checks, in order: it is a NumPy floating array, the number of axes, the
    size of the last axis, the dtype, that every value is finite, and, given
    ``support=(low, high, what)``, that every value lies in [low, high]
    (``what`` names the data in the message, e.g. "Bernoulli data").
    """
    if (
        isinstance(x, np.ndarray)
        and x.dtype.kind == "f"
        and (ndim is None or x.ndim == ndim)
        and (last_dim is None or x.shape[-1] == last_dim)
        and (dtype is None or x.dtype == dtype)
        and np.isfinite(x).all()
        # min and max: two cheap reductions, no boolean temporaries
        and (support is None or not x.size or support[0] <= x.min() and x.max() <= support[1])
    ):
        return x
    raise _input_refused(x, name, ndim, last_dim, dtype, support)


def _input_refused(x, name, ndim, last_dim, dtype, support):
    """The error for the first check of ``check_input`` that ``x`` fails."""
    if not isinstance(x, np.ndarray):
        return TypeError(f"{name}: expected a NumPy array, got {type(x).__name__}")
    if x.dtype.kind != "f":
        return TypeError(f"{name}: expected a floating-point array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        return ValueError(f"{name}: expected {ndim} axes, got shape {x.shape}")
    if last_dim is not None and x.shape[-1] != last_dim:
        return ValueError(f"{name}: expected last axis of size {last_dim}, got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        return TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} (the model's dtype), got {x.dtype}; "
            f"convert the data with .astype({np.dtype(dtype).name}) or the model with .astype()"
        )
    if not np.isfinite(x).all():
        return ValueError(f"{name}: contains NaN or infinity")
    low, high, what = support
    return ValueError(
        f"{name}: {what} must lie in [{low:g}, {high:g}]; got values in "
        f"[{x.min():.4g}, {x.max():.4g}] (scale them to [{low:g}, {high:g}] first)"
    )


def check_rng(rng, caller=None, name="rng"):
    """``rng`` must be a ``numpy.random.Generator``; the message names ``caller`` if given."""
    if not isinstance(rng, np.random.Generator):
        where = f"{caller}: " if caller else ""
        raise TypeError(
            f"{where}{name}: expected a numpy.random.Generator such as "
            f"np.random.default_rng(seed), got {_got(rng)}"
        )
    return rng


def check_labels(labels, n_rows, n_classes, unlabelled=False, name="labels"):
    """Integer classes 0..n_classes-1, one per row; with ``unlabelled=True`` also -1, a row
    whose label is unknown. Returns them as an integer array of shape (n_rows,)."""
    expected = f"integers 0..{n_classes - 1}" + (
        ", or -1 for unlabelled rows" if unlabelled else ""
    )
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected {expected}, got dtype {labels.dtype}")
    if labels.shape != (n_rows,):
        raise ValueError(f"{name}: expected shape ({n_rows},), one per row, got {labels.shape}")
    lowest = -1 if unlabelled else 0
    if labels.size and (labels.min() < lowest or labels.max() >= n_classes):
        raise ValueError(
            f"{name}: expected {expected}, got values from {labels.min()} to {labels.max()}"
        )
    return labels


# The three families of models, what each is, and what trains it: a model that lands
# at a door of another family is refused with the door that fits it.
MODEL_FAMILIES = {
    "vae": (
        "a VAE (tv.VAE or tv.HierarchicalVAE)",
        "an ELBO estimator (tv.SGVB_A, tv.SGVB_B, tv.IWAE, tv.ScoreFunction, tv.WakeSleep) "
        "or tv.fit(model, ...)",
    ),
    "semi-supervised": (
        "a semi-supervised model (tv.M2)",
        "tv.SemiSupervised(model, alpha), trained by tv.fit(objective, opt, tv.Batches(x, y))",
    ),
    "classifier": (
        "a classifier (tv.DropoutMLP)",
        "tv.VariationalDropout(model, n_train), "
        "trained by tv.fit(objective, opt, tv.Batches(x, y))",
    ),
}


def check_model(model, family, caller):
    """``model`` must be of ``family`` (its class's ``family``: "vae", "semi-supervised" or
    "classifier"); the message names what ``caller`` takes and what trains the model."""
    found = getattr(type(model), "family", None)
    if found == family:
        return model
    wanted = MODEL_FAMILIES[family][0]
    if found in MODEL_FAMILIES:
        what, door = MODEL_FAMILIES[found]
        raise TypeError(
            f"{caller}: expected {wanted}, got {type(model).__name__}, {what}; use {door}"
        )
    raise TypeError(f"{caller}: expected {wanted}, got {type(model).__name__}")


def explain_a_namespace_import():
    """Make ``tinyvae.X`` say why it is missing when ``tinyvae`` is the clone's folder.

    Python started in the folder that holds a clone (named ``tinyvae``) imports
    that folder, which has no ``__init__.py``, as an empty namespace package
    instead of the package inside it (see ``tinyvae.cli``), and runs none of
    tinyvae's code for it: ``tv.VAE`` is then a bare AttributeError. Any
    submodule imported through it (``tinyvae.exercises``, ``tinyvae.nn``, ...)
    imports this module, which gives the empty package an explanation.
    """
    package = sys.modules.get(__package__)
    if package is None or getattr(package, "__file__", None) is not None:
        return  # the real package: nothing to explain
    folder = list(package.__path__)[0]

    def missing(name):
        raise AttributeError(
            f"module 'tinyvae' has no attribute {name!r}: 'import tinyvae' found {folder}, "
            "a folder without __init__.py (the clone of the repository), instead of the "
            "package inside it, because Python started in the folder above the clone. "
            "Start Python inside the clone or anywhere else, not in the folder above it"
        )

    package.__getattr__ = missing  # a module's __getattr__ answers for missing names


explain_a_namespace_import()
