"""Segmind faceswap-v2 (`POST /v1/models/faceswap-v2`): requests as Segmind's API page
shows them (JSON, `x-api-key`), answers and error bodies as its clients expect."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Account, Plan
from swaps.api import compat_segmind
from swaps.models import JobStatus, SwapJob
from tests.helpers import credits_of

ROUTE = "/v1/models/faceswap-v2"
# Jobs run when the request commits (the synchronous worker): the answer is the result.
committed = pytest.mark.django_db(transaction=True)


def b64(photo: Any, name: str) -> str:
    return base64.b64encode(photo(name)).decode()


def segmind_body(photo: Any, **extra: Any) -> dict[str, Any]:
    """Their documented example, with our fixture photos as base64."""
    return {
        "source_img": b64(photo, "grace_hopper.jpg"),
        "target_img": b64(photo, "astronaut.jpg"),
        "input_faces_index": "0",
        "source_faces_index": "0",
        "face_restore": "codeformer-v0.1.0.pth",
        "base64": False,
        **extra,
    }


def segmind_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)  # their header, x-api-key
    return client


@pytest.fixture
def segmind(api_key: str) -> APIClient:
    return segmind_client(api_key)


@committed
def test_the_documented_request_answers_the_image_bytes(segmind, photo, account, api_client):
    response = segmind.post(ROUTE, segmind_body(photo), format="json")

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (512, 512)
    assert credits_of(account) == 99
    job = SwapJob.objects.get(pk=response["X-Job-Id"])
    assert job.options["enhance"] is True  # a documented restorer: our enhance
    listed = api_client.get("/api/v1/swaps").json()["results"]
    assert [item["id"] for item in listed] == [str(job.pk)]
    assert listed[0]["status"] == JobStatus.COMPLETED


@committed
def test_base64_true_answers_json_with_the_image(segmind, photo):
    data_uri = "data:image/jpeg;base64," + b64(photo, "grace_hopper.jpg")
    response = segmind.post(
        ROUTE,
        segmind_body(photo, source_img=data_uri, base64=True, face_restore="disable"),
        format="json",
    )

    assert response.status_code == 200
    image = base64.b64decode(response.json()["image"])
    assert Image.open(io.BytesIO(image)).format == "JPEG"
    assert SwapJob.objects.get().options["enhance"] is False


@committed
def test_a_job_that_fails_is_a_400_in_segminds_shape(segmind, photo, noise_png):
    body = segmind_body(photo, source_img=base64.b64encode(noise_png).decode())
    response = segmind.post(ROUTE, body, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "no_face_detected"
    assert "face" in response.json()["error"]


@committed
def test_the_same_idempotency_key_answers_the_same_job_once_charged(segmind, photo, account):
    first = segmind.post(ROUTE, segmind_body(photo), format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = segmind.post(ROUTE, segmind_body(photo), format="json", HTTP_IDEMPOTENCY_KEY="s-1")

    assert first.status_code == again.status_code == 200
    assert first["X-Job-Id"] == again["X-Job-Id"]
    assert again.content == first.content
    assert credits_of(account) == 99


@pytest.mark.django_db
def test_a_swap_not_done_within_the_wait_limit_is_a_504(segmind, photo, monkeypatch):
    monkeypatch.setattr(compat_segmind, "SYNC_WAIT_S", 1)  # no worker runs: it stays pending
    response = segmind.post(ROUTE, segmind_body(photo), format="json")

    assert response.status_code == 504
    body = response.json()
    assert body["error_code"] == "timeout"
    assert SwapJob.objects.get(pk=body["job_id"]).status == JobStatus.PENDING


@pytest.mark.django_db
def test_no_credits_is_a_406_and_no_job(segmind, photo, account):
    Account.objects.filter(pk=account.pk).update(credits=0)
    response = segmind.post(ROUTE, segmind_body(photo), format="json")

    assert response.status_code == 406
    assert response.json()["error_code"] == "insufficient_credits"
    assert not SwapJob.objects.exists()


@pytest.mark.django_db
def test_a_missing_or_wrong_key_is_a_401(photo):
    missing = APIClient().post(ROUTE, segmind_body(photo), format="json")
    wrong = segmind_client("abc.def").post(ROUTE, segmind_body(photo), format="json")

    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error_code"] == "api_key_required"
    assert wrong.json()["error_code"] == "invalid_api_key"


@pytest.mark.django_db
def test_the_rate_limit_is_a_429(segmind, photo, account):
    account.plan = Plan.objects.create(
        slug="one", name="One", hourly_limit=1, daily_limit=10, monthly_credits=0
    )
    account.save()
    segmind.post(ROUTE, {}, format="json")

    response = segmind.post(ROUTE, segmind_body(photo), format="json")

    assert response.status_code == 429
    assert response.json()["error_code"] == "rate_limit_exceeded"
    assert response["Retry-After"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source_img": ""}, "source_img"),
        ({"target_img": None}, "target_img"),
        ({"face_restore": "magic.pth"}, "face_restore"),
        ({"input_faces_index": "x"}, "input_faces_index"),
        ({"source_faces_index": "0,1", "input_faces_index": "0,1,2"}, "input_faces_index"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(segmind, photo, change, field):
    response = segmind.post(ROUTE, segmind_body(photo, **change), format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "invalid_parameter"
    assert not SwapJob.objects.exists()


@pytest.mark.django_db
def test_private_urls_are_refused_as_everywhere(segmind, photo):
    body = segmind_body(photo, target_img="http://127.0.0.1/photo.jpg")
    response = segmind.post(ROUTE, body, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "url_not_allowed"


def test_the_route_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][ROUTE]["post"]
    assert {"400", "401", "406", "429", "504"} <= set(operation["responses"])
    assert "application/json" in operation["requestBody"]["content"]
