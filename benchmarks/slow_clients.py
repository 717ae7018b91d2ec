"""Slow clients against the web server: half-sent uploads must not delay anyone else.

    .venv/bin/python -m benchmarks.slow_clients [--slow 200] [--requests 40]

Starts the web server as `make run` sizes it (2 processes x 4 threads) on a throwaway
SQLite database, times ``--requests`` sequential `GET /api/v1/account` on an idle
server, then opens ``--slow`` connections that each send the headers of an upload with
`Content-Length: 1000000` and 4 bytes of body and then nothing, and times the same
requests again while they stay open. The target: every answer within 1 s.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

from tests.live_server import LiveServer, http_request, running_server  # noqa: E402

HALF_SENT = (
    b"POST /api/v1/swaps HTTP/1.1\r\nHost: bench\r\nContent-Type: image/png\r\n"
    b"Content-Length: 1000000\r\n\r\nabcd"
)


def timed_reads(server: LiveServer, key: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        reply = http_request("GET", f"{server.url}/api/v1/account", key)
        if reply.status != 200:
            raise SystemExit(f"GET /api/v1/account answered {reply.status}: {reply.body}")
        times.append(reply.seconds)
    return times


def open_half_sent(server: LiveServer, stack: ExitStack, count: int) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    for _ in range(count):
        conn = stack.enter_context(socket.create_connection((host, int(port)), timeout=30))
        conn.sendall(HALF_SENT)


def summary(label: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return (
        f"{label:<28} median {statistics.median(ms):6.1f} ms   "
        f"p95 {ms[int(0.95 * (len(ms) - 1))]:6.1f} ms   max {ms[-1]:6.1f} ms"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--requests", type=int, default=40)
    args = p.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp), base_url=None, workers=2, threads=4) as server,
    ):
        key = server.seed_account(credits=1, hourly=100_000, daily=100_000).api_key
        idle = timed_reads(server, key, args.requests)
        with ExitStack() as stack:
            open_half_sent(server, stack, args.slow)
            time.sleep(1)
            loaded = timed_reads(server, key, args.requests)
    print(summary("idle server", idle))
    print(summary(f"{args.slow} half-sent uploads open", loaded))
    worst = max(loaded)
    print(f"target: every answer within 1 s -> {'met' if worst < 1 else 'NOT met'}")
    return 0 if worst < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
