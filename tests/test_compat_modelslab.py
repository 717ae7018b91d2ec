"""ModelsLab deepfake single_face_swap and fetch: JSON bodies with the key inside, as
ModelsLab's API page shows them; success, processing and error shapes; the webhook."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Account
from swaps import webhooks
from swaps.models import JobStatus, SwapJob
from swaps.net.webhook_post import AttemptResult
from swaps.signing import job_for_token
from tests.helpers import credits_of

SWAP = "/api/v6/deepfake/single_face_swap"
committed = pytest.mark.django_db(transaction=True)


def job_of_link(url: str) -> str:
    token = resolve(urlsplit(url).path).kwargs["token"]
    return str(job_for_token(token).pk)


def pending_job_id(key: str, photo: Any) -> str:
    """A job that stays pending (no worker runs without a commit); Prefer: wait=0 answers
    at once."""
    body = modelslab_body(key, photo)
    return APIClient().post(SWAP, body, format="json", HTTP_PREFER="wait=0").json()["id"]


def b64(photo: Any, name: str) -> str:
    return base64.b64encode(photo(name)).decode()


def modelslab_body(key: str, photo: Any, **extra: Any) -> dict[str, Any]:
    """Their documented example: the key in the body, images as strings."""
    return {
        "key": key,
        "init_image": b64(photo, "grace_hopper.jpg"),
        "target_image": "data:image/jpeg;base64," + b64(photo, "astronaut.jpg"),
        "reference_image": None,
        "watermark": False,
        "webhook": None,
        "track_id": None,
        **extra,
    }


def fetch(job_id: str, key: str) -> Any:
    return APIClient().post(f"/api/v6/deepfake/fetch/{job_id}", {"key": key}, format="json")


@committed
def test_a_swap_done_within_the_short_wait_is_a_success(api_key, photo, account, client):
    response = APIClient().post(SWAP, modelslab_body(api_key, photo), format="json")

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["status"] == "success"
    assert body["output"] == body["proxy_links"] and len(body["output"]) == 1
    assert body["generationTime"] > 0
    assert body["meta"]["watermark"] is False
    image = b"".join(client.get(body["output"][0]).streaming_content)
    assert Image.open(io.BytesIO(image)).size == (512, 512)
    assert SwapJob.objects.get(pk=body["id"]).status == JobStatus.COMPLETED
    assert credits_of(account) == 99
    assert fetch(body["id"], api_key).json() == body  # fetch answers the same


@committed
def test_watermark_defaults_to_true_here(api_key, photo):
    body = modelslab_body(api_key, photo)
    del body["watermark"]
    answer = APIClient().post(SWAP, body, format="json").json()

    assert answer["meta"]["watermark"] is True
    assert SwapJob.objects.get(pk=answer["id"]).options["watermark"] is True


@committed
def test_the_webhook_gets_the_success_body_with_track_id(api_key, photo, monkeypatch):
    sent: list[bytes] = []

    def post(url: str, *, body: bytes, headers: dict[str, str], policy: Any) -> AttemptResult:
        sent.append(body)
        return AttemptResult(status=200, error="")

    monkeypatch.setattr(webhooks.webhook_post, "post_webhook", post)
    data = modelslab_body(api_key, photo, webhook="https://hooks.example.com/ml", track_id=42)
    answer = APIClient().post(SWAP, data, format="json").json()

    (raw,) = sent
    posted = json.loads(raw)
    assert posted["track_id"] == 42 and answer["track_id"] == 42
    assert posted["status"] == "success" and posted["id"] == answer["id"]
    # Each link is signed when it is written (a timestamp inside): they may differ by a
    # second, so compare the jobs they open, not their text.
    assert job_of_link(posted["output"][0]) == job_of_link(answer["output"][0]) == answer["id"]


@committed
def test_a_failed_swap_is_an_error_body(api_key, photo, noise_png):
    data = modelslab_body(api_key, photo, init_image=base64.b64encode(noise_png).decode())
    body = APIClient().post(SWAP, data, format="json").json()

    assert body["status"] == "error" and "face" in body["message"]


@pytest.mark.django_db
def test_a_swap_still_running_is_processing_with_fetch_links(api_key, photo):
    # No worker runs (no commit here): the job stays pending; Prefer shortens the wait.
    response = APIClient().post(
        SWAP, modelslab_body(api_key, photo), format="json", HTTP_PREFER="wait=0"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "processing" and body["eta"] > 0
    assert body["fetch_result"].endswith(f"/api/v6/deepfake/fetch/{body['id']}")
    assert len(body["future_links"]) == 1
    fetched = fetch(body["id"], api_key).json()
    assert fetched["status"] == "processing" and fetched["id"] == body["id"]
    assert APIClient().get(body["future_links"][0]).status_code == 404  # not yet


@pytest.mark.django_db
def test_fetch_of_another_accounts_job_is_an_error(api_key, photo, other_account):
    from accounts.keys import create_api_key

    job_id = pending_job_id(api_key, photo)
    other_key = create_api_key(account=other_account).raw

    response = fetch(job_id, other_key)

    assert response.status_code == 404
    assert response.json()["status"] == "error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"key": ""}, 401),
        ({"key": "nope.nope"}, 401),
        ({"init_image": ""}, 400),
        ({"target_image": "ftp://example.com/a.jpg"}, 400),
        ({"webhook": "http://10.0.0.1/hook"}, 400),
        ({"track_id": {"a": 1}}, 400),
    ],
)
def test_errors_are_status_error_with_a_message(api_key, photo, body, status):
    response = APIClient().post(SWAP, {**modelslab_body(api_key, photo), **body}, format="json")

    assert response.status_code == status
    answer = response.json()
    assert answer["status"] == "error" and answer["message"]
    assert set(answer) == {"status", "message"}
    assert not SwapJob.objects.exists()


@pytest.mark.django_db
def test_no_credits_is_an_error_body(api_key, photo, account):
    Account.objects.filter(pk=account.pk).update(credits=0)
    response = APIClient().post(SWAP, modelslab_body(api_key, photo), format="json")

    assert response.status_code == 402
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_fetch_is_not_counted_as_creating_work(api_key, photo, account):
    from accounts.models import Plan

    job_id = pending_job_id(api_key, photo)
    account.plan = Plan.objects.create(
        slug="one", name="One", hourly_limit=1, daily_limit=10, monthly_credits=0
    )
    account.save()

    assert [fetch(job_id, api_key).status_code for _ in range(3)] == [200] * 3


def test_the_routes_are_in_the_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "200" in paths[SWAP]["post"]["responses"]
    assert "/api/v6/deepfake/fetch/{job_id}" in paths
