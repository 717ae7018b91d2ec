"""Swaps made in the browser count in the usage windows and the chart, as API requests do."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts import rate_limits, usage
from accounts.models import Account
from swaps.models import SwapJob
from tests.helpers import credits_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()  # the upload form's per-IP counters
    yield
    cache.clear()


def browser(account: Account) -> Client:
    client = Client()
    client.force_login(account.user)
    return client


def swap_form(photo: Any) -> dict[str, Any]:
    return {
        "source_image": SimpleUploadedFile("s.jpg", photo("grace_hopper.jpg")),
        "target_image": SimpleUploadedFile("t.jpg", photo("astronaut.jpg")),
        "consent": "on",  # the upload form's consent box, where the form has one
    }


def test_a_browser_swap_counts_in_the_windows_the_dashboard_and_the_chart(
    account, api_client, photo
):
    api_client.post("/api/v1/swaps", {})  # one API request that creates work (refused: 400)
    client = browser(account)

    response = client.post("/swaps/new/", swap_form(photo))

    assert response.status_code == 302, response.content[:300]
    windows = rate_limits.window_statuses(account=account)
    assert (windows["hour"].used, windows["day"].used) == (2, 2)
    html = client.get("/dashboard/").content.decode()
    assert "<strong>2 / 50</strong>" in html and "<strong>2 / 500</strong>" in html
    assert usage.daily_usage(account=account)[-1].requests == 2
    assert "Requests per day (API and browser)" in html


def test_a_browser_swap_past_the_hourly_limit_is_refused_and_costs_nothing(
    account, photo, settings
):
    account.plan.hourly_limit = 1
    account.plan.save()
    client = browser(account)
    assert client.post("/swaps/new/", swap_form(photo)).status_code == 302
    before = credits_of(account)

    refused = client.post("/swaps/new/", swap_form(photo))

    assert refused.status_code == 200
    assert "Your plan allows 1 requests per hour." in refused.content.decode()
    assert SwapJob.objects.filter(account=account).count() == 1
    assert credits_of(account) == before
