"""The BLAS thread count: the rule, the load measurement, the settings and their doors."""

import numpy as np
import pytest
import threadpoolctl

import tinyvae as tv
from tinyvae import cli, threads


def blas_threads_now():
    return max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")


@pytest.fixture
def fresh(monkeypatch):
    """The module's state as in a new process, restored (with BLAS's threads) afterwards."""
    started = blas_threads_now()
    monkeypatch.setattr(threads, "_chosen", None)
    monkeypatch.setattr(threads, "_measured", False)
    monkeypatch.delenv(threads.ENVIRONMENT, raising=False)
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    threadpoolctl.threadpool_limits(started, user_api="blas")


@pytest.mark.parametrize(
    "cores, others, most, expected",
    [
        (2, 0.0, 2, 2),  # idle: every core
        (2, 0.3, 2, 2),  # a little background work: still both
        (2, 1.0, 2, 1),  # one core taken
        (2, 2.0, 2, 1),  # both taken: never fewer than one
        (2, 5.0, 2, 1),
        (8, 2.6, 8, 5),
        (8, 0.0, 4, 4),  # never more than BLAS started with
    ],
)
def test_the_rule_gives_blas_the_cores_left_free(cores, others, most, expected):
    assert threads.choose_threads(cores, others, most) == expected


def test_the_load_elsewhere_is_the_machines_busy_time_less_this_process(fresh, monkeypatch):
    # (seconds, busy core-seconds of the machine, CPU seconds of this process)
    monkeypatch.setattr(threads, "_last_sample", (10.0, 100.0, 5.0))  # at the import
    samples = iter([(12.0, 104.0, 6.0), (13.0, 105.0, 7.0)])
    monkeypatch.setattr(threads, "_sample", lambda: next(samples))
    assert threads.busy_cores_elsewhere() == pytest.approx((4.0 - 1.0) / 2.0)
    assert threads.busy_cores_elsewhere() == 0.0  # only this process was busy


def test_the_first_measurement_waits_for_a_window_and_later_ones_never(fresh, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(threads.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(threads, "_sample", lambda: (now[0], 50.0, 1.0))
    monkeypatch.setattr(threads, "_last_sample", (100.0 - threads.WINDOW / 4, 50.0, 1.0))
    slept = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    assert threads.busy_cores_elsewhere() == 0.0  # imported a moment ago: waits the rest
    assert slept == [pytest.approx(threads.WINDOW * 3 / 4)]
    now[0] += threads.WINDOW / 2
    assert threads.busy_cores_elsewhere() is None and len(slept) == 1  # too soon: no wait


def test_a_real_measurement_on_this_machine_is_a_number_of_cores(fresh):
    others = threads.busy_cores_elsewhere()
    if others is None:
        pytest.skip("no /proc/stat on this system")
    assert 0.0 <= others <= 4 * (threads.os.cpu_count() or 1)


def test_auto_limits_blas_to_the_free_cores(fresh, monkeypatch):
    threads._blas()
    monkeypatch.setattr(threads, "busy_cores_elsewhere", lambda: 1e6)  # a very busy machine
    assert tv.set_blas_threads("auto") == 1 and blas_threads_now() == 1
    monkeypatch.setattr(threads, "busy_cores_elsewhere", lambda: 0.0)  # idle again
    assert threads.adapt_blas_threads() == threads._started_with == blas_threads_now()


def test_a_number_and_keep(fresh):
    assert tv.set_blas_threads(1) == 1 and blas_threads_now() == 1
    assert tv.set_blas_threads("keep") == threads._started_with == blas_threads_now()


def test_which_setting_is_in_force(fresh, monkeypatch):
    assert threads.blas_setting() == "auto"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert threads.blas_setting() == "keep"  # the user chose already
    monkeypatch.setenv(threads.ENVIRONMENT, "2")
    assert threads.blas_setting() == 2
    monkeypatch.setattr(threads, "_chosen", "auto")
    assert threads.blas_setting() == "auto"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "", "many", None, "0"])
def test_bad_settings_are_refused_before_anything_changes(fresh, bad):
    before = blas_threads_now()
    with pytest.raises(ValueError, match=r"blas_threads: expected 'auto', 'keep' or a number"):
        tv.set_blas_threads(bad)
    assert threads._chosen is None and blas_threads_now() == before


def test_a_bad_environment_variable_is_named(fresh, monkeypatch):
    monkeypatch.setenv(threads.ENVIRONMENT, "lots")
    with pytest.raises(ValueError, match=f"{threads.ENVIRONMENT}: expected"):
        threads.adapt_blas_threads()


def test_every_script_takes_blas_threads(fresh, capsys):
    parser = cli.parser("a script")
    assert parser.parse_args(["--blas-threads", "1"]).blas_threads == 1
    assert blas_threads_now() == 1 and threads._chosen == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["--blas-threads", "0"])
    assert (
        "--blas-threads: expected a number >= 1, auto or keep, got '0'" in capsys.readouterr().err
    )
    assert threads._chosen == 1


def test_fit_chooses_once_per_run_and_a_resumed_run_takes_the_count_again(
    fresh, monkeypatch, tmp_path
):
    # the count changes how BLAS rounds: a run keeps one, and its resume takes it again
    calls = []

    def adapt(earlier=None):
        calls.append(earlier)
        return 1 if earlier is None else earlier

    monkeypatch.setattr("tinyvae.train.adapt_blas_threads", adapt)
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng)
    x = (rng.uniform(size=(20, 6)) > 0.5).astype(np.float32)
    opt, path = tv.Adam(model.parameters()), str(tmp_path / "run.npz")
    quiet = {"progress": False, "checkpoint": path}
    tv.fit(model, opt, x, epochs=3, rng=rng, **quiet)
    assert calls == [None]  # once, for the whole run
    tv.fit(model, opt, x, epochs=4, rng=rng, resume=True, **quiet)
    assert calls == [None, 1]  # the resumed run asks for the count it trained with


def test_auto_takes_a_resumed_runs_count_at_most_what_blas_started_with(fresh):
    threads._blas()
    tv.set_blas_threads("auto")
    assert threads.adapt_blas_threads(earlier=1) == 1 == blas_threads_now()
    assert threads.adapt_blas_threads(earlier=10**6) == threads._started_with


def test_fit_refuses_a_bad_environment_variable_before_anything_changes(fresh, monkeypatch):
    monkeypatch.setenv(threads.ENVIRONMENT, "0")
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng)
    x = (rng.uniform(size=(20, 6)) > 0.5).astype(np.float32)
    before = ({n: p.copy() for n, p, _ in model.parameters()}, rng.bit_generator.state)
    with pytest.raises(ValueError, match=f"{threads.ENVIRONMENT}: expected 'auto', 'keep'"):
        tv.fit(model, tv.Adam(model.parameters()), x, epochs=1, rng=rng, progress=False)
    assert rng.bit_generator.state == before[1]
    for name, param, _ in model.parameters():
        np.testing.assert_array_equal(param, before[0][name])
