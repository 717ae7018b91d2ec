"""Their data in their hands: delete the account, download its data (dashboard and API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from accounts import quotas
from accounts.keys import create_api_key
from accounts.models import Account, ApiKey, CreditEntry, LedgerKind
from swaps import runner, services
from swaps.models import JobStatus, SavedFace, SwapJob
from tests.helpers import api_error, key_client, make_saved_face

pytestmark = pytest.mark.django_db

PASSWORD = "pw-12345!"  # tests.helpers.make_account
CLOSE = "/dashboard/delete-account/"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()  # django-ratelimit's counters (password attempts) live in the cache
    yield
    cache.clear()


def logged_in(account: Account) -> Client:
    client = Client()
    client.force_login(account.user)
    return client


def close_token(client: Client) -> str:
    page = client.get(CLOSE)
    assert page.status_code == 200
    return page.context["form_token"]


@pytest.fixture
def ann_data(submit: Any, upload: Any, account: Account) -> dict[str, Any]:
    """Ann's account with a completed swap (result, previews), a waiting job, a saved face."""
    done = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )
    assert done.status_code == 202
    job = SwapJob.objects.get(pk=done.json()["id"])
    assert job.status == JobStatus.COMPLETED and job.result
    services.create_swap_job(  # a browser job, with previews; its task never runs here
        account=account, api_key=None, spec=_spec(upload), keep_previews=True
    )
    make_saved_face(account, "ann")
    return {"completed": job}


def _spec(upload: Any) -> Any:
    from swaps.specs import NamedImage, SwapOptions, SwapSpec

    return SwapSpec(
        target=NamedImage("target_image", upload("astronaut.jpg")),
        sources=(NamedImage("source_image", upload("grace_hopper.jpg")),),
        options=SwapOptions(),
    )


@pytest.fixture
def bob_job(other_account: Account, other_api_client: Any, submit: Any, upload: Any) -> SwapJob:
    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
        client=other_api_client,
    )
    return SwapJob.objects.get(pk=response.json()["id"])


def files_of(media: Path, jobs: list[SwapJob]) -> list[str]:
    names = [job.result.name for job in jobs if job.result]
    for job in jobs:
        for row in job.inputs.all():
            names += [f.name for f in (row.file, row.preview) if f]
    return [name for name in names if (media / name).exists()]


# --- Delete my account: the dashboard -------------------------------------------------------


def test_delete_my_account_erases_files_keys_and_personal_data_and_keeps_the_ledger(
    account, api_client, ann_data, bob_job, other_api_client, _isolated_media, media_files
):
    ann_jobs = list(SwapJob.objects.filter(account=account))
    assert len(files_of(_isolated_media, ann_jobs)) >= 4  # result, inputs, previews
    bob_files = files_of(_isolated_media, [bob_job])
    assert bob_files
    ledger_before = list(
        CreditEntry.objects.filter(account=account).values_list("kind", "amount", "created_at")
    )
    client = logged_in(account)

    response = client.post(CLOSE, {"password": PASSWORD, "form_token": close_token(client)})

    assert response.status_code == 302 and response["Location"] == "/"
    assert files_of(_isolated_media, ann_jobs) == []
    assert {p.relative_to(_isolated_media).as_posix() for p in media_files()} == set(bob_files)
    assert not SwapJob.objects.filter(account=account).exists()
    assert not SavedFace.objects.filter(account=account).exists()
    assert not ApiKey.objects.filter(account=account).exists()
    # The API key is refused, the session is over.
    assert api_error(api_client.get("/api/v1/account"), 401)["code"] == "invalid_api_key"
    assert client.get("/dashboard/").status_code == 302
    # The user is anonymised; the ledger stays, with the waiting job's refund added.
    user = get_user_model().objects.get(pk=account.user.pk)
    assert (user.email, user.first_name, user.is_active) == ("", "", False)
    assert "ann" not in user.username and not user.has_usable_password()
    account.refresh_from_db()
    assert account.closed_at is not None and account.webhook_secret == ""
    ledger = list(
        CreditEntry.objects.filter(account=account).values_list("kind", "amount", "created_at")
    )
    assert set(ledger_before) <= set(ledger)
    refunds = [row for row in ledger if row[0] == LedgerKind.REFUND]
    assert len(refunds) == 1  # the job that never ran
    assert account.credits == quotas.ledger_balance(account)
    # Bob is untouched: his job, its result and his key.
    assert other_api_client.get(f"/api/v1/swaps/{bob_job.pk}").json()["status"] == "completed"
    assert other_api_client.get(f"/api/v1/swaps/{bob_job.pk}/result").status_code == 200


def test_a_wrong_password_deletes_nothing(account, api_client, ann_data):
    client = logged_in(account)

    response = client.post(CLOSE, {"password": "not-it", "form_token": close_token(client)})

    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert api_client.get("/api/v1/account").status_code == 200
    assert SwapJob.objects.filter(account=account).count() == 2
    assert client.get("/dashboard/").status_code == 200


def test_sending_the_delete_form_twice_is_refused_the_second_time(account, other_account):
    client = logged_in(account)
    token = close_token(client)
    client.post(CLOSE, {"password": "not-it", "form_token": token})

    again = client.post(CLOSE, {"password": PASSWORD, "form_token": token})  # a reload

    assert again.status_code == 302 and again["Location"] == "/dashboard/"
    account.refresh_from_db()
    assert account.closed_at is None


def test_the_dashboard_links_to_the_delete_page_and_the_export(account):
    page = logged_in(account).get("/dashboard/").content.decode()
    assert 'href="/dashboard/delete-account/"' in page
    assert 'href="/dashboard/export/"' in page


