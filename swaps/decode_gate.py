"""How many big images a web process decodes at once: the rest wait a moment, then
get a 503 ``server_busy`` with Retry-After, instead of taking the machine's memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from faceswap_site.errors import ApiError

RETRY_AFTER_S = 5
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.MAX_BIG_DECODES)
        return _slots


@contextmanager
def decode_slot(pixels: int) -> Iterator[None]:
    """Hold a slot while decoding an image of ``pixels`` (small ones need none)."""
    if pixels <= settings.BIG_DECODE_PIXELS:
        yield
        return
    slots = _semaphore()
    if not slots.acquire(timeout=settings.BIG_DECODE_WAIT_S):
        raise ApiError(
            "server_busy",
            "The server is decoding other large images: try again shortly.",
            {"retry_after_s": RETRY_AFTER_S},
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    try:
        yield
    finally:
        slots.release()
