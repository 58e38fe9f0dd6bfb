"""How many threads NumPy's matrix products use, chosen for the machine and its load.

NumPy's matrix products run on a BLAS library (OpenBLAS in NumPy's wheels),
which starts one thread per core. Between two products its idle threads spin,
waiting for work. On an idle 2-core machine two threads train about a quarter
faster than one; on a busy one the spinning threads fight the other programs
for the cores, and an epoch can take three to ten times as long as with one
thread (``benchmarks/busy_machine.py`` measures both).

So by default ``fit`` chooses when a run starts: it measures how many cores
other processes kept busy since the last measurement (since tinyvae was
imported, the first time) and gives BLAS the cores that are left, at least
one. The count stays for the whole run, because it changes how BLAS rounds
(one thread and two give the same run different last bits), and a resumed
run takes the count its checkpoint records, so that it continues bit for
bit. Two runs under different loads may round differently; set a number to
repeat a run bit for bit on any load. The setting, first match wins:

1. ``set_blas_threads(setting)`` (the demos' ``--blas-threads``);
2. the environment variable ``TINYVAE_BLAS_THREADS``;
3. ``"keep"`` if ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
   ``MKL_NUM_THREADS`` is set: you chose already;
4. ``"auto"``.

A setting is ``"auto"``, ``"keep"`` (leave BLAS as it started) or a number of
threads. The choice applies to the whole process and stays after ``fit``
returns, for the evaluation that usually follows: ``log_likelihood`` runs
as many threads of its own, each with one BLAS thread (``one_blas_thread``).
It needs Linux's ``/proc/stat`` to measure the load; elsewhere ``"auto"``
keeps BLAS as it is.
"""

import contextlib
import os
import time

from threadpoolctl import ThreadpoolController

ENVIRONMENT = "TINYVAE_BLAS_THREADS"
USER_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
WINDOW = 0.2  # seconds: the shortest time over which the load is measured

_chosen = None  # what set_blas_threads was given; None: the environment decides
_controller = None  # threadpoolctl's handle on the loaded BLAS libraries
_started_with = None  # threads BLAS started with, before any limit of ours
_measured = False  # whether the load has been measured in this process


def check_setting(setting, name="blas_threads"):
    """``"auto"``, ``"keep"`` or an integer >= 1 (also as text, from a command line)."""
    if isinstance(setting, str) and setting.strip().lower() in ("auto", "keep"):
        return setting.strip().lower()
    number = setting
    if isinstance(setting, str) and setting.strip().isdigit():
        number = int(setting)
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        return number
    raise ValueError(
        f"{name}: expected 'auto', 'keep' or a number of threads >= 1, got {setting!r}"
    )


def set_blas_threads(setting):
    """Choose the process's BLAS threads: ``"auto"``, ``"keep"`` or a number.

    Applies it now and from now on (``fit`` re-measures under ``"auto"``);
    returns the threads in use, or ``None`` where no BLAS library is found.
    """
    global _chosen
    _chosen = check_setting(setting)
    return adapt_blas_threads()


def blas_setting():
    """The setting in force: chosen in code, from the environment, or the default."""
    if _chosen is not None:
        return _chosen
    if os.environ.get(ENVIRONMENT):
        return check_setting(os.environ[ENVIRONMENT], ENVIRONMENT)
    if any(os.environ.get(name) for name in USER_VARIABLES):
        return "keep"
    return "auto"


def adapt_blas_threads(earlier=None):
    """Apply the setting in force, measuring the load under ``"auto"``.

    ``earlier`` is the count a resumed run trained with: ``"auto"`` takes it
    again (at most the threads BLAS started with), so that the run rounds as
    before. Returns the threads BLAS uses now, or ``None`` where none is found.
    """
    setting = blas_setting()
    controller = _blas()
    if controller is None:
        return None
    if setting == "keep":
        threads = _started_with
    elif setting == "auto" and earlier is not None:
        threads = max(1, min(int(earlier), _started_with))
    elif setting == "auto":
        others = busy_cores_elsewhere()
        if others is None:  # no /proc/stat, or measured a moment ago: leave BLAS as it is
            return _threads_now(controller)
        threads = choose_threads(os.cpu_count() or 1, others, _started_with)
    else:
        threads = setting
    if threads != _threads_now(controller):
        controller.limit(limits=threads, user_api="blas")
    return threads


def blas_threads():
    """The threads BLAS uses now: 1 where no BLAS library is found."""
    controller = _blas()
    return 1 if controller is None else _threads_now(controller)


@contextlib.contextmanager
def one_blas_thread():
    """Within it, every matrix product runs on the calling thread alone.

    For code that runs its own threads: two threads, each with a BLAS of two
    threads, would ask two cores for the work of four.
    """
    controller = _blas()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


def choose_threads(cores, others, most):
    """The rule: the cores other processes leave free, rounded, between 1 and ``most``.

    ``others`` is how many cores other processes kept busy lately (2.0: two
    whole cores); ``most`` the threads BLAS started with.
    """
    return max(1, min(most, round(cores - others)))


def busy_cores_elsewhere():
    """Cores kept busy by other processes since the last measurement, or ``None``.

    Busy is the machine's time in user, system, interrupt and stolen (by the
    hypervisor) states from ``/proc/stat``, less this process's own CPU time,
    which includes its BLAS threads' spinning. The first measurement runs from
    the moment tinyvae was imported (loading the data is this process's own
    time, not the machine's load), waiting if that was less than ``WINDOW``
    seconds ago; a later call within ``WINDOW`` of the last measurement
    returns ``None`` (too short to tell: keep the choice) and lets the window
    grow. ``None`` also without ``/proc/stat``.
    """
    global _last_sample, _measured
    if _last_sample is None:
        return None
    wait = WINDOW - (time.monotonic() - _last_sample[0])
    if wait > 0:
        if _measured:
            return None
        time.sleep(wait)
    now = _sample()
    if now is None:
        return None
    before, _last_sample, _measured = _last_sample, now, True
    seconds = now[0] - before[0]
    machine, own = now[1] - before[1], now[2] - before[2]
    return max(0.0, (machine - own) / seconds)


def _sample():
    """(time, busy core-seconds of the machine, CPU seconds of this process), or None."""
    try:
        with open("/proc/stat") as file:
            fields = file.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ... (in clock ticks)
    ticks = [int(value) for value in fields[1:9]]
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
    own = os.times()
    return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


# (seconds, busy core-seconds of the machine, CPU seconds of this process) when last
# measured, from the import of tinyvae on (None without /proc/stat)
_last_sample = _sample()


def _blas():
    """threadpoolctl's controller of the loaded BLAS libraries, or None if there is none."""
    global _controller, _started_with
    if _controller is None:  # BLAS is loaded: NumPy is imported with tinyvae
        controller = ThreadpoolController().select(user_api="blas")
        if not controller.lib_controllers:
            return None
        _controller = controller
        _started_with = _threads_now(controller)
    return _controller


def _threads_now(controller):
    return max(lib.num_threads for lib in controller.lib_controllers)
