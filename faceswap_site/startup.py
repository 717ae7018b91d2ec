"""Starting before the database: wait for it instead of crashing.

Workers and web processes may start before PostgreSQL accepts connections (a fresh
deploy, a database restart). They wait, saying so every few seconds, up to a limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

DATABASE_WAIT_S = 120.0


def wait_for_database(
    *, timeout_s: float = DATABASE_WAIT_S, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Return once the database answers; OperationalError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.5
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning(
                "the database does not answer yet (%s); retrying in %.1f s",
                type(exc).__name__,
                delay,
            )
            connection.close()
            sleep(delay)
            delay = min(delay * 2, 5.0)
