"""The site a browser talks to: the real web server (tests.live_server) with its static
files, plus a django-q2 worker, on a throwaway database. Shared by the browser tests,
the result-latency benchmark and `make screenshots`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.live_server import LiveServer, running_server, running_worker

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "a long enough test password 42"
# The forms' per-IP limits would stop a suite that signs up many people from one address.
RELAXED_RATES = {
    "SIGNUP_RATE": "1000/h",
    "LOGIN_RATE": "1000/m",
    "UPLOAD_RATE": "1000/m",
    "PAGE_DETECT_RATE": "1000/m",
}


@contextmanager
def running_site(workdir: Path, *, threads: int = 6) -> Iterator[LiveServer]:
    with (
        running_server(
            workdir,
            base_url=os.environ.get("DATABASE_URL"),
            workers=1,
            threads=threads,
            extra_env=RELAXED_RATES,
            static=True,
        ) as server,
        running_worker(server, "qcluster"),
    ):
        yield server


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


def sign_up(page: Any) -> str:
    """A new account through the sign-up page; its email. Lands on the upload page."""
    email = f"user-{secrets.token_hex(4)}@example.com"
    page.goto("/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/swaps/new/")
    return email
