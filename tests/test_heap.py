"""swaps.heap: the worker's allocator tuning."""

from __future__ import annotations

import platform
import sys

import pytest

from swaps import heap


@pytest.fixture(autouse=True)
def _fresh_cache():
    heap.keep_freed_memory.cache_clear()
    yield
    heap.keep_freed_memory.cache_clear()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)
def test_glibc_takes_the_thresholds_once():
    assert heap.keep_freed_memory() is True
    assert heap.keep_freed_memory() is True  # cached: mallopt is not called again
    assert heap.keep_freed_memory.cache_info().hits == 1


def test_elsewhere_it_is_a_no_op(monkeypatch):
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    assert heap.keep_freed_memory() is False


def test_a_libc_without_mallopt_is_a_no_op(monkeypatch):
    class NoMallopt:
        def __init__(self, name: str) -> None:
            pass

    monkeypatch.setattr(heap.sys, "platform", "linux")
    monkeypatch.setattr(heap.ctypes, "CDLL", NoMallopt)
    assert heap.keep_freed_memory() is False
