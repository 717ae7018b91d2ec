"""One django-q2 broker per process, for every task this process enqueues.

`async_task` without a broker builds one per call: on Redis a new client and connection
pool (a TCP connect per job), on the ORM broker a cache lookup and a connection check.
That was ~5 ms of the web process's CPU per created job (benchmarks/web_cpu.py).
"""

from __future__ import annotations

import os
from typing import Any

from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task

_by_process: dict[int, Broker] = {}


def shared_broker() -> Broker:
    """This process's broker. Keyed by pid: a forked worker makes its own rather than
    use its parent's Redis sockets. Two threads racing here both build one; either is fine."""
    pid = os.getpid()
    broker = _by_process.get(pid)
    if broker is None:
        broker = _by_process[pid] = get_broker()
    return broker


def enqueue(func: str, *args: Any, task_name: str, **options: Any) -> str:
    """django-q2's `async_task` through the shared broker; returns the task id."""
    return async_task(func, *args, task_name=task_name, broker=shared_broker(), **options)