def test_a_closed_account_gets_no_more_monthly_grants(account, other_account):
    from datetime import UTC, datetime

    client = logged_in(account)
    client.post(CLOSE, {"password": PASSWORD, "form_token": close_token(client)})

    granted = quotas.grant_all_monthly_credits(now=datetime(2099, 1, 1, tzinfo=UTC))

    assert granted == 1  # bob only
    assert not CreditEntry.objects.filter(account=account, period="2099-01").exists()


# --- Delete my account: the API --------------------------------------------------------------


def test_api_delete_needs_the_password(account, api_client):
    missing = api_client.delete("/api/v1/account", {}, format="json")
    assert api_error(missing, 400)["code"] == "invalid_parameter"
    wrong = api_client.delete("/api/v1/account", {"password": "nope"}, format="json")
    assert api_error(wrong, 403)["code"] == "permission_denied"
    assert api_client.get("/api/v1/account").status_code == 200


def test_api_delete_erases_the_account_refuses_its_keys_and_ends_its_sessions(
    account, api_client, ann_data
):
    second_key = key_client(create_api_key(account=account, name="ci").raw)
    browser = logged_in(account)

    response = api_client.delete("/api/v1/account", {"password": PASSWORD})  # a form body

    assert response.status_code == 204
    for client in (api_client, second_key):
        assert api_error(client.get("/api/v1/swaps"), 401)["code"] == "invalid_api_key"
    assert not SwapJob.objects.filter(account=account).exists()
    assert browser.get("/dashboard/").status_code == 302  # to the log-in page


def test_api_password_guesses_are_limited(account, api_client, settings):
    settings.LOGIN_RATE = "2/m"
    for _ in range(2):
        api_client.delete("/api/v1/account", {"password": "guess"}, format="json")

    refused = api_client.delete("/api/v1/account", {"password": PASSWORD}, format="json")

    assert api_error(refused, 429)["code"] == "rate_limit_exceeded"
    account.refresh_from_db()
    assert account.closed_at is None


def test_a_job_running_while_the_account_is_deleted_keeps_no_result(
    account, pending_job, _isolated_media, media_files
):
    job = services.claim_swap_job(job_id=pending_job.pk)  # a worker has started it
    assert job is not None
    from accounts import services as account_services

    account_services.close_account(account=account)
    # The worker ends its swap after the erasure: what it writes is deleted at once.
    outcome = runner.Outcome(image=b"\xff\xd8 result bytes", faces={})
    services._complete_swap_job(job, outcome, processing_ms=5)

    assert media_files() == []
    assert not SwapJob.objects.filter(pk=job.pk).exists()
    charge = CreditEntry.objects.get(account=account, kind=LedgerKind.CHARGE)
    refund = CreditEntry.objects.get(account=account, kind=LedgerKind.REFUND)
    assert charge.amount == -refund.amount and charge.job_id is None
    assert str(job.pk) in charge.reason  # the ledger still names the job


# --- Download my data ------------------------------------------------------------------------


def test_api_export_has_the_account_keys_usage_ledger_jobs_and_faces(
    account, api_client, api_key, ann_data, bob_job, other_saved_face
):
    response = api_client.get("/api/v1/account/export")

    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"account", "api_keys", "usage", "ledger", "swaps", "saved_faces"}
    assert data["account"]["email"] == "ann@example.com"
    assert data["account"]["plan"]["slug"] == account.plan.slug
    assert [key["name"] for key in data["api_keys"]] == ["test"]
    assert api_key.startswith(data["api_keys"][0]["prefix"])
    assert {entry["kind"] for entry in data["ledger"]} == {"grant", "charge"}
    assert any(window["scope"] == "day" for window in data["usage"]["windows"])
    assert [face["name"] for face in data["saved_faces"]] == ["ann"]
    completed = next(job for job in data["swaps"] if job["id"] == str(ann_data["completed"].pk))
    assert completed["status"] == "completed" and completed["options"]["enhance"] is False
    assert Client().get(completed["result_url"]).status_code == 200  # it still works
    assert len(data["swaps"]) == 2


def test_the_export_holds_no_secret_and_nothing_of_other_accounts(
    account, api_client, api_key, ann_data, bob_job, other_saved_face
):
    text = api_client.get("/api/v1/account/export").content.decode()
    account.refresh_from_db()
    key = ApiKey.objects.get(account=account)
    for secret in (api_key, key.hashed_secret, account.webhook_secret, account.user.password):
        assert secret not in text
    assert str(bob_job.pk) not in text and "bob" not in text


def test_dashboard_download_is_a_json_attachment(account, ann_data):
    response = logged_in(account).get("/dashboard/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"].startswith("max-age=0")
    data = json.loads(response.content)
    assert data["account"]["email"] == "ann@example.com" and len(data["swaps"]) == 2


def test_the_export_needs_a_login_or_a_key(db):
    assert Client().get("/dashboard/export/").status_code == 302
    assert api_error(Client().get("/api/v1/account/export"), 401)["code"] == "api_key_required"


def test_no_job_can_start_on_a_closed_account(account, upload, media_files):
    from accounts import services as account_services
    from accounts.quotas import QuotaError

    account_services.close_account(account=account)

    with pytest.raises(QuotaError) as refused:  # a request that passed its checks a moment ago
        services.create_swap_job(account=account, api_key=None, spec=_spec(upload))
    assert refused.value.code == "permission_denied"
    assert not SwapJob.objects.filter(account=account).exists()
    assert media_files() == []
