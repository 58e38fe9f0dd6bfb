"""Checks at the door: validate an argument before any state changes.

Every public entry point checks what comes in with these helpers, so a bad
argument gets an error that names it, says what was expected and what came,
before any parameter, cache or random state is touched.
"""

import numpy as np


def check_input(x, name, ndim=None, last_dim=None, dtype=None):
    """Validate an input array and return it; raise a clear error otherwise.

    Checks, in order: it is a NumPy floating array, the number of axes, the
    size of the last axis, the dtype, and that every value is finite.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} axes, got shape {x.shape}")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise ValueError(f"{name}: expected last axis of size {last_dim}, got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name}: expected dtype {np.dtype(dtype)} (the model's dtype), got {x.dtype}; "
            f"convert the data with .astype({np.dtype(dtype).name}) or the model with .astype()"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    return x


def check_rng(rng, caller):
    """``rng`` must be a ``numpy.random.Generator``; say so naming ``caller``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{caller} needs rng=np.random.default_rng(seed), a numpy.random.Generator; "
            f"got {type(rng).__name__}"
        )
    return rng
