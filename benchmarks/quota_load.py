"""Load on the quota path: concurrent POST /api/v1/swaps against the real web server.

Starts the web server on a throwaway database (a SQLite file, or a new PostgreSQL database on
the server --database-url names), migrates it, and for each scenario seeds a fresh account
and sends --requests creates from --processes client processes at once. No django-q2
worker runs: accepted jobs stay pending in the ORM queue, so this measures the API
(authentication, rate windows, the credit charge, storing inputs), not the engine.

    .venv/bin/python benchmarks/quota_load.py
    .venv/bin/python benchmarks/quota_load.py --database-url postgres://u:p@127.0.0.1:5432/db

Prints a Markdown table; exits 1 if any request overspent, passed a limit, got a 5xx, or
the books (balance, ledger sum, jobs, charges) disagree.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_server import (  # noqa: E402  (needs ROOT on sys.path)
    LiveServer,
    SeededAccount,
    SwapForm,
    http_request,
    is_postgres,
    running_server,
    wait_out_hour_edge,
)

PLENTY = 1_000_000  # a limit or balance that never binds


@dataclass(frozen=True)
class Scenario:
    name: str
    credits: int
    hourly: int


@dataclass(frozen=True)
class Sample:
    status: int
    code: str | None
    seconds: float


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    samples: list[Sample]
    wall_s: float
    books: dict[str, int]


# --- Clients ------------------------------------------------------------------------------


def _client(url: str, api_key: str, count: int, threads: int, start: Any, out: Any) -> None:
    """One client process: `count` creates over `threads` threads, after the common start."""
    body, content_type = SwapForm.from_fixtures().encoded()

    def one(_: int) -> Sample:
        try:
            reply = http_request(
                "POST",
                f"{url}/api/v1/swaps",
                api_key,
                data=body,
                headers={"Content-Type": content_type},
            )
        except Exception as exc:  # a dropped connection is a result too
            return Sample(0, type(exc).__name__, 0.0)
        return Sample(reply.status, reply.code, reply.seconds)

    start.wait()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        out.put(list(pool.map(one, range(count))))


def fire(url: str, account: SeededAccount, args: argparse.Namespace) -> tuple[list[Sample], float]:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(args.processes + 1)
    out = context.Queue()
    shares = [
        args.requests // args.processes + (i < args.requests % args.processes)
        for i in range(args.processes)
    ]
    clients = [
        context.Process(
            target=_client, args=(url, account.api_key, share, args.threads, start, out)
        )
        for share in shares
    ]
    for client in clients:
        client.start()
    start.wait()
    began = time.perf_counter()
    samples = [sample for _ in clients for sample in out.get(timeout=900)]
    wall = time.perf_counter() - began
    for client in clients:
        client.join()
    return samples, wall


# --- Scenarios ----------------------------------------------------------------------------


def run_scenario(server: LiveServer, scenario: Scenario, args: argparse.Namespace) -> Outcome:
    account = server.seed_account(credits=scenario.credits, hourly=scenario.hourly, daily=PLENTY)
    if scenario.hourly < PLENTY:
        wait_out_hour_edge(margin_s=120)
    samples, wall = fire(server.url, account, args)
    return Outcome(scenario, samples, wall, server.inspect(account))


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    return [
        Scenario(f"credits bind ({args.credits} credits)", args.credits, PLENTY),
        Scenario(f"hourly limit binds ({args.hourly_limit}/h)", PLENTY, args.hourly_limit),
    ]


# --- Report -------------------------------------------------------------------------------


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def violations(outcome: Outcome) -> list[str]:
    counts = Counter(s.status for s in outcome.samples)
    accepted, books = counts[202], outcome.books
    expected_balance = outcome.scenario.credits - accepted
    problems = []
    if accepted > min(outcome.scenario.credits, outcome.scenario.hourly):
        problems.append(f"{accepted} accepted past the binding limit")
    if any(status >= 500 or status == 0 for status in counts):
        problems.append("server errors or dropped connections")
    if books != {
        "credits": expected_balance,
        "ledger_sum": expected_balance,
        "jobs": accepted,
        "charges": accepted,
    }:
        problems.append(f"books disagree: {books}, expected balance {expected_balance}")
    return problems


def table_row(outcome: Outcome) -> str:
    counts = Counter(s.status for s in outcome.samples)
    ms = sorted(s.seconds * 1000 for s in outcome.samples if s.status)
    scenario = outcome.scenario
    cells = [
        scenario.name,
        len(outcome.samples),
        counts[202],
        counts[402],
        counts[429],
        sum(n for status, n in counts.items() if status >= 500),
        sum(n for status, n in counts.items() if status not in (202, 402, 429) and status < 500),
        max(0, counts[202] - scenario.credits),
        max(0, counts[202] - scenario.hourly),
        "ok" if not violations(outcome) else "WRONG",
        f"{percentile(ms, 50):.0f}",
        f"{percentile(ms, 95):.0f}",
        f"{percentile(ms, 99):.0f}",
        f"{len(outcome.samples) / outcome.wall_s:.0f}",
    ]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


HEADER = (
    "| scenario | requests | 202 | 402 | 429 | 5xx | other | overspend | over limit "
    "| books | p50 ms | p95 ms | p99 ms | req/s |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: "
    "| ---: | ---: |"
)


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def command_line() -> str:
    python = Path(sys.executable)
    shown = os.path.relpath(python, Path.cwd()) if ROOT in python.parents else python.name
    return " ".join([shown, *(masked(arg) for arg in map(shlex.quote, sys.argv))])


def describe(args: argparse.Namespace) -> str:
    database = (
        "PostgreSQL (a fresh database on " + masked(args.database_url) + ")"
        if args.database_url
        else "SQLite (file, WAL, BEGIN IMMEDIATE)"
    )
    return "\n".join(
        [
            f"## Quota load on {database}",
            "",
            f"Command: `{command_line()}`",
            "",
            f"- Server: uvicorn {args.workers} processes x {args.server_threads} threads "
            "on 127.0.0.1. **No django-q2 worker running**: accepted jobs stay pending in the "
            "ORM queue, so this measures the API alone (auth, rate windows, charge, inputs).",
            f"- Clients: {args.processes} processes x {args.threads} threads, {args.requests} "
            "POST /api/v1/swaps per scenario (two JPEGs, 136 KB), one connection per request; "
            "latency is measured by the client.",
            f"- Machine: {os.cpu_count()} CPUs shared by clients and server, Python "
            f"{platform.python_version()}, {platform.system()}.",
            "- overspend = accepted beyond the credits; over limit = accepted beyond the hourly "
            "limit; books = balance == ledger sum == credits - accepted, jobs == charges == "
            "accepted.",
        ]
    )


# --- Main ---------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgres://... (a throwaway database is made on that server); "
        "default: a temporary SQLite file",
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=8, help="client processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per client process")
    parser.add_argument("--credits", type=int, default=100)
    parser.add_argument("--hourly-limit", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="web server processes")
    parser.add_argument(
        "--server-threads", type=int, default=4, help="threads per web server process"
    )
    args = parser.parse_args(argv)
    if args.database_url and not is_postgres(args.database_url):
        parser.error("--database-url takes a postgres:// URL; SQLite is the default")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="quota-load-") as workdir,
        running_server(
            Path(workdir),
            base_url=args.database_url,
            workers=args.workers,
            threads=args.server_threads,
        ) as server,
    ):
        outcomes = [run_scenario(server, scenario, args) for scenario in scenarios(args)]
    print(describe(args), "", HEADER, *map(table_row, outcomes), sep="\n")
    problems = [f"{o.scenario.name}: {p}" for o in outcomes for p in violations(o)]
    for problem in problems:
        print(f"\nWRONG: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
