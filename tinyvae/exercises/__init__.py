"""Gradient-check exercises: write the backward pass yourself, and learn what you got wrong.

In a terminal::

    python -m tinyvae.exercises list            # the exercises, with your progress
    python -m tinyvae.exercises start 2         # copies the skeleton to ./ex02_linear.py
    python -m tinyvae.exercises check ex02_linear.py
    python -m tinyvae.exercises hint 2          # the next hint
    python -m tinyvae.exercises solution 2      # where the answer lives in tinyvae's source

In a notebook: ``from tinyvae.exercises import check; check(2, MyLinear)``.

Each exercise is two files: ``skeletons/exNN_<name>.py``, the file a learner
starts from, whose docstring is the task; and ``exNN_<name>.py`` here, whose
docstring is the full derivation (read it once you are done) and which holds
the hints, the reference and the catalogue of mistakes (see ``exercise.py``).
"""

import importlib
import pkgutil
import re

from .exercise import CheckResult, Exercise, Mistake

__all__ = ["EXERCISES", "CheckResult", "Exercise", "Mistake", "check", "get"]


def _discover():
    """Every ``exNN_*.py`` module of this package, by number."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"ex\d\d_\w+", info.name):
            exercise = importlib.import_module(f"{__name__}.{info.name}").EXERCISE
            found[exercise.number] = exercise
    return dict(sorted(found.items()))


EXERCISES = _discover()


def get(key):
    """An exercise by number (2, "2", "02"), name ("linear") or file name ("ex02_linear.py")."""
    text = str(key).removesuffix(".py").split("/")[-1]
    for exercise in EXERCISES.values():
        names = {str(exercise.number), f"{exercise.number:02d}", exercise.slug}
        if text in names or text == exercise.filename.removesuffix(".py"):
            return exercise
    numbers = ", ".join(str(n) for n in EXERCISES)
    raise KeyError(f"no exercise {key!r}; there are {numbers} (python -m tinyvae.exercises list)")


def check(key, implementation, verbose=True):
    """Check ``implementation`` (your class or function) against exercise ``key``.

    Prints the report (unless ``verbose=False``) and returns it; the report
    is truthy if every array is right.
    """
    result = get(key).check(implementation)
    if verbose:
        print(result)
        result.printed = True
    return result
