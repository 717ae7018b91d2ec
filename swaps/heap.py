"""Allocator tuning for the swap worker: keep big freed blocks for the next job.

A large swap allocates and frees several buffers of tens of megabytes: above
all libjpeg's whole-image coefficient buffer for a progressive JPEG (~2 bytes
per pixel, ~90 MB for 29 MP), then the decoded images and the crop buffers.
glibc serves blocks over 32 MB with a fresh mmap and unmaps them on free, so
every job pays the kernel to fault in and zero those pages again: ~130 ms of
a 29 MP pair's ~0.9 s, most of it inside cv2.imdecode. Raising the mmap and
trim thresholds keeps such blocks in the heap for reuse.

The price is memory: the process stays at its peak heap (~0.5 GB after a
29 MP swap) instead of shrinking back, which is right for a worker process
that does nothing but swaps, and wrong for a web process, which is why this
is opt-in (``swaps.runner`` calls it, not an import side effect).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

# mallopt parameters (malloc.h): values, and the most the heap may keep.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
KEEP_BYTES = 1 << 30


@functools.cache
def keep_freed_memory(limit: int = KEEP_BYTES) -> bool:
    """Serve blocks up to ``limit`` bytes from the heap and never trim it below
    ``limit``; True if the allocator took it (glibc only, once per process)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))
