"""Waiting for jobs to end without a thread per waiting request.

One watcher per web process: while anyone waits, it asks "which of these jobs have
ended?" for all waited ids at once, every POLL_S, in one thread of its own (the check
is a database read); between checks the waiting requests are futures on the event
loop and cost no thread. Idle (nobody waiting) it does nothing.

Why polling and not a notification: it works the same on SQLite and PostgreSQL and
needs no broker, and one indexed read of a few ids every 10 ms is cheap (one query per
process, whatever the number of waiting clients). The answer leaves at most POLL_S
plus one read after the job's end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

POLL_S = 0.01
# A failing check (the database restarting) is retried after this, not every 10 ms.
ERROR_BACKOFF_S = 0.5

Check = Callable[[set[str]], set[str]]  # ids -> those of them that have ended


@dataclass(eq=False)
class _Waiter:
    check: Check
    pending: set[str]
    done: asyncio.Future[bool] = field(repr=False)


class JobWatch:
    def __init__(self, *, poll_s: float = POLL_S) -> None:
        self.poll_s = poll_s
        self._waiters: set[_Waiter] = set()
        self._poller: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="job-watch")

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def wait(self, ids: Iterable[str], *, check: Check, timeout: float) -> bool:
        """True once every job in `ids` has ended, False after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(check=check, pending=set(ids), done=loop.create_future())
        if not waiter.pending:
            return True
        self._waiters.add(waiter)
        if self._poller is None or self._poller.done():
            self._poller = loop.create_task(self._poll())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.done), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiters:
            pause = self.poll_s
            for check, ids in self._ids_by_check().items():
                try:
                    ended = await loop.run_in_executor(self._thread, check, ids)
                except Exception:
                    logger.exception("job watch: the check failed; retrying")
                    pause = ERROR_BACKOFF_S
                    continue
                self._settle(check, ended)
            await asyncio.sleep(pause)

    def _ids_by_check(self) -> dict[Check, set[str]]:
        found: dict[Check, set[str]] = {}
        for waiter in self._waiters:
            found.setdefault(waiter.check, set()).update(waiter.pending)
        return found

    def _settle(self, check: Check, ended: set[str]) -> None:
        for waiter in list(self._waiters):
            if waiter.check is not check:
                continue
            waiter.pending -= ended
            if not waiter.pending and not waiter.done.done():
                waiter.done.set_result(True)
