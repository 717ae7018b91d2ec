"""This process's CPU per S3 request through the storage backend (faceswap_site.s3_storage),
against a moto S3 server started here (or --s3-endpoint): what boto3 itself costs a worker.

    .venv/bin/python -m benchmarks.s3_client_cpu [--runs 20] [--size 1000000]

PUT (storage.save), GET (storage.open + read) of --size random bytes and a DeleteObjects of
two objects (storage.delete_many); median CPU (process_time) and wall ms of --runs each.
The server's own CPU is not counted (see benchmarks/job_cpu.py for that).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.machines import moto_server  # noqa: E402


def measure(work: Callable[[], object], runs: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started = time.process_time(), time.perf_counter()
        work()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def run(endpoint: str, runs: int, size: int, var_dir: str) -> None:
    from benchmarks.throughput import _create_bucket

    bucket = f"cpu-{secrets.token_hex(4)}"
    keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    os.environ.update(keys)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="faceswap_site.settings",
        VAR_DIR=var_dir,
        STORAGE_URL=f"s3://{bucket}?endpoint_url={endpoint}&region_name=us-east-1",
    )
    import boto3
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage as storage

    _create_bucket(boto3, endpoint, bucket, keys)
    data = os.urandom(size)
    names = [storage.save("warm-up", ContentFile(data))]
    put = measure(lambda: names.append(storage.save(f"x/{len(names)}", ContentFile(data))), runs)
    get = measure(lambda: storage.open(names[0], "rb").read(), runs)
    delete = measure(lambda: storage.delete_many([names.pop(), names.pop()]), runs // 2)
    print(f"{'request':<28}{'CPU ms':>8}{'wall ms':>9}")
    for name, (cpu, wall) in (
        (f"PutObject {size} B", put),
        (f"GetObject {size} B", get),
        ("DeleteObjects of 2", delete),
    ):
        print(f"{name:<28}{cpu:>8.2f}{wall:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--s3-endpoint", default="")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="faceswap-s3cpu-")
    try:
        with moto_server(args.s3_endpoint) as endpoint:
            run(endpoint, args.runs, args.size, var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
