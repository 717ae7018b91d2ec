"""useapi.net InsightFaceSwap (`POST /v1/faceswap/swap`): multipart requests with a
Bearer token as useapi's page shows them, its answer body, its webhook, its errors."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Account, Plan
from swaps import webhooks
from swaps.api import compat_useapi
from swaps.models import JobStatus, SavedFace, SwapJob
from swaps.net.webhook_post import AttemptResult
from tests.helpers import credits_of

ROUTE = "/v1/faceswap/swap"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def useapi(api_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")  # their header
    return client


def useapi_form(upload: Any, **extra: Any) -> dict[str, Any]:
    """Their documented multipart body (channel, names, the two image files)."""
    return {
        "channel": "1234567890",
        "saveid_idname": "ann",
        "saveid_image": upload("grace_hopper.jpg"),
        "swapid_idname": "photo1",
        "swapid_image": upload("astronaut.jpg"),
        **extra,
    }


@committed
def test_the_documented_request_answers_the_finished_job(useapi, upload, account, client):
    response = useapi.post(ROUTE, useapi_form(upload, replyRef="order-7"))

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["verb"], body["status"], body["code"]) == ("faceswap-swap", "completed", 200)
    assert (body["saveid_idname"], body["swapid_idname"]) == ("ann", "photo1")
    assert body["channel"] == "1234567890" and body["replyRef"] == "order-7"
    assert body["saveid_image"]["size"] == len(upload("grace_hopper.jpg").read())
    assert body["swapid_image"]["type"] == "image/jpeg"
    assert ISO_UTC.match(body["created"]) and ISO_UTC.match(body["updated"])
    (attachment,) = body["attachments"]
    assert (attachment["width"], attachment["height"]) == (512, 512)
    assert attachment["content_type"] == "image/jpeg" and attachment["id"] == body["jobid"]
    image = b"".join(client.get(attachment["url"]).streaming_content)  # signed: no key
    assert len(image) == attachment["size"]
    assert Image.open(io.BytesIO(image)).size == (512, 512)
    assert SwapJob.objects.get(pk=body["jobid"]).status == JobStatus.COMPLETED
    assert credits_of(account) == 99


@committed
def test_the_face_is_saved_under_its_name_replacing_the_earlier_one(useapi, upload, account):
    first = useapi.post(ROUTE, useapi_form(upload)).json()
    again = useapi.post(ROUTE, useapi_form(upload)).json()

    assert first["status"] == again["status"] == "completed"
    assert SavedFace.objects.filter(account=account, name="ann").count() == 1
    face = SavedFace.objects.get(account=account, name="ann")
    job = SwapJob.objects.get(pk=again["jobid"])
    assert job.options["source_face_ids"] == [str(face.pk)]


@committed
def test_base64_and_data_uris_are_accepted_for_the_images(useapi, photo):
    data = {
        "saveid_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
        "swapid_image": "data:image/jpeg;base64,"
        + base64.b64encode(photo("astronaut.jpg")).decode(),
    }
    response = useapi.post(ROUTE, data, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed" and body["saveid_idname"] == "id"
    assert body["saveid_image"] == {"size": None, "type": None}


@committed
def test_reply_url_receives_the_same_body(useapi, upload, monkeypatch):
    sent: list[tuple[str, bytes]] = []

    def post(url: str, *, body: bytes, headers: dict[str, str], policy: Any) -> AttemptResult:
        sent.append((url, body))
        return AttemptResult(status=200)

    monkeypatch.setattr(webhooks.webhook_post, "post_webhook", post)
    form = useapi_form(upload, replyUrl="https://hooks.example.com/faceswap", replyRef="r-1")
    answer = useapi.post(ROUTE, form).json()

    ((url, raw),) = sent
    posted = json.loads(raw)
    assert url == "https://hooks.example.com/faceswap"
    assert answer["replyUrl"] == url
    strip = {"attachments"}  # their URLs differ only in the origin (PUBLIC_BASE_URL)
    assert {k: v for k, v in posted.items() if k not in strip} == {
        k: v for k, v in answer.items() if k not in strip
    }
    assert posted["attachments"][0]["size"] == answer["attachments"][0]["size"]


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["saveid_image", "swapid_image"])
def test_a_missing_image_is_a_400_with_their_message(useapi, upload, missing):
    form = useapi_form(upload)
    del form[missing]
    response = useapi.post(ROUTE, form)

    assert response.status_code == 400
    assert response.json() == {
        "error": f"Required param {missing} is missing or empty",
        "code": 400,
    }


@pytest.mark.django_db
def test_an_empty_image_is_a_400_with_their_message(useapi, upload):
    response = useapi.post(ROUTE, useapi_form(upload, saveid_image=upload("empty.jpg", b"")))

    assert response.status_code == 400
    assert response.json()["error"] == "Required param saveid_image is missing or empty"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reply_url", ["http://127.0.0.1/hook", "ftp://example.com/x", "https://e.com/" + "a" * 1020]
)
def test_a_bad_reply_url_is_a_400_before_any_work(useapi, upload, reply_url):
    response = useapi.post(ROUTE, useapi_form(upload, replyUrl=reply_url))

    assert response.status_code == 400
    assert response.json()["code"] == 400 and response.json()["error"]
    assert not SwapJob.objects.exists()


@pytest.mark.django_db
def test_no_key_is_a_401_and_no_credits_a_402(useapi, upload, account):
    assert APIClient().post(ROUTE, useapi_form(upload)).json()["code"] == 401

    Account.objects.filter(pk=account.pk).update(credits=0)
    response = useapi.post(ROUTE, useapi_form(upload))

    assert response.status_code == 402
    assert response.json()["code"] == 402 and "credit" in response.json()["error"]
    assert not SwapJob.objects.exists()


@pytest.mark.django_db
def test_the_rate_limit_is_a_429(useapi, upload, account):
    account.plan = Plan.objects.create(
        slug="one", name="One", hourly_limit=1, daily_limit=10, monthly_credits=0
    )
    account.save()
    useapi.post(ROUTE, {})

    response = useapi.post(ROUTE, useapi_form(upload))

    assert response.status_code == 429
    assert response.json()["code"] == 429


@pytest.mark.django_db
def test_a_job_still_running_at_the_limit_is_answered_started(useapi, upload, monkeypatch):
    monkeypatch.setattr(compat_useapi, "SYNC_WAIT_S", 1)  # no worker runs here
    response = useapi.post(ROUTE, useapi_form(upload))

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "started" and body["attachments"] == []
    assert SwapJob.objects.get(pk=body["jobid"]).status == JobStatus.PENDING


def test_the_route_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][ROUTE]["post"]
    assert {"200", "400", "401", "402", "429"} <= set(operation["responses"])
    assert "multipart/form-data" in operation["requestBody"]["content"]
