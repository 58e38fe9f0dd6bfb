"""Every exercise: its reference passes, its skeleton is "not implemented yet", and
every catalogued mistake fails with its diagnosis; the command line end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tinyvae.exercises import EXERCISES, check, get
from tinyvae.exercises.exercise import describe_difference

ALL = list(EXERCISES.values())
MISTAKES = [(ex, mistake) for ex in ALL for mistake in ex.mistakes]


def skeleton_target(exercise):
    """What a learner's untouched copy of the skeleton defines."""
    namespace = {"__name__": "skeleton"}
    exec(compile(exercise.skeleton, exercise.filename, "exec"), namespace)
    if isinstance(exercise.target, tuple):
        return tuple(namespace[name] for name in exercise.target)
    return namespace[exercise.target]


def test_there_are_exercises_numbered_from_one_in_order():
    assert list(EXERCISES) == list(range(1, len(EXERCISES) + 1))


@pytest.mark.parametrize("exercise", ALL, ids=[ex.slug for ex in ALL])
def test_the_reference_passes(exercise):
    result = check(exercise.number, exercise.reference, verbose=False)
    assert result, str(result)


@pytest.mark.parametrize("exercise", ALL, ids=[ex.slug for ex in ALL])
def test_the_untouched_skeleton_is_not_implemented_yet(exercise):
    result = check(exercise.number, skeleton_target(exercise), verbose=False)
    assert not result and "not implemented yet" in str(result)


@pytest.mark.parametrize("exercise", ALL, ids=[ex.slug for ex in ALL])
def test_every_exercise_is_complete(exercise):
    assert len(exercise.mistakes) >= 4 and len(exercise.hints) >= 2
    assert "TODO" in exercise.skeleton and "NotImplementedError" in exercise.skeleton
    assert exercise.task.strip() and exercise.solution.strip()


@pytest.mark.parametrize(
    "exercise, mistake", MISTAKES, ids=[f"{ex.slug}-{m.name}" for ex, m in MISTAKES]
)
def test_every_catalogued_mistake_fails_with_its_diagnosis(exercise, mistake):
    result = check(exercise.number, mistake.implementation, verbose=False)
    assert not result
    assert mistake.diagnosis in str(result), str(result)


def test_differences_are_described_from_the_numbers():
    want = np.arange(1.0, 7.0).reshape(2, 3)
    assert "transpose" in describe_difference(want.T.copy(), want)
    assert "sign is flipped" in describe_difference(-want, want)
    assert "0.5 times the right answer" in describe_difference(0.5 * want, want)
    assert "all zeros" in describe_difference(0 * want, want)
    assert "NaN" in describe_difference(want * np.nan, want)


def test_exercises_are_found_by_number_name_or_file_name():
    assert get(2) is get("02") is get("linear") is get("ex02_linear.py")
    with pytest.raises(KeyError, match="no exercise 'nope'"):
        get("nope")


def run_cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "tinyvae.exercises", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_command_line_end_to_end(tmp_path):
    listed = run_cli("list", cwd=tmp_path)
    assert listed.returncode == 0 and "Linear" in listed.stdout

    assert run_cli("start", "2", cwd=tmp_path).returncode == 0
    learner = tmp_path / "ex02_linear.py"
    untouched = run_cli("check", "ex02_linear.py", cwd=tmp_path)
    assert untouched.returncode == 1 and "not implemented yet" in untouched.stdout

    # a wrong answer: the bias gradient averaged over the batch
    source = learner.read_text().replace(
        "        raise NotImplementedError",
        '        self.grads["W"] += x.T @ dy\n'
        '        self.grads["b"] += dy.mean(axis=0)\n'
        "        return dy @ W.T",
    )
    learner.write_text(source)
    wrong = run_cli("check", "ex02_linear.py", cwd=tmp_path)
    assert wrong.returncode == 1
    assert "db: db is B times too small: sum over the batch, don't average" in wrong.stdout

    learner.write_text(source.replace("dy.mean(axis=0)", "dy.sum(axis=0)"))
    right = run_cli("check", "ex02_linear.py", cwd=tmp_path)
    assert right.returncode == 0 and "PASSED" in right.stdout
    assert "passed" in run_cli("list", cwd=tmp_path).stdout

    first = run_cli("hint", "2", cwd=tmp_path).stdout
    second = run_cli("hint", "2", cwd=tmp_path).stdout
    assert "hint 1 of" in first and "hint 2 of" in second
    assert json.loads((tmp_path / ".tinyvae-exercises.json").read_text())["hints"] == {"2": 2}
    assert "tinyvae/nn/linear.py" in run_cli("solution", "2", cwd=tmp_path).stdout

    again = run_cli("start", "2", cwd=tmp_path)
    assert again.returncode != 0 and "exists" in again.stderr
    assert os.path.getsize(learner) > 0


def test_the_learners_own_file_runs_the_check(tmp_path):
    assert run_cli("start", "1", cwd=tmp_path).returncode == 0
    result = subprocess.run(
        [sys.executable, "ex01_square.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "not implemented yet" in result.stdout
