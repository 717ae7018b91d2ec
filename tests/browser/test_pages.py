"""Every page: fits 390 px without sideways scrolling, sends the strict CSP, and has no
console error (the page fixture fails any test that logs one); the dashboard's actions
are not repeated by a reload."""

from __future__ import annotations

import pytest

from tests.browser.helpers import choose_photos, submit_and_wait_for_result

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


UNLABELLED_JS = """() => {
  const fields = document.querySelectorAll('input:not([type=hidden]), select, textarea');
  const unlabelled = Array.from(fields).filter(
    (f) => !(f.labels && f.labels.length) && !f.getAttribute('aria-label'));
  const noAlt = document.querySelectorAll('img:not([alt])');
  return [...unlabelled.map((f) => f.name), ...Array.from(noAlt, (i) => i.src)];
}"""


def test_every_page_fits_390_px_with_labels_and_alt_text(signed_in):
    page = signed_in
    page.set_viewport_size(PHONE)
    choose_photos(page)
    submit_and_wait_for_result(page)
    job_page = page.url
    page.goto("/dashboard/")
    page.fill("input[name=name]", "phone")
    page.click("text=Create key")  # a key and its table row exist
    for path in ("/", "/swaps/new/", "/swaps/", job_page, "/dashboard/"):
        page.goto(path)
        assert no_sideways_scroll(page), f"{path} scrolls sideways at 390 px"
        assert page.evaluate(UNLABELLED_JS) == [], (
            f"{path}: fields without labels, images without alt"
        )


def test_public_pages_fit_390_px_and_send_the_security_headers(page):
    page.set_viewport_size(PHONE)
    for path in ("/", "/login/", "/signup/"):
        response = page.goto(path)
        assert no_sideways_scroll(page), f"{path} scrolls sideways at 390 px"
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "img-src 'self' data: blob:" in csp
        assert headers["referrer-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]


def test_the_api_docs_run_under_the_csp(page):
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info").wait_for()


def test_reloading_after_dashboard_actions_repeats_nothing(signed_in):
    page = signed_in
    page.goto("/dashboard/")
    keys = page.locator("#api-keys tbody tr")
    before = keys.count()
    page.fill("input[name=name]", "laptop")
    page.click("text=Create key")
    page.locator("#new-api-key").wait_for()
    page.reload()  # the browser sends the POST again
    page.locator(".message").filter(has_text="already sent").wait_for()
    assert keys.count() == before + 1

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Rotate')")
    rotated = page.locator("#webhook-secret-value").inner_text()
    page.reload()
    page.locator(".message").filter(has_text="already sent").wait_for()
    page.click("text=Reveal")
    assert page.locator("#webhook-secret-value").inner_text() == rotated
