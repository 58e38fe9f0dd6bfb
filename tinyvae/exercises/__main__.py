"""The exercises' command line: list, start, check, hint, solution.

    python -m tinyvae.exercises list
    python -m tinyvae.exercises start 2          # writes ./ex02_linear.py
    python -m tinyvae.exercises check ex02_linear.py
    python -m tinyvae.exercises hint 2
    python -m tinyvae.exercises solution 2

Your progress (which exercises passed, how many hints you have seen) is kept
in ``.tinyvae-exercises.json`` in the folder you work in. ``check`` runs your
code with a time limit (``--time-limit``, 60 seconds; where the system has
SIGALRM), and exits with status 1 unless it passed.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import re
import signal
import sys

from ..files import write_json
from . import EXERCISES, get

PROGRESS = ".tinyvae-exercises.json"


def load_progress():
    """``{"passed": [...], "hints": {"2": 1}}`` from the current folder (empty if none)."""
    try:
        with open(PROGRESS) as f:
            progress = json.load(f)
    except FileNotFoundError:
        progress = {}
    except (OSError, ValueError):
        sys.exit(f"error: {PROGRESS} is damaged; delete it to start your progress afresh")
    progress.setdefault("passed", [])
    progress.setdefault("hints", {})
    return progress


def command_list(args):
    progress = load_progress()
    print(f"{'#':>3s}  {'status':<8s} {'chapter':<8s} exercise")
    for number, exercise in EXERCISES.items():
        if number in progress["passed"]:
            status = "passed"
        elif os.path.exists(exercise.filename):
            status = "started"
        else:
            status = ""
        print(f"{number:3d}  {status:<8s} {exercise.chapter:<8s} {exercise.title}")
    print(f"\nstart one with:  python -m tinyvae.exercises start N   (in {os.getcwd()})")


def command_start(args):
    exercise = get(args.exercise)
    if os.path.exists(exercise.filename) and not args.force:
        sys.exit(
            f"error: {exercise.filename} exists (your work?); check it, or pass --force "
            "to start over from the skeleton"
        )
    with open(exercise.filename, "w") as f:
        f.write(exercise.skeleton)
    print(exercise.task)
    print(f"wrote {exercise.filename}: fill in its TODO, then")
    print(f"  python -m tinyvae.exercises check {exercise.filename}")


class TimeLimit(BaseException):
    """The learner's code ran longer than ``--time-limit`` seconds (a BaseException, so that
    the checker's ``except Exception`` around the learner's code lets it through)."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise ``TimeLimit`` in the code run inside after ``seconds`` (needs SIGALRM: not on
    Windows, where the code runs without a limit)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeLimit(f"it ran for {seconds:g} s, the time limit (--time-limit)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exercise_of_file(path):
    """The exercise a file name says: its ``exNN_`` prefix, or its whole name."""
    name = os.path.basename(path)
    prefix = re.match(r"ex(\d\d)_", name)
    try:
        return get(int(prefix.group(1)) if prefix else name)
    except KeyError as error:
        raise KeyError(
            f"{error.args[0]}; the file name does not say which exercise it is: "
            "name it exNN_... or pass --exercise N"
        ) from None


def load_learner_file(path, exercise):
    """Import the learner's file and return what it defines under ``exercise.target``."""
    if not path.endswith(".py"):
        sys.exit(f"error: {path} is not a Python file: expected a file name ending in .py")
    if not os.path.isfile(path):
        sys.exit(f"error: no file {path}; `python -m tinyvae.exercises start N` writes one")
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:  # the capstone imports your earlier exercises from there
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"learner_{exercise.slug}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SystemExit as error:
        sys.exit(f"error: {path} calls sys.exit({error.code!r}) when it is imported")
    except Exception as error:  # the learner's file does not even import: say where
        sys.exit(f"error: {path} does not run: {type(error).__name__}: {error}")
    names = exercise.target if isinstance(exercise.target, tuple) else (exercise.target,)
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        sys.exit(f"error: {path} defines no {missing[0]}; the exercise checks that name")
    found = tuple(getattr(module, name) for name in names)
    return found if isinstance(exercise.target, tuple) else found[0]


def command_check(args):
    exercise = exercise_of_file(args.file) if args.exercise is None else get(args.exercise)
    try:
        with time_limit(args.time_limit):
            result = exercise.check(load_learner_file(args.file, exercise))
    except TimeLimit as error:
        print(f"Exercise {exercise.number}: {exercise.title}")
        print(f"  WRONG  your code did not finish: {error}. Is there a loop that never ends?")
        print("FAILED.")
        return 1
    print(result)
    progress = load_progress()
    if result and exercise.number not in progress["passed"]:
        progress["passed"] = sorted([*progress["passed"], exercise.number])
        write_json(PROGRESS, progress)
    return 0 if result else 1


def command_hint(args):
    exercise = get(args.exercise)
    progress = load_progress()
    seen = progress["hints"].get(str(exercise.number), 0)
    if seen >= len(exercise.hints):
        print(f"no more hints for exercise {exercise.number}; the answer: {exercise.solution}")
        seen = len(exercise.hints) - 1
    shown = min(seen + 1, len(exercise.hints))
    for k in range(shown):
        print(f"hint {k + 1} of {len(exercise.hints)}: {exercise.hints[k]}")
    progress["hints"][str(exercise.number)] = shown
    write_json(PROGRESS, progress)


def command_solution(args):
    exercise = get(args.exercise)
    print(f"exercise {exercise.number}: the reference is in {exercise.solution}")
    import tinyvae

    print(f"(tinyvae is installed at {os.path.dirname(tinyvae.__file__)})")


def positive_seconds(text):
    """An argparse ``type``: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tinyvae.exercises",
        description="Gradient-check exercises: write a backward pass, and learn what is wrong.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the exercises, with your progress in this folder")
    start = commands.add_parser("start", help="copy an exercise's skeleton into this folder")
    start.add_argument("exercise", help="its number or name")
    start.add_argument("--force", action="store_true", help="overwrite an existing copy")
    check = commands.add_parser("check", help="check your file against the reference")
    check.add_argument("file", help="your file, e.g. ex02_linear.py")
    check.add_argument(
        "--exercise", default=None, help="the exercise, if the file name does not say it"
    )
    check.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=60.0,
        help="seconds your code may run before the check stops it (default: 60)",
    )
    hint = commands.add_parser("hint", help="the next hint (and the ones before)")
    hint.add_argument("exercise", help="its number or name")
    solution = commands.add_parser("solution", help="where the reference answer lives")
    solution.add_argument("exercise", help="its number or name")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    handler = {
        "list": command_list,
        "start": command_start,
        "check": command_check,
        "hint": command_hint,
        "solution": command_solution,
    }[args.command]
    try:
        return handler(args) or 0
    except KeyError as error:
        sys.exit(f"error: {error.args[0]}")
    except KeyboardInterrupt:
        sys.exit("interrupted (Ctrl-C)")
    except BrokenPipeError:  # `list | head` closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
