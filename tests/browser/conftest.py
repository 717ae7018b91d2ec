"""A real browser (Debian's chromium, driven by Playwright) against the real web server
and a real django-q2 worker, on a throwaway database (tests/browser/site.py).

Skipped, with the reason, on a machine without /usr/bin/chromium (`bash .ci/run` installs
it). Every page a test opens is watched: a console error or an uncaught exception fails it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.site import CHROMIUM, chromium, running_site, sign_up
from tests.live_server import LiveServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                reason = f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_site(tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API keeps an event loop running
    # while it is open, and Django refuses database calls under a running loop, so it
    # must be closed before the rest of the suite runs.
    with chromium() as launched:
        yield launched


class Watched:
    """Console errors and uncaught exceptions of a page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")


def new_page(browser: Any, site: LiveServer, **options: Any) -> tuple[Any, Any, Watched]:
    context = browser.new_context(
        base_url=site.url, accept_downloads=True, viewport={"width": 1200, "height": 900}, **options
    )
    context.set_default_timeout(20_000)
    watched = Watched()
    context.on("page", watched.attach)
    page = context.new_page()
    return context, page, watched


@pytest.fixture
def page(browser: Any, site: LiveServer) -> Iterator[Any]:
    context, opened, watched = new_page(browser, site)
    yield opened
    context.close()
    assert watched.errors == [], "the browser reported errors"


@pytest.fixture
def signed_in(page: Any) -> Any:
    sign_up(page)
    return page
