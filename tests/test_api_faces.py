"""POST /api/v1/detect and saved faces (/api/v1/faces) over HTTP."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import IdempotencyRecord, Plan
from swaps import engine
from swaps.models import SavedFace
from tests.helpers import api_error, credits_of, make_saved_face

pytestmark = pytest.mark.django_db


def _rate_headers(response: Any) -> tuple[str, str, str]:
    return (
        response["X-RateLimit-Limit"],
        response["X-RateLimit-Remaining"],
        response["X-RateLimit-Reset"],
    )


# --- Detect ---------------------------------------------------------------------------


def test_detect_returns_the_size_and_each_face(api_client, upload, account):
    response = api_client.post("/api/v1/detect", {"image": upload("astronaut.jpg")})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (512, 512)
    [face] = body["faces"]
    assert face["index"] == 0
    x, y, w, h = face["box"]
    assert all(isinstance(v, int) for v in face["box"])
    assert 0 <= x < 512 and 0 <= y < 512 and 60 < w < 200 and 60 < h < 200
    assert isinstance(face["score"], float)
    assert credits_of(account) == 100  # no credits


def test_detect_numbers_faces_largest_first(api_client, upload, two_faces_png):
    body = api_client.post("/api/v1/detect", {"image": upload("two.png", two_faces_png)}).json()

    assert [face["index"] for face in body["faces"]] == [0, 1]
    areas = [face["box"][2] * face["box"][3] for face in body["faces"]]
    assert areas[0] > areas[1]
    assert body["faces"][0]["box"][0] < body["faces"][1]["box"][0]  # Grace Hopper, left


def test_detect_accepts_base64_in_json_and_finds_no_face_in_noise(api_client, noise_png):
    response = api_client.post(
        "/api/v1/detect", {"image": base64.b64encode(noise_png).decode()}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"width": 320, "height": 240, "faces": []}


@pytest.mark.parametrize(
    "data,code,status",
    [
        ({}, "invalid_parameter", 400),
        ({"image": "aGVsbG8gd29ybGQ="}, "invalid_image_format", 400),
        ({"image": "file:///etc/passwd"}, "url_not_allowed", 400),
    ],
)
def test_detect_refuses_bad_input(api_client, data, code, status):
    assert api_error(api_client.post("/api/v1/detect", data, format="json"), status)["code"] == code


def test_detect_needs_a_key(upload):
    response = APIClient().post("/api/v1/detect", {"image": upload("astronaut.jpg")})
    assert api_error(response, 401)["code"] == "api_key_required"


def test_detect_counts_in_the_write_window(api_client, upload, account):
    account.plan = Plan.objects.create(
        slug="tiny", name="Tiny", hourly_limit=1, daily_limit=10, monthly_credits=0
    )
    account.save()
    first = api_client.post("/api/v1/detect", {"image": upload("astronaut.jpg")})
    assert _rate_headers(first)[:2] == ("1", "0")

    refused = api_client.post("/api/v1/detect", {"image": upload("astronaut.jpg")})

    assert api_error(refused, 429)["code"] == "rate_limit_exceeded"
    assert "Retry-After" in refused


# --- Saved faces: list, get, delete ---------------------------------------------------


def test_the_list_holds_only_the_callers_faces_newest_first(api_client, account, other_saved_face):
    older = make_saved_face(account, "older")
    SavedFace.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    newer = make_saved_face(account, "newer")

    response = api_client.get("/api/v1/faces?limit=1")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"]
    assert body["results"] == [
        {"id": str(newer.pk), "name": "newer", "created_at": body["results"][0]["created_at"]}
    ]
    assert all(v for v in _rate_headers(response))


def test_a_saved_face_is_shown_without_its_identity(api_client, saved_face):
    response = api_client.get(f"/api/v1/faces/{saved_face.pk}")

    assert response.status_code == 200
    assert set(response.json()) == {"id", "name", "created_at"}
    assert response.json()["name"] == "ann"


def test_delete_erases_the_face(api_client, saved_face):
    response = api_client.delete(f"/api/v1/faces/{saved_face.pk}")

    assert response.status_code == 204
    assert all(v for v in _rate_headers(response))
    assert not SavedFace.objects.filter(pk=saved_face.pk).exists()
    assert api_error(api_client.get(f"/api/v1/faces/{saved_face.pk}"), 404)["code"] == "not_found"


def test_another_accounts_face_is_not_found(api_client, other_saved_face):
    for method in ("get", "delete"):
        response = getattr(api_client, method)(f"/api/v1/faces/{other_saved_face.pk}")
        assert api_error(response, 404)["code"] == "not_found"
    assert SavedFace.objects.filter(pk=other_saved_face.pk).exists()


def test_a_malformed_face_id_is_a_json_404(api_client):
    assert api_error(api_client.get("/api/v1/faces/nope"), 404)["code"] == "not_found"


def test_faces_need_a_key(saved_face):
    for method, path in [
        ("get", "/api/v1/faces"),
        ("get", f"/api/v1/faces/{saved_face.pk}"),
        ("delete", f"/api/v1/faces/{saved_face.pk}"),
        ("post", "/api/v1/faces"),
    ]:
        response = getattr(APIClient(), method)(path)
        assert api_error(response, 401)["code"] == "api_key_required"


# --- Saved faces: create --------------------------------------------------------------


@pytest.mark.parametrize(
    "data,field",
    [
        ({"image": "IMAGE"}, "name"),
        ({"image": "IMAGE", "name": "   "}, "name"),
        ({"image": "IMAGE", "name": "x" * 101}, "name"),
        ({"name": "me"}, "image"),
    ],
)
def test_create_refuses_missing_or_bad_fields(api_client, upload, account, data, field):
    data = {
        key: upload("grace_hopper.jpg") if value == "IMAGE" else value
        for key, value in data.items()
    }
    error = api_error(api_client.post("/api/v1/faces", data), 400)
    assert error["code"] == "invalid_parameter" and field in error["details"]["fields"]
    assert not SavedFace.objects.exists()


def test_create_refuses_what_is_not_an_image(api_client, upload):
    error = api_error(
        api_client.post("/api/v1/faces", {"name": "me", "image": upload("x.jpg", b"<html>")}), 400
    )
    assert (error["code"], error["details"]["image"]) == ("invalid_image_format", "image")


def test_create_counts_as_work_in_the_rate_window(api_client, upload):
    first = api_client.post("/api/v1/faces", {"name": "me"})  # bad input still counts
    second = api_client.post("/api/v1/faces", {"name": "me"})
    assert int(_rate_headers(first)[1]) - int(_rate_headers(second)[1]) == 1


def test_an_account_keeps_a_bounded_number_of_faces(api_client, upload, account, monkeypatch):
    from swaps import faces

    monkeypatch.setattr(faces, "MAX_SAVED_FACES", 1)
    make_saved_face(account)

    error = api_error(
        api_client.post("/api/v1/faces", {"name": "me", "image": upload("grace_hopper.jpg")}), 400
    )
    assert error["details"] == {"max_faces": 1}


def test_a_photo_with_one_face_is_saved_free_of_charge(api_client, upload, account):
    response = api_client.post(
        "/api/v1/faces", {"name": " Grace ", "image": upload("grace_hopper.jpg")}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Grace"
    assert response["Location"].endswith(f"/api/v1/faces/{body['id']}")
    face = SavedFace.objects.get(pk=body["id"])
    assert face.account == account and len(bytes(face.identity)) > 1000
    assert engine.FaceIdentity.from_bytes(bytes(face.identity)).descriptor.shape == (128,)
    assert credits_of(account) == 100
    assert all(v for v in _rate_headers(response))


def test_a_photo_without_a_face_is_refused(api_client, upload, noise_png):
    error = api_error(
        api_client.post("/api/v1/faces", {"name": "me", "image": upload("noise.png", noise_png)}),
        400,
    )
    assert (error["code"], error["details"]["image"]) == ("no_face_detected", "image")
    assert not SavedFace.objects.exists()


def test_a_photo_with_two_faces_is_refused(api_client, upload, two_faces_png):
    error = api_error(
        api_client.post("/api/v1/faces", {"name": "us", "image": upload("two.png", two_faces_png)}),
        400,
    )
    assert error["code"] == "face_count_mismatch"
    assert error["details"]["faces"] == 2
    assert not SavedFace.objects.exists()


def test_create_honours_the_idempotency_key(api_client, upload):
    data = {"name": "grace", "image": upload("grace_hopper.jpg")}
    first = api_client.post("/api/v1/faces", data, HTTP_IDEMPOTENCY_KEY="f-1")
    again = api_client.post(
        "/api/v1/faces",
        {"name": "grace", "image": upload("grace_hopper.jpg")},
        HTTP_IDEMPOTENCY_KEY="f-1",
    )
    other = api_client.post(
        "/api/v1/faces",
        {"name": "other", "image": upload("grace_hopper.jpg")},
        HTTP_IDEMPOTENCY_KEY="f-1",
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert api_error(other, 422)["code"] == "idempotency_conflict"
    assert SavedFace.objects.count() == 1


def test_create_while_the_same_key_is_running_is_a_409(api_client, upload, account):
    from accounts.idempotency import request_fingerprint

    request = _parsed_request(api_client, upload)
    IdempotencyRecord.objects.create(
        account=account, key="f-2", request_hash=request_fingerprint(request)
    )

    response = api_client.post(
        "/api/v1/faces",
        {"name": "me", "image": upload("grace_hopper.jpg")},
        HTTP_IDEMPOTENCY_KEY="f-2",
    )

    assert api_error(response, 409)["code"] == "idempotency_conflict"
    assert not SavedFace.objects.exists()


def _parsed_request(api_client: APIClient, upload: Any) -> Any:
    """The DRF request the server would parse for a POST /faces of grace_hopper.jpg."""
    from rest_framework.parsers import MultiPartParser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    raw = APIRequestFactory().post(
        "/api/v1/faces", {"name": "me", "image": upload("grace_hopper.jpg")}
    )
    return Request(raw, parsers=[MultiPartParser()])


def test_operators_see_saved_faces_without_their_identity(admin_client, saved_face):
    listing = admin_client.get("/admin/swaps/savedface/")
    page = admin_client.get(f"/admin/swaps/savedface/{saved_face.pk}/change/")
    assert listing.status_code == page.status_code == 200
    assert b"opaque identity" not in page.content
