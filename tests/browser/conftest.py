"""A real browser (Debian's chromium, driven by Playwright) against the real web server
and a real django-q2 worker, on a throwaway database.

Skipped, with the reason, on a machine without /usr/bin/chromium (`bash .ci/run` installs
it). Every page a test opens is watched: a console error or an uncaught exception fails it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_server import ROOT, LiveServer, running_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "a long enough test password 42"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")
                )


class Site:
    """The live server plus its worker."""

    def __init__(self, server: LiveServer, worker: subprocess.Popen[bytes]) -> None:
        self.server = server
        self.worker = worker
        self.url = server.url


def _start_worker(server: LiveServer) -> subprocess.Popen[bytes]:
    log = (server.workdir / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=server.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: stopped with all its children below
    )


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("browser")
    rates = {"SIGNUP_RATE": "1000/h", "LOGIN_RATE": "1000/m", "UPLOAD_RATE": "1000/m"}
    with running_server(
        workdir,
        base_url=os.environ.get("DATABASE_URL"),
        workers=1,
        threads=6,
        extra_env={**rates, "PAGE_DETECT_RATE": "1000/m"},
        static=True,
    ) as server:
        worker = _start_worker(server)
        try:
            yield Site(server, worker)
        finally:
            _stop_worker(worker)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


class Watched:
    """Console errors and uncaught exceptions of a page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: object) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: object) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    context = browser.new_context(
        base_url=site.url, accept_downloads=True, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(20_000)
    opened = context.new_page()
    watched = Watched()
    context.on("page", watched.attach)
    watched.attach(opened)
    yield opened
    context.close()
    assert watched.errors == [], "the browser reported errors"


def sign_up(page: object) -> str:
    """A new account through the sign-up page; its email. Lands on the upload page."""
    email = f"user-{secrets.token_hex(4)}@example.com"
    page.goto("/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/swaps/new/")
    return email


@pytest.fixture
def signed_in(page: object) -> object:
    sign_up(page)
    return page
