"""Which process holds something (a job, an idempotency claim), and whether it still lives.

A holder is named "host:pid". On its own host a dead process is known at once; a
process on another machine is judged by other means (a heartbeat, an age).
"""

from __future__ import annotations

import os
import socket


def this_process() -> str:
    """This process, as "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(holder: str) -> bool:
    """False only when ``holder`` ran on this host and its process is gone."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
