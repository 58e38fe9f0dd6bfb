"""Where a large array's memory comes from, and why evaluation keeps freed memory.

A NumPy array's memory comes from the C library's ``malloc``. On Linux,
glibc hands memory freed at the top of its heap back to the system as soon
as more than a little is free there, and an array made after that gets
fresh pages, which the kernel zeroes one 4 KiB page at a time, on first
touch (a "minor page fault"). Evaluating L_5000 makes and frees arrays of
megabytes for every chunk of samples, so it paid that price over and over:
8,000 to 15,000 page faults per test example of a 784-400-20 model, a third
to a half of the evaluation's time (``benchmarks/throughput.py`` times it).

``keep_freed_memory`` asks glibc, through ``mallopt``, to keep 64 MiB of
freed memory at the top of each heap for the next arrays (``M_TOP_PAD``).
Setting any threshold stops glibc from adapting the others as it goes, so
it also fixes the size above which an array gets memory of its own straight
from the system, and back to it when freed (``M_MMAP_THRESHOLD``), at
32 MiB: the largest value glibc's own rule would reach. It costs at most
64 MiB of memory per thread that allocates, and it applies to the whole
process from then on. It does nothing where the C library is not glibc
(macOS, Windows, musl) or where you chose a pad yourself with the
environment variable ``MALLOC_TOP_PAD_``.
"""

import ctypes
import os
import sys

TOP_PAD = 64 * 2**20  # bytes of freed memory each heap keeps: a chunk's arrays, with room
MMAP_THRESHOLD = 32 * 2**20  # bytes above which an array's memory comes straight from mmap
M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3  # mallopt's codes for them, from glibc's <malloc.h>

_done = False  # whether this process has asked already


def keep_freed_memory():
    """Ask glibc to keep ``TOP_PAD`` bytes of freed memory for later arrays, once.

    Returns whether the pad is in force (set now or before).
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_TOP_PAD_"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):  # no mallopt: not glibc
        return False
    # mallopt(int option, int value) returns 1 on success
    _done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TOP_PAD, TOP_PAD) == 1
    return _done
