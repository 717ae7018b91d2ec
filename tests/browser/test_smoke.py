"""Every main page opens without a browser error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_signup_lands_on_the_upload_page(signed_in):
    assert signed_in.get_by_role("heading", level=1).inner_text() == "New face swap"
