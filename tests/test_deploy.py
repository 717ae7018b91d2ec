"""`manage.py check --deploy` is clean with the documented production settings
(docs/production.env), and the Procfile runs the documented entry points."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env() -> dict[str, str]:
    """docs/production.env, each <placeholder> filled with a value of its kind."""
    env: dict[str, str] = {}
    for line in (ROOT / "docs" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = re.sub(r"<[^>]*>", lambda m: secrets.token_urlsafe(40), value)
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **production_env(), "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_procfile_runs_web_and_worker_through_manage_py():
    processes = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert processes["web"].split()[:3] == ["python", "manage.py", "serve"]
    assert "--no-worker" in processes["web"]
    assert processes["worker"].split() == ["python", "manage.py", "worker"]
    assert processes["release"].split()[:3] == ["python", "manage.py", "migrate"]
