"""Their data in their hands, in the browser: download my data, delete my account (confirmed
by the password), and the account's API key is refused afterwards."""

from __future__ import annotations

import json

import pytest
import requests

from tests.browser.helpers import choose_photos, submit_and_wait_for_result
from tests.browser.site import PASSWORD

pytestmark = pytest.mark.browser


def test_export_then_delete_the_account_and_its_key_is_refused(signed_in, site):
    page = signed_in
    choose_photos(page)
    submit_and_wait_for_result(page)
    page.goto("/dashboard/")
    page.fill("input[name=name]", "laptop")
    page.click("text=Create key")
    key = page.inner_text("#new-api-key").strip()
    assert requests.get(f"{site.url}/api/v1/account", headers={"X-Api-Key": key}).ok

    page.goto("/dashboard/")
    with page.expect_download() as download:
        page.click("text=Download my data")
    exported = json.loads(download.value.path().read_text())
    assert len(exported["swaps"]) == 1 and exported["swaps"][0]["consent"] is True

    page.click("text=Delete my account")
    page.fill("input[name=password]", PASSWORD)
    page.click("text=Delete my account and its data")
    page.wait_for_load_state()
    refused = requests.get(f"{site.url}/api/v1/account", headers={"X-Api-Key": key})
    assert refused.status_code == 401
    page.goto("/swaps/")
    assert "/login/" in page.url  # logged out too
