"""Every exercise: its reference passes, its skeleton is "not implemented yet", and
every catalogued mistake fails with its diagnosis; the command line end to end."""

import json
import os
import re
import signal
import subprocess
import sys
import time

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


# the exercises whose subject is a derivative: their task asks for it, the hints give it
DERIVATIVES = [ex for ex in ALL if ex.number in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 16, 17)]
# a derivative written out: "dL/dx = ...", "dmu = ...", "f'(x) = ...", "d lse / d a_i = ..."
FORMULA = re.compile(
    r"\bd[A-Za-z_]\w*(\s*/\s*d\w+)?\s*=(?!=)"
    r"|'\(\w+\)\s*="
    r"|\bd\s*[\w()]+\s*/\s*d\s*\w+\s*=(?!=)"
)


@pytest.mark.parametrize("exercise", DERIVATIVES, ids=[ex.slug for ex in DERIVATIVES])
def test_the_task_asks_and_the_last_hint_tells(exercise):
    """The skeleton (its docstring and comments, what start prints and a learner reads)
    writes out no derivative; the hints reveal it in at least three steps."""
    comments = [line for line in exercise.skeleton.splitlines() if line.strip().startswith("#")]
    text = exercise.task + "\n" + "\n".join(comments)
    assert not FORMULA.search(text), f"the task gives a derivative: {FORMULA.search(text)[0]!r}"
    assert len(exercise.hints) >= 3


@pytest.mark.parametrize("exercise", ALL, ids=[ex.slug for ex in ALL])
def test_every_skeleton_is_a_real_file_whose_docstring_is_the_task(exercise):
    """The task is written once, in the file a learner starts from, which the linter
    and the tests see like any other module."""
    import tinyvae.exercises.skeletons as skeletons

    path = os.path.join(os.path.dirname(skeletons.__file__), exercise.filename)
    with open(path, encoding="utf-8") as f:
        assert f.read() == exercise.skeleton
    assert exercise.task.startswith(f"Exercise {exercise.number}")
    assert f"check {exercise.filename}" in exercise.skeleton  # it says how to check it


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
    assert result.returncode == 1  # FAILED is an exit status too


def learner_copy(tmp_path, name, replace_todo_with=None, prepend=""):
    """Exercise 2's skeleton under ``name``, its TODO replaced or code put before it."""
    source = get(2).skeleton
    if replace_todo_with is not None:
        source = source.replace("raise NotImplementedError", replace_todo_with, 1)
    (tmp_path / name).write_text(prepend + source)
    return name


def test_check_refuses_a_file_that_is_not_python(tmp_path):
    learner_copy(tmp_path, "ex02_linear.txt")
    result = run_cli("check", "ex02_linear.txt", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ex02_linear.txt is not a Python file: expected a file name ending in .py" in (
        result.stderr
    )


def test_check_reads_the_exercise_from_the_files_prefix(tmp_path):
    learner_copy(tmp_path, "ex02_second_try.py")
    result = run_cli("check", "ex02_second_try.py", cwd=tmp_path)
    assert result.returncode == 1 and "Exercise 2:" in result.stdout
    learner_copy(tmp_path, "mine.py")
    unnamed = run_cli("check", "mine.py", cwd=tmp_path)
    assert unnamed.returncode == 1 and "pass --exercise N" in unnamed.stderr
    assert "Exercise 2:" in run_cli("check", "mine.py", "--exercise", "2", cwd=tmp_path).stdout


def test_learner_code_that_exits_is_reported_as_failed(tmp_path):
    learner_copy(tmp_path, "ex02_exit.py", replace_todo_with="import sys; sys.exit(0)")
    result = run_cli("check", "ex02_exit.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "your code called sys.exit(0): return a value instead" in result.stdout
    assert "FAILED" in result.stdout
    learner_copy(tmp_path, "ex02_exit_on_import.py", prepend="import sys\nsys.exit(0)\n")
    on_import = run_cli("check", "ex02_exit_on_import.py", cwd=tmp_path)
    assert on_import.returncode == 1
    assert "ex02_exit_on_import.py calls sys.exit(0) when it is imported" in on_import.stderr


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="the time limit needs SIGALRM")
def test_learner_code_that_never_ends_is_stopped_at_the_time_limit(tmp_path):
    learner_copy(tmp_path, "ex02_loop.py", replace_todo_with="while True: pass")
    result = run_cli("check", "ex02_loop.py", "--time-limit", "0.5", cwd=tmp_path)
    assert result.returncode == 1
    assert "your code did not finish: it ran for 0.5 s, the time limit (--time-limit)" in (
        result.stdout
    )
    bad = run_cli("check", "ex02_loop.py", "--time-limit", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "expected a number of seconds above 0" in bad.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_ends_the_check_with_one_line(tmp_path):
    learner_copy(tmp_path, "ex02_loop.py", replace_todo_with="while True: pass")
    child = subprocess.Popen(
        [sys.executable, "-m", "tinyvae.exercises", "check", "ex02_loop.py"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2)  # the check is running the loop
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 1 and err == "interrupted (Ctrl-C)\n"


def test_list_into_a_closed_pipe_ends_quietly(tmp_path):
    result = subprocess.run(
        f"{sys.executable} -m tinyvae.exercises list | head -n 1",
        shell=True, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.stdout.count("\n") == 1 and "Traceback" not in result.stderr


def test_check_in_a_notebook_shows_the_report_once(capsys):
    result = check(1, get(1).reference)
    assert result and "PASSED" in capsys.readouterr().out
    result._ipython_display_()  # what a notebook does with a cell's last value
    assert capsys.readouterr().out == ""
    assert repr(result) == "CheckResult(exercise=1, passed=True)"
    quiet = check(1, get(1).reference, verbose=False)
    quiet._ipython_display_()
    assert "PASSED" in capsys.readouterr().out


def test_a_failed_check_never_records_progress(tmp_path):
    """Whatever ends a check badly (an exception, sys.exit, a wrong answer) is FAILED,
    exits 1, and leaves no 'passed' for the exercise in the progress file."""
    cases = {
        "ex02_raises.py": "raise ValueError('mine')",
        "ex02_exits.py": "import sys; sys.exit(0)",
        "ex02_wrong.py": "return dy",
    }
    for name, body in cases.items():
        learner_copy(tmp_path, name, replace_todo_with=body)
        result = run_cli("check", name, cwd=tmp_path)
        assert result.returncode == 1 and "FAILED" in result.stdout, name
    progress = tmp_path / ".tinyvae-exercises.json"
    if progress.exists():
        assert 2 not in json.loads(progress.read_text()).get("passed", [])
    # and a right answer does record it (so the file is the one read above)
    right = (
        'self.grads["W"] += x.T @ dy; self.grads["b"] += dy.sum(axis=0); '
        'return dy @ self.params["W"].T'
    )
    learner_copy(tmp_path, "ex02_right.py", replace_todo_with=right)
    assert run_cli("check", "ex02_right.py", cwd=tmp_path).returncode == 0
    assert 2 in json.loads(progress.read_text())["passed"]
