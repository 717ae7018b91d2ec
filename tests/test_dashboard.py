"""The developer dashboard and the rate limits of the browser forms, over HTTP."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django_ratelimit.exceptions import Ratelimited

from accounts import services, usage, windows
from accounts.keys import create_api_key
from accounts.models import Account, ApiKey, CreditEntry, LedgerKind, UsageWindow
from accounts.page_limits import ratelimited
from swaps.models import SwapJob
from tests.helpers import key_client, make_account

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
DASHBOARD = "/dashboard/"
PASSWORD = "pw-12345!"  # conftest's make_account


# --- Fixtures -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    # django-ratelimit's counters live in the cache; start and end each test empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(frozen: Any, db: None) -> Account:
    """Opened at NOW, so the sign-up grant falls on a known day."""
    return make_account("ann@example.com")


@pytest.fixture
def bob(db: None) -> Account:
    return make_account("bob@example.com")


def logged_in(account: Account, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(account.user)
    return client


@pytest.fixture
def ann_client(account: Account) -> Client:
    return logged_in(account)


def usage_row(account: Account, scope: str, day: datetime, count: int) -> UsageWindow:
    return UsageWindow.objects.create(
        account=account, scope=scope, count=count, starts_at=windows.window_start(scope, day)
    )


def entry(account: Account, kind: str, amount: int, at: datetime, reason: str = "") -> None:
    CreditEntry.objects.create(
        account=account, kind=kind, amount=amount, created_at=at, reason=reason
    )


def seed_month(account: Account) -> None:
    """Activity inside the 30 days, on their edges, and outside them."""
    usage_row(account, "day", NOW, 4)
    usage_row(account, "hour", NOW, 3)  # not a day window: not in the chart
    usage_row(account, "day", NOW - timedelta(days=5), 7)
    usage_row(account, "day", NOW - timedelta(days=30), 99)  # the 31st day back
    five_days_ago = NOW - timedelta(days=5)
    entry(account, LedgerKind.CHARGE, -1, five_days_ago)
    entry(account, LedgerKind.CHARGE, -1, five_days_ago + timedelta(hours=1))
    entry(account, LedgerKind.REFUND, 1, five_days_ago + timedelta(hours=2))
    entry(account, LedgerKind.ADJUSTMENT, 10, NOW - timedelta(days=3))
    entry(account, LedgerKind.ADJUSTMENT, -3, NOW - timedelta(days=3))
    entry(account, LedgerKind.ADJUSTMENT, 50, datetime(2026, 10, 24, 23, 59, tzinfo=UTC))
    entry(account, LedgerKind.ADJUSTMENT, 20, datetime(2026, 10, 25, 0, 0, tzinfo=UTC))


# --- The numbers: accounts.usage ----------------------------------------------------------


def test_daily_usage_counts_day_windows_and_credits_per_utc_day(ann, bob):
    seed_month(ann)
    usage_row(bob, "day", NOW, 1000)
    entry(bob, LedgerKind.CHARGE, -500, NOW)

    days = usage.daily_usage(account=ann, now=NOW)

    assert len(days) == 30
    assert days[0].day.isoformat() == "2026-10-25" and days[-1].day.isoformat() == "2026-11-23"
    by_day = {d.day.isoformat(): (d.requests, d.credits_added, d.credits_spent) for d in days}
    assert by_day["2026-11-23"] == (4, 100, 0)  # the sign-up grant is today
    assert by_day["2026-11-18"] == (7, 1, 2)
    assert by_day["2026-11-20"] == (0, 10, 3)
    assert by_day["2026-10-25"] == (0, 20, 0)  # the first day, from midnight
    assert sum(d.requests for d in days) == 11
    assert sum(d.credits_added for d in days) == 131
    assert sum(d.credits_spent for d in days) == 5


def test_daily_usage_of_a_quiet_account_is_thirty_zero_days(ann):
    CreditEntry.objects.filter(account=ann).delete()
    days = usage.daily_usage(account=ann, now=NOW)
    assert len(days) == 30
    assert all((d.requests, d.credits_added, d.credits_spent) == (0, 0, 0) for d in days)


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (150, 200)]
)
def test_nice_ceiling(value, ceiling):
    assert usage.nice_ceiling(value) == ceiling


def test_chart_layout_scales_bars_and_labels_the_days(ann):
    seed_month(ann)
    chart = usage.build_chart(usage.daily_usage(account=ann, now=NOW))

    assert len(chart.days) == 30
    tallest = max(chart.days, key=lambda d: d.requests.height)
    assert tallest.label == "Nov 18"
    # 7 requests on a 0..10 axis that is 110 units high.
    assert tallest.requests.height == pytest.approx(77)
    assert tallest.requests.y + tallest.requests.height == chart.requests_base
    assert [t.text for t in chart.request_ticks] == ["0", "5", "10"]
    # Added and spent have a scale each: the 100-credit grant does not flatten spending.
    assert [t.text for t in chart.credit_ticks] == ["+100", "+50", "0", "\u22125"]
    assert [t.series for t in chart.credit_ticks] == ["added", "added", "", "spent"]
    nov_18 = chart.days[-6]
    assert nov_18.spent.height == 28.0  # 2 of 5 on a 70-unit half
    assert nov_18.added.height == 2.0  # 1 of 100: kept visible, not 0.7 units
    assert nov_18.added.y == chart.credits_zero - 2
    assert chart.days[0].requests.height == 0  # nothing, no bar
    assert [t.text for t in chart.day_labels][-1] == "Nov 23"
    assert len(chart.day_labels) == 5
    xs = [d.x for d in chart.days]
    assert xs == sorted(xs) and chart.plot_left <= xs[0] and xs[-1] < chart.plot_right


# --- The dashboard page -------------------------------------------------------------------


def test_the_dashboard_is_for_logged_in_users(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_nav_links_to_the_dashboard(ann_client):
    html = ann_client.get(reverse("swaps:list")).content.decode()
    assert f'href="{DASHBOARD}"' in html
    page = ann_client.get(DASHBOARD).content.decode()
    assert f'href="{DASHBOARD}" aria-current="page"' in page


def test_the_dashboard_shows_plan_credits_and_windows(ann):
    usage_row(ann, "hour", NOW, 3)
    usage_row(ann, "day", NOW, 7)

    response = logged_in(ann).get(DASHBOARD)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Plan: Free" in html
    for fact in ("<dd>50</dd>", "<dd>500</dd>", "<dd>100</dd>", "<dd>Yes</dd>"):
        assert fact in html
    assert 'id="credit-balance">100<' in html
    assert "<strong>3 / 50</strong>" in html
    assert "<strong>7 / 500</strong>" in html
    assert "Nov 23, 16:00 UTC" in html  # the hour window resets on the hour
    assert "Nov 24, 00:00 UTC" in html  # the day window at UTC midnight


def test_the_chart_is_an_accessible_svg_of_thirty_days(ann):
    seed_month(ann)

    html = logged_in(ann).get(DASHBOARD).content.decode()

    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="usage-chart-title usage-chart-desc"' in svg
    assert '<title id="usage-chart-title">' in svg
    assert svg.count('class="bar-requests"') == 30
    assert svg.count('class="bar-spent"') == 30 + 1  # plus the legend's swatch
    assert "Nov 18: 7 requests" in svg
    assert "Nov 18: 2 credits spent" in svg
    assert "Nov 20: 10 credits added" in svg and "Nov 18: 1 credit added" in svg
    assert "Oct 24" not in svg and "99 requests" not in svg  # outside the 30 days
    assert "11 requests, 131 credits added and 5 credits spent" in svg
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org", "")
    # The table fallback has every day.
    table = re.search(r'<details class="chart-data">.*?</details>', html, re.S).group(0)
    assert table.count('<th scope="row">') == 30
    assert (
        '<time datetime="2026-11-18">Nov 18</time></th><td class="num">7</td>'
        '<td class="num">1</td><td class="num">2</td>'
    ) in table


def test_the_ledger_shows_the_latest_twenty_entries(ann):
    for i in range(25):
        entry(
            ann,
            LedgerKind.CHARGE if i % 2 else LedgerKind.GRANT,
            -1 if i % 2 else 5,
            NOW - timedelta(minutes=100 - i),
            reason=f"reason-{i:02d}",
        )

    html = logged_in(ann).get(DASHBOARD).content.decode()

    ledger = re.search(r'<section class="card" id="ledger".*?</section>', html, re.S).group(0)
    assert ledger.count("<tr>") == 1 + 20
    # Newest first: the sign-up grant (at NOW), then reason-24 down to reason-06.
    assert ledger.index("Free plan, 2026-11") < ledger.index("reason-24")
    assert ledger.index("reason-24") < ledger.index("reason-06")
    assert "reason-05" not in ledger
    assert ">+5<" in ledger and ">-1<" in ledger and "Charge" in ledger and "Grant" in ledger


# --- API keys -----------------------------------------------------------------------------


def _form_token(client, form: str) -> str:
    """The one-time token of a dashboard form ("create_key" or "rotate_secret"), as a
    browser would send it from the page it shows."""
    html = client.get(DASHBOARD).content.decode()
    action = {"create_key": "create-key", "rotate_secret": "rotate-secret"}[form]
    url = re.escape(reverse("dashboard:" + action))
    pattern = rf'action="{url}[^"]*".*?name="form_token" value="([^"]+)"'
    match = re.search(pattern, html, re.S)
    assert match, f"no {form} form on the dashboard"
    return match.group(1)


def _create_key(client, name: str):
    token = _form_token(client, "create_key")
    return client.post(reverse("dashboard:create-key"), {"name": name, "form_token": token})


def _new_key_from(html: str, prefix: str) -> str:
    match = re.search(rf'id="new-api-key">({re.escape(prefix)}\.[^<]+)</code>', html)
    assert match, "the new key is not on the page"
    return match.group(1)


def test_a_new_key_is_shown_once_works_and_is_not_stored_raw(account, ann_client, caplog):
    caplog.set_level(logging.DEBUG)

    response = _create_key(ann_client, "ci server")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(account=account)
    assert key.name == "ci server" and key.is_active
    raw = _new_key_from(response.content.decode(), key.prefix)
    secret = raw.partition(".")[2]
    assert 'data-copy="new-api-key"' in response.content.decode()

    api = key_client(raw).get("/api/v1/account")
    assert api.status_code == 200 and api.json()["plan"] == "free"

    reload = ann_client.get(DASHBOARD).content.decode()
    assert secret not in reload and "new-api-key" not in reload
    assert f"<code>{key.prefix}…</code>" in reload and "ci server" in reload

    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert secret not in dump.getvalue()
    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())
    assert secret not in caplog.text


def test_a_key_needs_a_name(account, ann_client):
    response = _create_key(ann_client, "  ")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiKey.objects.filter(account=account).exists()


def test_active_keys_are_capped(account, ann_client):
    for i in range(services.MAX_ACTIVE_KEYS):
        services.create_key(account=account, name=f"k{i}")
    response = _create_key(ann_client, "one too many")
    assert response.status_code == 400
    assert "revoke one first" in response.content.decode()

    ApiKey.objects.filter(account=account).first().revoke()  # a revoked key frees a place
    assert _create_key(ann_client, "now").status_code == 200


def test_a_revoked_key_is_refused_on_the_very_next_request(account, ann_client, api_key):
    api = key_client(api_key)
    assert api.get("/api/v1/account").status_code == 200
    key = ApiKey.objects.get(account=account)

    response = ann_client.post(reverse("dashboard:revoke-key", args=[key.pk]))

    assert response.status_code == 302 and response["Location"] == DASHBOARD + "#api-keys"
    refused = api.get("/api/v1/account")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    html = ann_client.get(DASHBOARD).content.decode()
    assert "revoked</span>" in html
    assert reverse("dashboard:revoke-key", args=[key.pk]) not in html


def test_another_users_key_cannot_be_seen_or_revoked(account, ann_client, bob):
    bobs = create_api_key(account=bob, name="bob's server")

    response = ann_client.post(reverse("dashboard:revoke-key", args=[bobs.key.pk]))

    assert response.status_code == 404
    bobs.key.refresh_from_db()
    assert bobs.key.is_active
    assert key_client(bobs.raw).get("/api/v1/account").status_code == 200
    html = ann_client.get(DASHBOARD).content.decode()
    assert bobs.key.prefix not in html and "bob&#x27;s server" not in html


def test_dashboard_actions_need_post_and_csrf(account, api_key):
    key, secret = ApiKey.objects.get(account=account), account.webhook_secret
    revoke = reverse("dashboard:revoke-key", args=[key.pk])
    assert logged_in(account).get(revoke).status_code == 405
    strict = logged_in(account, enforce_csrf_checks=True)
    for url in (
        revoke,
        reverse("dashboard:create-key"),
        reverse("dashboard:rotate-secret"),
        reverse("dashboard:reveal-secret"),
    ):
        assert strict.post(url, {"name": "x"}).status_code == 403
    key.refresh_from_db()
    account.refresh_from_db()
    assert key.is_active and ApiKey.objects.count() == 1 and account.webhook_secret == secret


# --- Webhook secret -----------------------------------------------------------------------


def test_the_webhook_secret_is_hidden_until_revealed(account, ann_client):
    secret = account.webhook_secret
    assert secret not in ann_client.get(DASHBOARD).content.decode()

    revealed = ann_client.post(reverse("dashboard:reveal-secret"))

    assert revealed.status_code == 200 and "no-store" in revealed["Cache-Control"]
    assert f'id="webhook-secret-value">{secret}</code>' in revealed.content.decode()
    assert secret not in ann_client.get(DASHBOARD).content.decode()  # hidden again
    assert ann_client.get(reverse("dashboard:reveal-secret")).status_code == 405


def test_rotating_the_webhook_secret_replaces_it(account, ann_client, bob):
    old, bobs = account.webhook_secret, bob.webhook_secret

    token = _form_token(ann_client, "rotate_secret")
    response = ann_client.post(reverse("dashboard:rotate-secret"), {"form_token": token})

    account.refresh_from_db()
    bob.refresh_from_db()
    assert account.webhook_secret != old and account.webhook_secret.startswith("whsec_")
    assert bob.webhook_secret == bobs
    html = response.content.decode()
    assert account.webhook_secret in html and old not in html
    assert "rotated" in html


def test_reloading_after_create_key_makes_no_second_key(account, ann_client):
    token = _form_token(ann_client, "create_key")
    first = ann_client.post(reverse("dashboard:create-key"), {"name": "a", "form_token": token})
    again = ann_client.post(reverse("dashboard:create-key"), {"name": "a", "form_token": token})

    assert first.status_code == 200 and again.status_code == 302
    assert ApiKey.objects.filter(account=account).count() == 1
    page = ann_client.get(again["Location"]).content.decode()
    assert "already sent" in page


def test_reloading_after_rotate_rotates_once(account, ann_client):
    token = _form_token(ann_client, "rotate_secret")
    ann_client.post(reverse("dashboard:rotate-secret"), {"form_token": token})
    account.refresh_from_db()
    rotated = account.webhook_secret

    again = ann_client.post(reverse("dashboard:rotate-secret"), {"form_token": token})

    account.refresh_from_db()
    assert again.status_code == 302 and account.webhook_secret == rotated


# --- Rate limits on log-in, sign-up and upload ---------------------------------------------

OTHER_IP = "198.51.100.7"


@pytest.fixture
def low_rates(settings: Any) -> None:
    settings.LOGIN_RATE = settings.SIGNUP_RATE = settings.UPLOAD_RATE = "2/m"


def assert_429_page(response: Any) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "Too many attempts" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_login_posts_beyond_the_rate_get_the_429_page(client, account, low_rates, frozen):
    wrong = {"username": "ann@example.com", "password": "wrong"}
    right = {"username": "ann@example.com", "password": PASSWORD}
    for _ in range(2):
        assert client.post(reverse("login"), wrong).status_code == 200

    refused = client.post(reverse("login"), right)  # even the right password waits

    assert_429_page(refused)
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("login")).status_code == 200  # only POSTs are limited
    assert client.post(reverse("login"), right, REMOTE_ADDR=OTHER_IP).status_code == 302
    frozen.shift(timedelta(seconds=61))  # a new window
    assert client.post(reverse("login"), right).status_code == 302


def test_signup_posts_beyond_the_rate_get_the_429_page(client, low_rates, frozen):
    mismatched = {
        "email": "new@example.com",
        "password1": "a-Long-pass-42",
        "password2": "another-pass-42",
    }
    valid = {**mismatched, "password2": mismatched["password1"]}
    for _ in range(2):
        assert client.post(reverse("signup"), mismatched).status_code == 200

    assert_429_page(client.post(reverse("signup"), valid))

    assert not Account.objects.exists()
    assert client.get(reverse("signup")).status_code == 200
    # Log-in has a counter of its own.
    assert (
        client.post(reverse("login"), {"username": "x@example.com", "password": "x"}).status_code
        == 200
    )
    assert client.post(reverse("signup"), valid, REMOTE_ADDR=OTHER_IP).status_code == 302
    assert Account.objects.count() == 1


def test_upload_posts_beyond_the_rate_get_the_429_page(ann_client, low_rates, frozen):
    for _ in range(2):
        assert ann_client.post(reverse("swaps:new"), {}).status_code == 200  # form errors

    assert_429_page(ann_client.post(reverse("swaps:new"), {}))

    assert not SwapJob.objects.exists()
    assert ann_client.get(reverse("swaps:new")).status_code == 200
    assert ann_client.post(reverse("swaps:new"), {}, REMOTE_ADDR=OTHER_IP).status_code == 200


def test_the_rate_is_read_at_request_time(client, account, settings, frozen):
    settings.LOGIN_RATE = "1/m"
    wrong = {"username": "ann@example.com", "password": "wrong"}
    assert client.post(reverse("login"), wrong).status_code == 200
    assert client.post(reverse("login"), wrong).status_code == 429
    settings.LOGIN_RATE = "5/m"
    assert client.post(reverse("login"), wrong).status_code == 200


def test_the_ratelimit_view_works_without_a_retry_hint(rf: RequestFactory, account):
    request = rf.post("/anywhere/")
    request.user = account.user
    response = ratelimited(request, Ratelimited())
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "about 1 minute" in response.content.decode()
