"""Progressive enhancement: with JavaScript off the upload form still makes a swap, and
the job page refreshes itself until the result is there."""

from __future__ import annotations

import pytest

from tests.browser.conftest import new_page
from tests.browser.helpers import SOURCE, TARGET
from tests.browser.site import sign_up

pytestmark = pytest.mark.browser


def test_the_form_works_without_javascript(browser, site):
    context, page, watched = new_page(browser, site, java_script_enabled=False)
    try:
        sign_up(page)
        assert page.locator(".dropzone-hint").first.is_hidden()  # script-only hints stay hidden
        page.set_input_files("#id_source_image", str(SOURCE))
        page.set_input_files("#id_target_image", str(TARGET))
        page.check("#id_consent")
        page.click("[data-submit]")
        page.wait_for_url("**/swaps/*/")
        # <noscript> refresh every 5 s until the job ended.
        page.locator("[data-download]").wait_for(timeout=60_000)
        assert page.locator("[data-after]").count() == 1
    finally:
        context.close()
    assert watched.errors == []
