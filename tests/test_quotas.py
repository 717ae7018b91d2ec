"""Plans, rate windows, credits and idempotency over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import quotas
from accounts.models import Account, CreditEntry, IdempotencyRecord, LedgerKind, Plan
from swaps.models import JobStatus, SwapJob

pytestmark = pytest.mark.django_db

HOUR_START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _swap_data(upload: Any) -> dict[str, Any]:
    return {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}


def _balance(account: Account) -> int:
    account.refresh_from_db(fields=["credits"])
    assert account.credits == quotas.ledger_balance(account)  # always the ledger's sum
    return account.credits


# --- Rate limits ----------------------------------------------------------------------


def test_the_51st_free_request_in_an_hour_is_refused_until_the_window_resets(
    api_client, account, upload
):
    with time_machine.travel(HOUR_START + timedelta(minutes=5), tick=False):
        for sent in range(1, 51):
            response = api_client.post("/api/v1/swaps", {})  # bad input still counts
            assert response.status_code == 400
            assert response["X-RateLimit-Limit"] == "50"
            assert response["X-RateLimit-Remaining"] == str(50 - sent)
        reset = int((HOUR_START + timedelta(hours=1)).timestamp())
        assert response["X-RateLimit-Reset"] == str(reset)

        refused = api_client.post("/api/v1/swaps", _swap_data(upload))

        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "rate_limit_exceeded"
        assert error["details"]["reset_at"] == (HOUR_START + timedelta(hours=1)).isoformat()
        assert refused["Retry-After"] == str(55 * 60)
        assert refused["X-RateLimit-Remaining"] == "0"
        assert not SwapJob.objects.exists()  # a refused request creates nothing ...
        assert _balance(account) == 100  # ... and costs nothing

    with time_machine.travel(HOUR_START + timedelta(hours=1, seconds=1), tick=False):
        again = api_client.post("/api/v1/swaps", _swap_data(upload))
        assert again.status_code == 202
        assert again["X-RateLimit-Remaining"] == "49"


def test_the_daily_limit_binds_across_hours(api_client, account):
    Plan.objects.filter(pk=account.plan_id).update(hourly_limit=5, daily_limit=7)
    day = datetime(2026, 11, 23, tzinfo=UTC)
    with time_machine.travel(day + timedelta(hours=1), tick=False):
        assert [api_client.post("/api/v1/swaps", {}).status_code for _ in range(6)] == [400] * 5 + [
            429
        ]
    with time_machine.travel(day + timedelta(hours=2), tick=False):
        codes = [api_client.post("/api/v1/swaps", {}).status_code for _ in range(3)]
        assert codes == [400, 400, 429]
        refused = api_client.post("/api/v1/swaps", {})
        assert refused.json()["error"]["details"]["window"] == "day"
        assert refused["Retry-After"] == str(22 * 3600)
        # Refused by the day, counted in neither window: this hour still has 3 of 5 left.
        assert refused["X-RateLimit-Remaining"] == "3"
        assert api_client.get("/api/v1/account").json()["limits"]["hour"]["remaining"] == 3


def test_limits_count_per_account_over_all_its_keys(api_client, account):
    from accounts.keys import create_api_key

    Plan.objects.filter(pk=account.plan_id).update(hourly_limit=2)
    second = APIClient()
    second.credentials(HTTP_X_API_KEY=create_api_key(account=account).raw)
    assert api_client.post("/api/v1/swaps", {}).status_code == 400
    assert second.post("/api/v1/swaps", {}).status_code == 400
    assert api_client.post("/api/v1/swaps", {}).status_code == 429


def test_reads_carry_the_headers_without_using_the_write_window(api_client):
    api_client.post("/api/v1/swaps", {})
    for path in ["/api/v1/swaps", "/api/v1/account", "/api/v1/swaps/" + "0" * 32]:
        response = api_client.get(path)
        assert response["X-RateLimit-Limit"] == "50"
        assert response["X-RateLimit-Remaining"] == "49"


def test_reads_have_their_own_anti_abuse_limit(api_client, account):
    Plan.objects.filter(pk=account.plan_id).update(read_hourly_limit=3)
    codes = [api_client.get("/api/v1/swaps").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api_client.post("/api/v1/swaps", {}).status_code == 400  # writes unaffected


# --- Credits --------------------------------------------------------------------------


def test_a_new_account_gets_its_plans_monthly_grant(account):
    assert _balance(account) == 100
    assert account.ledger.get().kind == LedgerKind.GRANT


def test_an_accepted_job_costs_its_cost(submit, upload, account):
    job = submit(_swap_data(upload)).json()
    assert job["cost"] == 1
    assert _balance(account) == 99
    assert CreditEntry.objects.get(kind=LedgerKind.CHARGE).job_id is not None


@pytest.mark.parametrize(
    "frames,cost", [(0, 1), (1, 1), (2, 1), (10, 1), (11, 2), (20, 2), (21, 3), (50, 5)]
)
def test_a_still_costs_1_and_an_animation_1_per_started_10_frames(frames, cost):
    assert quotas.job_cost(frames=frames) == cost


def test_it_rejects_when_credits_exhausted(api_client, account, upload, media_files):
    quotas.adjust_credits(account=account, amount=-100, reason="test")

    response = api_client.post("/api/v1/swaps", _swap_data(upload))

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert not SwapJob.objects.exists()
    assert media_files() == []
    assert _balance(account) == 0


def test_bad_input_never_costs_credits(api_client, account, upload):
    response = api_client.post(
        "/api/v1/swaps", {**_swap_data(upload), "target_image": upload("x.jpg", b"nope")}
    )
    assert response.status_code == 400
    assert _balance(account) == 100


def test_a_failed_job_refunds_once_even_when_its_task_runs_twice(
    submit, upload, account, api_client
):
    from swaps import services
    from swaps.tasks import on_swap_task_finished, process_swap_job

    blank = upload("blank.png", _blank_png())
    job_id = submit({"source_image": blank, "target_image": upload("astronaut.jpg")}).json()["id"]
    assert api_client.get(f"/api/v1/swaps/{job_id}").json()["status"] == "failed"

    process_swap_job(job_id)  # the task delivered again
    job = SwapJob.objects.get(pk=job_id)
    services.fail_swap_job(job=job, code="processing_failed", message="again")
    on_swap_task_finished(type("Task", (), {"success": False, "args": (job_id,)})())

    assert _balance(account) == 100
    assert CreditEntry.objects.filter(job_id=job_id, kind=LedgerKind.REFUND).count() == 1


def _blank_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 200), (90, 120, 150)).save(out, "PNG")
    return out.getvalue()


def test_the_monthly_grant_is_given_once_per_month(account):
    with time_machine.travel(datetime.now(tz=UTC), tick=False):
        assert quotas.grant_all_monthly_credits() == 0  # the opening grant covers this month
    next_month = (datetime.now(tz=UTC).replace(day=1) + timedelta(days=32)).replace(day=2)
    with time_machine.travel(next_month, tick=False):
        assert quotas.grant_all_monthly_credits() == 1
        assert quotas.grant_all_monthly_credits() == 0
    assert _balance(account) == 200


def test_the_account_endpoint_shows_plan_credits_and_windows(api_client):
    api_client.post("/api/v1/swaps", {})
    body = api_client.get("/api/v1/account").json()
    assert body["plan"] == "free"
    assert body["credits"] == 100
    assert body["limits"]["hour"]["limit"] == 50
    assert body["limits"]["hour"]["remaining"] == 49
    assert body["limits"]["day"] == {**body["limits"]["day"], "limit": 500, "remaining": 499}


def test_createapikey_sets_plan_and_credits(db):
    out = StringIO()
    call_command(
        "createapikey",
        "--email",
        "dee@example.com",
        "--plan",
        "pro",
        "--credits",
        "7",
        stdout=out,
        stderr=StringIO(),
    )
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=out.getvalue().strip().splitlines()[-1])
    body = client.get("/api/v1/account").json()
    assert (body["plan"], body["credits"], body["limits"]["hour"]["limit"]) == ("pro", 7, 1000)


# --- Idempotency ----------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replays_the_first_answer(api_client, account, photo):
    import base64

    body = {
        "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
        "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
    }
    first = api_client.post("/api/v1/swaps", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_client.post("/api/v1/swaps", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert SwapJob.objects.count() == 1
    assert _balance(account) == 99


def test_multipart_repeats_match_despite_new_boundaries(api_client, upload):
    first = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="m")
    second = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="m")
    assert second.json()["id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_a_422(api_client, upload):
    api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**_swap_data(upload), "client_reference": "changed"}

    response = api_client.post("/api/v1/swaps", other, HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert SwapJob.objects.count() == 1


def test_a_key_whose_first_request_is_still_running_is_a_409(api_client, account, upload):
    running = _fingerprint_of(api_client, upload)
    IdempotencyRecord.objects.create(account=account, key="k-3", request_hash=running)

    response = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_a_key_whose_first_request_died_before_any_work_is_free_again(api_client, account, upload):
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    IdempotencyRecord.objects.create(
        account=account,
        key="k-5",
        request_hash=_fingerprint_of(api_client, upload),
        owner=f"{socket.gethostname()}:{dead.pid}",
    )

    response = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-5")

    assert response.status_code == 202  # not 409 for the next two minutes


def test_a_retry_after_the_server_died_past_the_commit_gets_that_job(
    api_client, account, upload, monkeypatch
):
    from swaps.api.views import SwapJobViewSet

    answer = SwapJobViewSet._accepted
    monkeypatch.setattr(SwapJobViewSet, "_accepted", _dies_once(answer))
    api_client.raise_request_exception = False
    first = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-4")
    retry = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-4")
    again = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="k-4")

    assert first.status_code == 500  # the job committed, its answer was lost
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (202, "true")
    assert retry.json()["id"] == str(SwapJob.objects.get().pk)  # that job, not a second
    assert again.json() == retry.json()
    assert _balance(account) == 99


def _dies_once(answer: Any) -> Any:
    calls = []

    def accepted(self: Any, job: SwapJob) -> Any:
        calls.append(job)
        if len(calls) == 1:
            raise RuntimeError("killed between the commit and the answer")
        return answer(self, job)

    return accepted


def _fingerprint_of(api_client: APIClient, upload: Any) -> str:
    """The fingerprint the server computes, read back from a throwaway key."""
    api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="probe")
    return IdempotencyRecord.objects.get(key="probe").request_hash


def test_keys_are_scoped_per_account(api_client, other_api_client, upload):
    first = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="same")
    other = other_api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


def test_an_error_is_not_kept_so_the_key_can_be_retried(api_client, account, upload):
    quotas.adjust_credits(account=account, amount=-100, reason="test")
    assert (
        api_client.post(
            "/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="retry"
        ).status_code
        == 402
    )
    quotas.adjust_credits(account=account, amount=5, reason="top-up")
    assert (
        api_client.post(
            "/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="retry"
        ).status_code
        == 202
    )


def test_keys_are_kept_for_24_hours(api_client, upload, settings):
    start = datetime.now(tz=UTC)
    with time_machine.travel(start, tick=False):
        first = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="d")
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        again = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="d")
        assert again.json()["id"] == first.json()["id"]
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        later = api_client.post("/api/v1/swaps", _swap_data(upload), HTTP_IDEMPOTENCY_KEY="d")
        assert later.json()["id"] != first.json()["id"]


# --- Operators ------------------------------------------------------------------------


def test_operators_grant_and_take_credits_with_a_reason(admin_client, account):
    url = f"/admin/accounts/account/{account.pk}/change/"
    form = {
        "plan": account.plan_id,
        "webhook_secret": account.webhook_secret,
        "credit_change": "-30",
        "credit_reason": "",
    }
    for prefix in ("api_keys", "ledger"):
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    assert admin_client.post(url, form).status_code == 200  # no reason: refused
    assert _balance(account) == 100

    response = admin_client.post(url, {**form, "credit_reason": "chargeback"})
    assert response.status_code == 302
    assert _balance(account) == 70
    assert account.ledger.filter(kind=LedgerKind.ADJUSTMENT, reason="chargeback").exists()


def test_operators_refund_a_job_only_once(admin_client, submit, upload, account):
    job_id = submit(_swap_data(upload)).json()["id"]
    assert SwapJob.objects.get(pk=job_id).status == JobStatus.COMPLETED
    for _ in range(2):
        admin_client.post(
            "/admin/swaps/swapjob/", {"action": "refund_jobs", "_selected_action": [job_id]}
        )
    assert _balance(account) == 100


def test_saving_a_stale_account_never_writes_an_old_balance(account):
    stale = Account.objects.get(pk=account.pk)
    quotas.adjust_credits(account=account, amount=-40, reason="spent elsewhere")
    stale.plan = Plan.objects.get(slug="basic")
    stale.save()
    assert _balance(account) == 60
