"""Job lifecycle: claims, crashes, expiry, clean-up; the key command; docs; admin."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from swaps import services
from swaps.models import JobStatus, SwapJob
from swaps.tasks import on_swap_task_finished
from tests.helpers import make_account

pytestmark = pytest.mark.django_db


def test_only_one_claim_wins(pending_job):
    assert services.claim_swap_job(job_id=pending_job.pk) is not None
    assert services.claim_swap_job(job_id=pending_job.pk) is None


def test_a_crashed_worker_leaves_no_job_processing_forever(pending_job, settings, media_files):
    services.claim_swap_job(job_id=pending_job.pk)  # the worker claims it, then dies

    assert services.fail_stale_swap_jobs() == 0  # still within its time
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_AFTER_S + 1)
    assert services.fail_stale_swap_jobs(now=later) == 1

    job = SwapJob.objects.get(pk=pending_job.pk)
    assert (job.status, job.error_code) == (JobStatus.FAILED, "processing_failed")
    assert media_files() == []  # inputs erased once final


def test_a_task_killed_by_the_cluster_fails_its_job(pending_job):
    services.claim_swap_job(job_id=pending_job.pk)

    on_swap_task_finished(SimpleNamespace(success=False, args=(str(pending_job.pk),)))

    job = SwapJob.objects.get(pk=pending_job.pk)
    assert (job.status, job.error_code) == (JobStatus.FAILED, "processing_failed")


def test_the_cluster_keeps_no_task_row_for_a_swap_that_succeeded(submit, upload):
    from django_q.models import Task

    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )

    assert SwapJob.objects.get(pk=response.json()["id"]).status == JobStatus.COMPLETED
    assert not Task.objects.exists()  # the job row is the record


def _finished_swap_task(job_id: Any, monkeypatch: pytest.MonkeyPatch, *, success: bool) -> dict:
    """The task django-q2's worker hands its monitor for this job's enqueued swap task."""
    from django_q import tasks as q_tasks
    from django_q.signing import SignedPackage

    packs: list[str] = []
    monkeypatch.setattr(q_tasks, "_sync", packs.append)  # enqueued, not run
    services.enqueue_swap_job(job_id=job_id)
    task = SignedPackage.loads(packs[0])
    now = timezone.now()
    task.update(started=now, stopped=now, success=success, result=None if success else "killed")
    return task


@pytest.mark.parametrize("success", [True, False])
def test_the_cluster_saves_a_swap_task_only_when_it_failed_which_calls_the_hook(
    pending_job, monkeypatch, success
):
    """Success: no task row (the job row is the record). Failure (a timeout, a crash):
    saved, and saving it calls the hook, which fails the job."""
    from django_q.brokers import get_broker
    from django_q.models import Task
    from django_q.monitor import save_task

    services.claim_swap_job(job_id=pending_job.pk)
    save_task(_finished_swap_task(pending_job.pk, monkeypatch, success=success), get_broker())

    job = SwapJob.objects.get(pk=pending_job.pk)
    assert Task.objects.count() == (0 if success else 1)
    if not success:
        assert (job.status, job.error_code) == (JobStatus.FAILED, "processing_failed")


def test_worker_timeout_is_below_the_broker_retry(settings):
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
    assert settings.Q_CLUSTER["timeout"] < settings.JOB_STALE_AFTER_S


def test_a_deleted_pending_job_is_never_processed_and_refunded(pending_job, account):
    services.delete_swap_job(job=pending_job)
    services.run_swap_job(job_id=pending_job.pk)

    job = SwapJob.objects.get(pk=pending_job.pk)
    assert (job.status, job.error_code, job.result.name) == (JobStatus.FAILED, "cancelled", "")
    account.refresh_from_db()
    assert account.credits == account.plan.monthly_credits


def test_result_urls_expire(submit, upload, api_client, client, settings):
    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]
    job = api_client.get(f"/api/v1/swaps/{job_id}").json()
    assert client.get(job["result_url"]).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.RESULT_URL_TTL_S + 5)):
        assert client.get(job["result_url"]).status_code == 404


def test_a_tampered_result_url_is_refused(submit, upload, api_client, client):
    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]
    url = api_client.get(f"/api/v1/swaps/{job_id}").json()["result_url"]
    assert client.get(url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")).status_code == 404


def test_expired_results_are_purged(submit, upload, settings, media_files):
    submit({"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")})
    assert media_files()
    later = timezone.now() + timedelta(seconds=settings.RESULT_URL_TTL_S + 1)
    assert services.purge_expired_results(now=later) == 1
    assert media_files() == []


def _storage_down(*, job: SwapJob) -> None:
    raise OSError("storage unreachable")


def test_inputs_a_worker_could_not_erase_are_erased_by_the_sweeper(
    submit, upload, media_files, monkeypatch
):
    real_erase = services.erase_inputs
    monkeypatch.setattr(services, "erase_inputs", _storage_down)
    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]
    monkeypatch.setattr(services, "erase_inputs", real_erase)

    job = SwapJob.objects.get(pk=job_id)
    assert job.status == JobStatus.COMPLETED  # a swap that is done is not failed for it
    inputs = [row.file.path for row in job.inputs.all()]
    assert len(inputs) == 2 and set(map(str, media_files())) >= set(inputs)
    assert services.erase_leftover_inputs() == 0  # just ended: its worker may be erasing

    later = timezone.now() + timedelta(seconds=services.LEFTOVER_INPUTS_AFTER_S + 1)
    assert services.erase_leftover_inputs(now=later) == 1
    assert [str(path) for path in media_files()] == [job.result.path]  # the result stays
    assert SwapJob.objects.get(pk=job_id).inputs_deleted_at is not None
    assert services.erase_leftover_inputs(now=later) == 0


def test_the_sweeper_leaves_waiting_jobs_inputs_alone(pending_job, media_files):
    later = timezone.now() + timedelta(days=1)

    assert services.erase_leftover_inputs(now=later) == 0
    assert len(media_files()) == 2


def test_a_failed_job_whose_inputs_could_not_be_erased_is_still_failed_and_refunded(
    pending_job, monkeypatch
):
    services.claim_swap_job(job_id=pending_job.pk)
    credits_before = Account.objects.get(pk=pending_job.account_id).credits
    monkeypatch.setattr(services, "erase_inputs", _storage_down)

    assert services.fail_swap_job(job=pending_job, code="processing_failed", message="x")
    job = SwapJob.objects.get(pk=pending_job.pk)
    assert (job.status, job.inputs_deleted_at) == (JobStatus.FAILED, None)
    assert Account.objects.get(pk=job.account_id).credits == credits_before + job.cost


def test_createapikey_prints_a_working_key_on_its_last_line(db):
    out = StringIO()
    call_command(
        "createapikey",
        "--email",
        "Carol@Example.com",
        "--name",
        "ci",
        stdout=out,
        stderr=StringIO(),
    )
    key = out.getvalue().strip().splitlines()[-1]

    assert APIClient().get("/api/v1/swaps", HTTP_X_API_KEY=key).status_code == 200
    again = StringIO()
    call_command("createapikey", "--email", "carol@example.com", stdout=again, stderr=StringIO())
    second = again.getvalue().strip().splitlines()[-1]
    assert second != key
    assert APIClient().get("/api/v1/swaps", HTTP_X_API_KEY=second).status_code == 200


def test_the_schema_describes_routes_errors_and_auth(client):
    schema = client.get("/api/schema/?format=json").json()
    assert {"/api/v1/swaps", "/api/v1/swaps/{id}", "/api/v1/swaps/{id}/result"} <= set(
        schema["paths"]
    )
    assert "/api/v1/account" in schema["paths"]
    assert {"ApiKeyHeader", "BearerKey"} <= set(schema["components"]["securitySchemes"])
    # Either header is enough: two alternative requirements, not one combined.
    assert schema["paths"]["/api/v1/swaps"]["post"]["security"] == [
        {"ApiKeyHeader": []},
        {"BearerKey": []},
    ]
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    responses = schema["paths"]["/api/v1/swaps"]["post"]["responses"]
    assert {"202", "400", "401", "413"} <= set(responses)


def test_swagger_ui_is_served_from_local_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    # Every script, style and icon the page loads comes from this server (a CSRF token in
    # the page may contain any letters, so the check is on the addresses, not the text).
    loaded = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded)


def test_admin_lists_jobs_users_and_keys(admin_client, pending_job):
    for url in [
        "/admin/swaps/swapjob/",
        "/admin/swaps/swapjob/?status__exact=pending",
        f"/admin/swaps/swapjob/?account__id__exact={pending_job.account_id}",
        "/admin/accounts/apikey/",
        "/admin/accounts/account/",
        "/admin/auth/user/",
        f"/admin/swaps/swapjob/{pending_job.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_filters_jobs_by_account(admin_client, pending_job):
    other_account = make_account("bob@example.com")
    mine = admin_client.get(f"/admin/swaps/swapjob/?account__id__exact={pending_job.account_id}")
    theirs = admin_client.get(f"/admin/swaps/swapjob/?account__id__exact={other_account.pk}")

    assert str(pending_job.pk) in mine.content.decode()
    assert str(pending_job.pk) not in theirs.content.decode()
