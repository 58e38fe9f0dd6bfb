"""Shared test settings: hypothesis profiles sized for a 2-core machine, and BLAS's
threads left as the machine (or the caller's OPENBLAS_NUM_THREADS) set them."""

import os

# fit would otherwise measure the load (0.2 s) and pick BLAS threads itself;
# the tests of that choice (tests/test_threads.py) set it explicitly.
os.environ.setdefault("TINYVAE_BLAS_THREADS", "keep")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
