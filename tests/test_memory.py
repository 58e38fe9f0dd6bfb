"""tinyvae.memory: glibc keeps freed memory for the next arrays once asked to."""

import ctypes
import subprocess
import sys
import textwrap

import pytest

from tinyvae import memory


def glibc():
    try:
        return sys.platform.startswith("linux") and hasattr(
            ctypes.CDLL(None), "gnu_get_libc_version"
        )
    except OSError:
        return False


# Makes and frees a chunk's worth of arrays 30 times, as L_k's chunks do, and prints the
# minor page faults that took, with or without the pad. Three arrays of 1.5 MB: below the
# 4 MiB from which NumPy asks the kernel for huge pages, so that a page fault is 4 KiB
# on any machine.
FAULTS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from tinyvae import memory
    if sys.argv[1] == "pad":
        assert memory.keep_freed_memory()
    def chunk():
        a = np.ones((500, 784), np.float32)
        b = a * 2
        c = a + b
        return float(c[0, 0])
    chunk()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(30):
        chunk()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


@pytest.mark.skipif(not glibc(), reason="the pad is glibc's")
def test_with_the_pad_new_arrays_reuse_freed_memory_instead_of_fresh_pages():
    def faults(mode):
        done = subprocess.run(
            [sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True
        )
        return int(done.stdout)

    without, with_pad = faults("none"), faults("pad")
    assert without > 10 * 1000  # fresh pages for most of the 30 chunks' 3 x 383 pages
    assert with_pad < without / 20


def test_it_asks_once_and_leaves_a_pad_you_chose_alone(monkeypatch):
    calls = []

    class FakeLibc:
        @staticmethod
        def mallopt(option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: FakeLibc())
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setenv("MALLOC_TOP_PAD_", "1048576")
    assert memory.keep_freed_memory() is False
    assert calls == []
    monkeypatch.delenv("MALLOC_TOP_PAD_")
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True
    assert calls == [
        (memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD),
        (memory.M_TOP_PAD, memory.TOP_PAD),
    ]


def test_without_mallopt_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: object())
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    assert memory.keep_freed_memory() is False
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False
