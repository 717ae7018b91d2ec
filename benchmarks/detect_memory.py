"""Memory of the web server under big free decodes: concurrent POST /api/v1/detect.

    .venv/bin/python -m benchmarks.detect_memory [--clients 6] [--side 9000]

Starts the web server as `make run` sizes it (2 processes x 4 threads) on a throwaway
SQLite database, then sends ``--clients`` concurrent detects of a side x side
PNG (a flat image: ~236 KB on the wire at 9000, 243 MB decoded), twice, and
samples the summed RSS of the server's processes every 50 ms. Prints the
answers (200 or 503 server_busy), their times, and the peak growth over the
idle server. The target: the service grows by at most 1.2 GB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also runnable as a plain script

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from tests.live_server import fire_together, http_request, running_server  # noqa: E402


def tree_rss_mb(pids: list[int]) -> float:
    """Summed RSS of the server's processes."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(
                next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
            )
        except (OSError, StopIteration, ValueError, IndexError):
            continue
    return total / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=6)
    p.add_argument("--side", type=int, default=9000)
    args = p.parse_args()
    png = cv2.imencode(".png", np.full((args.side, args.side, 3), 200, np.uint8))[1].tobytes()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp), base_url=None, workers=2, threads=4) as server,
    ):
        key = server.seed_account(credits=10, hourly=100_000, daily=100_000).api_key
        pid = server.pids
        http_request(
            "POST",
            f"{server.url}/api/v1/detect",
            key,
            files={
                "image": (
                    "warm.png",
                    cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes(),
                )
            },
        )
        idle = tree_rss_mb(pid)
        peak, done = idle, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_mb(pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        replies = []
        for _ in range(2):
            replies += fire_together(
                [
                    lambda: http_request(
                        "POST",
                        f"{server.url}/api/v1/detect",
                        key,
                        files={"image": ("big.png", png)},
                    )
                    for _ in range(args.clients)
                ]
            )
        done.set()
        sampler.join()
    codes = Counter(r.status if r.status == 200 else f"{r.status} {r.code}" for r in replies)
    times = sorted(round(r.seconds, 1) for r in replies)
    print(
        f"{args.clients} concurrent detects of a {args.side}x{args.side} PNG "
        f"({len(png) // 1024} KB), twice: {dict(codes)}; seconds {times}"
    )
    print(f"server RSS: idle {idle:.0f} MB, peak {peak:.0f} MB, growth {peak - idle:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
