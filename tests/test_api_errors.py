"""Every error of the front door: one JSON envelope, stable codes, no job, no 500."""

from __future__ import annotations

import io
import zlib
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ApiKey
from swaps.models import SwapJob
from tests.helpers import api_error

pytestmark = pytest.mark.django_db


def _bomb_png(side: int = 30_000) -> bytes:
    """A tiny PNG that declares a side x side image (900 MP): refused before decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (side + 1) * 16)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _swap(client: APIClient, upload: Any, **overrides: Any) -> Any:
    data = {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    data.update(overrides)
    return client.post("/api/v1/swaps", data)


# --- Authentication -------------------------------------------------------------------


def test_it_requires_an_api_key(upload):
    error = api_error(_swap(APIClient(), upload), 401)
    assert error["code"] == "api_key_required"


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_X_API_KEY": "nope.nope"},
        {"HTTP_AUTHORIZATION": "Bearer abc.def"},
        {"HTTP_X_API_KEY": "no-dot-at-all"},
    ],
)
def test_it_rejects_a_wrong_key(header):
    response = APIClient().get("/api/v1/swaps", **header)
    assert api_error(response, 401)["code"] == "invalid_api_key"


def test_bearer_and_x_api_key_are_the_same_key(api_key):
    assert APIClient().get("/api/v1/swaps", HTTP_X_API_KEY=api_key).status_code == 200
    assert (
        APIClient().get("/api/v1/swaps", HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 200
    )


def test_a_revoked_key_fails_on_the_very_next_request(api_client, account):
    assert api_client.get("/api/v1/swaps").status_code == 200
    ApiKey.objects.get(account=account).revoke()
    assert api_error(api_client.get("/api/v1/swaps"), 401)["code"] == "invalid_api_key"


def test_no_raw_key_is_stored(api_key, django_db_blocker):
    from django.db import connection

    prefix, _, secret = api_key.partition(".")
    with connection.cursor() as cursor:
        cursor.execute("SELECT prefix, hashed_secret, name FROM accounts_apikey")
        rows = cursor.fetchall()
    assert rows and all(secret not in "".join(map(str, row)) for row in rows)


# --- Parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"target_faces_index": "0,x"}, "target_faces_index"),
        ({"source_faces_index": "-1"}, "source_faces_index"),
        ({"output_format": "bmp"}, "output_format"),
        ({"enhance": "maybe"}, "enhance"),
        ({"client_reference": "x" * 1025}, "client_reference"),
    ],
)
def test_it_rejects_bad_parameters(api_client, upload, overrides, field):
    error = api_error(_swap(api_client, upload, **overrides), 400)
    assert error["code"] == "invalid_parameter"
    assert field in error["details"]["fields"]
    assert not SwapJob.objects.exists()


def test_it_requires_both_images(api_client, upload):
    error = api_error(
        api_client.post("/api/v1/swaps", {"source_image": upload("astronaut.jpg")}), 400
    )
    assert "target_image" in error["details"]["fields"]


def test_malformed_json_is_a_400(api_client):
    response = api_client.post("/api/v1/swaps", "{nope", content_type="application/json")
    assert api_error(response, 400)["code"] == "invalid_parameter"


# --- Images ---------------------------------------------------------------------------


def test_it_refuses_a_file_that_is_not_an_image(api_client, upload):
    response = _swap(api_client, upload, target_image=upload("x.jpg", b"<html>hello</html>"))
    error = api_error(response, 400)
    assert error["code"] == "invalid_image_format"
    assert error["details"]["image"] == "target_image"
    assert not SwapJob.objects.exists()


def test_it_refuses_a_decompression_bomb_before_decoding(api_client, upload):
    error = api_error(_swap(api_client, upload, source_image=upload("bomb.png", _bomb_png())), 413)
    assert error["code"] == "image_too_large"
    assert error["details"]["image"] == "source_image"


def test_a_fuzzed_png_is_an_invalid_image_never_a_500(api_client, upload, photo):
    image = Image.open(io.BytesIO(photo("astronaut.jpg")))
    clean = io.BytesIO()
    image.save(clean, "PNG")
    data = bytearray(clean.getvalue())
    for offset in range(40, len(data), 997):
        data[offset] ^= 0x5A
    response = _swap(api_client, upload, target_image=upload("fuzz.png", bytes(data)))
    # Header intact, body corrupt: refused now or failed by the worker, never a 5xx.
    assert response.status_code in (202, 400)
    if response.status_code == 400:
        assert api_error(response, 400)["code"] == "invalid_image_format"


def test_an_image_over_the_cap_is_a_413(api_client, upload, settings):
    settings.MAX_IMAGE_BYTES = 20_000
    error = api_error(_swap(api_client, upload), 413)
    assert error["code"] == "image_too_large"


def test_a_request_over_the_cap_is_a_413_before_reading_it(api_client, upload, settings):
    settings.MAX_REQUEST_BYTES = 50_000
    error = api_error(_swap(api_client, upload), 413)
    assert error["code"] == "request_too_large"


def test_a_base64_image_over_the_cap_is_a_413(api_client, settings, photo):
    import base64

    settings.MAX_IMAGE_BYTES = 20_000
    data = {
        "source_image": base64.b64encode(photo("astronaut.jpg")).decode(),
        "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
    }
    response = api_client.post("/api/v1/swaps", data, format="json")
    assert api_error(response, 413)["code"] == "image_too_large"


# --- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/a.jpg",
        "http://localhost:{port}/a.jpg",
        "http://[::1]:{port}/a.jpg",
        "http://127.0.0.1/a.jpg",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/a.jpg",
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "http://[::ffff:127.0.0.1]/a.jpg",
        "http://2130706433/a.jpg",
    ],
)
def test_url_inputs_cannot_reach_the_server_side(api_client, upload, no_network_listener, url):
    url = url.format(port=no_network_listener.port)
    response = api_client.post(
        "/api/v1/swaps", {"source_image": url, "target_image": upload("astronaut.jpg")}
    )
    assert api_error(response, 400)["code"] == "url_not_allowed"
    assert no_network_listener.accepted == []
    assert not SwapJob.objects.exists()


# --- JSON everywhere on /api/ ---------------------------------------------------------


def test_unknown_api_routes_are_json_404(api_client):
    assert api_error(api_client.get("/api/v1/nothing-here"), 404)["code"] == "not_found"
    assert api_error(api_client.get("/api/v1/swaps/not-a-uuid"), 404)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(api_client):
    error = api_error(api_client.put("/api/v1/swaps", {}), 405)
    assert error["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_json_500(api_client, upload, monkeypatch):
    from swaps import services

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "create_swap_job", explode)
    api_client.raise_request_exception = False
    error = api_error(_swap(api_client, upload), 500)
    assert error == {"code": "server_error", "message": "Internal server error.", "details": {}}


def test_every_response_has_a_request_id(api_client):
    response = api_client.get("/api/v1/swaps", HTTP_X_REQUEST_ID="client-req-0001")
    assert response["X-Request-Id"] == "client-req-0001"


def test_a_url_error_says_which_image(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {"source_image": upload("grace_hopper.jpg"), "target_image": "gopher://example.com/x"},
    )
    error = api_error(response, 400)
    assert (error["code"], error["details"]["image"]) == ("url_not_allowed", "target_image")
