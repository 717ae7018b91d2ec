"""Which broker and storage the settings pick from the environment (read in a fresh
process: settings are read once, at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT = (
    "import json; from faceswap_site import settings as s; "
    "print(json.dumps({'q': s.Q_CLUSTER, 'storage': s.STORAGES['default']}))"
)


def _settings(tmp_path: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STORAGE_URL")}
    done = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**clean, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_redis_the_database_is_the_broker_polled_often(tmp_path):
    q = _settings(tmp_path)["q"]
    assert q["orm"] == "default" and "redis" not in q
    assert q["poll"] <= 0.1  # idle pickup: 50 ms on average


def test_with_redis_url_redis_is_the_broker(tmp_path):
    q = _settings(tmp_path, REDIS_URL="redis://127.0.0.1:6399/3")["q"]
    assert q["redis"] == "redis://127.0.0.1:6399/3" and "orm" not in q


def test_storage_url_selects_the_bucket(tmp_path):
    storage = _settings(tmp_path, STORAGE_URL="s3://media?endpoint_url=http://127.0.0.1:9")[
        "storage"
    ]
    assert storage["BACKEND"] == "faceswap_site.s3_storage.MediaS3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "media"


def test_a_bad_storage_url_stops_the_start(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), "STORAGE_URL": "ftp://host/x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "STORAGE_URL" in done.stderr
