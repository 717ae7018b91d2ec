"""Holes found by attacking the running service, closed and kept closed."""

from __future__ import annotations

import json

import pytest

from tests.helpers import api_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        json.dumps({"source_image": "x"})[:-1] + ', "likeness": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"a": ' * 40 + "1" + "}" * 40,
    ],
    ids=["deep-array", "deep-field", "nested-objects"],
)
def test_deeply_nested_json_is_a_400_not_a_500(api_client, body):
    response = api_client.post("/api/v1/swaps", body, content_type="application/json")
    error = api_error(response, 400)
    assert error["code"] == "invalid_parameter"
    assert "nested" in error["message"]


def test_ordinary_json_still_parses(api_client):
    response = api_client.post("/api/v1/swaps", {"likeness": 0.5}, format="json")
    error = api_error(response, 400)
    assert "nested" not in error["message"]  # refused for the missing images, not the JSON


@pytest.mark.parametrize(
    "field",
    [
        "likeness",
        "target_faces_index",
        "source_faces_index",
        "output_format",
        "enhance",
        "keep_hands",
        "watermark",
    ],
)
def test_an_empty_option_is_a_400_not_the_default(api_client, upload, field):
    data = {
        "source_image": upload("grace_hopper.jpg"),
        "target_image": upload("astronaut.jpg"),
        field: "",
    }
    error = api_error(api_client.post("/api/v1/swaps", data), 400)
    assert error["code"] == "invalid_parameter"
    assert field in error["details"]["fields"]


@pytest.mark.parametrize("value", [True, False, "abc"])
def test_likeness_must_be_a_number_not_a_boolean(api_client, photo, value):
    import base64

    body = {
        "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
        "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
        "likeness": value,
    }
    error = api_error(api_client.post("/api/v1/swaps", body, format="json"), 400)
    assert "likeness" in error["details"]["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "limit=1e3",
        "offset=-5",
        "offset=x",
        "limit=",
    ],
)
def test_a_page_size_out_of_bounds_is_a_400(api_client, query):
    error = api_error(api_client.get(f"/api/v1/swaps?{query}"), 400)
    assert error["code"] == "invalid_parameter"


def test_a_page_of_up_to_100_is_served(api_client):
    response = api_client.get("/api/v1/swaps?limit=100&offset=0")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_default_cache_holds_any_value_and_counters_have_their_own(settings):
    from django.core.cache import caches

    if settings.REDIS_URL:
        pytest.skip("with Redis both aliases are Redis")
    stat = {"cluster": "x", "workers": [1, 2], "status": "Idle"}
    caches["default"].set("django_q:stat", stat, 60)
    assert caches["default"].get("django_q:stat") == stat  # django-q2's cluster stats
    assert settings.RATELIMIT_USE_CACHE == "counters"
    assert type(caches["counters"]).__name__ == "AtomicDatabaseCounterCache"


def test_qinfo_reports_the_cluster(capsys):
    from django.core.management import call_command
    from django_q.status import Stat

    call_command("qinfo")
    assert "Clusters" in capsys.readouterr().out
    assert Stat.get_all() == []  # read from the shared cache, no error


@pytest.mark.parametrize("name", ["astronaut.jpg", "astronaut.png"])
def test_a_truncated_image_is_refused_before_any_charge(api_client, upload, photo, account, name):
    import cv2
    import numpy as np

    from swaps.models import SwapJob
    from tests.helpers import credits_of

    data = photo("astronaut.jpg")
    if name.endswith(".png"):
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        data = cv2.imencode(".png", decoded)[1].tobytes()
    before = credits_of(account)
    response = api_client.post(
        "/api/v1/swaps",
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload(name, data[: len(data) * 2 // 3]),
        },
    )
    error = api_error(response, 400)
    assert error["code"] == "invalid_image_format"
    assert credits_of(account) == before and not SwapJob.objects.exists()


def test_a_cut_jpeg_is_refused_even_with_a_complete_thumbnail_inside(photo):
    """An EXIF thumbnail is a whole JPEG (scan and end marker) inside a header segment:
    the check must look for the main image's end, after the main scan."""
    import cv2
    import numpy as np

    from swaps.imaging.decoding import check_complete
    from swaps.imaging.errors import ImageInputError

    data = photo("astronaut.jpg")
    small = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[::8, ::8]
    thumbnail = cv2.imencode(".jpg", small)[1].tobytes()
    payload = b"Exif\x00\x00" + thumbnail
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    with_thumbnail = data[:2] + app1 + data[2:]
    check_complete(with_thumbnail, "jpeg", "target_image", 10**8)  # whole: fine
    with pytest.raises(ImageInputError):
        check_complete(
            with_thumbnail[: len(with_thumbnail) * 2 // 3], "jpeg", "target_image", 10**8
        )


def test_a_foreign_host_header_gets_the_json_envelope(api_client):
    response = api_client.get("/api/v1/account", HTTP_HOST="evil.example")
    error = api_error(response, 400)
    assert error["code"] == "invalid_parameter"
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("length", ["abc", "-5", "1e9"])
def test_a_malformed_content_length_gets_the_json_envelope(api_client, length):
    response = api_client.post(
        "/api/v1/swaps", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert response.status_code in (400, 401, 413)
    assert response["Content-Type"].startswith("application/json")
    api_error(response)


def _jpeg(image, quality: int = 90) -> bytes:
    import cv2

    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def test_detect_reads_a_big_jpeg_at_a_reduced_scale_with_full_size_answers(
    api_client, upload, astronaut, monkeypatch
):
    import cv2

    from swaps import engine, faces

    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    monkeypatch.setattr(faces, "DETECT_PIXELS", 300_000)  # 2.4 MP: decoded at half size
    reply = api_client.post("/api/v1/detect", {"image": upload("big.jpg", _jpeg(big))})
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert (body["width"], body["height"]) == (1536, 1536)
    full = engine.detect_faces(big)[0].box
    x, y, w, h = body["faces"][0]["box"]
    assert abs(x - full[0]) <= 6 and abs(y - full[1]) <= 6 and abs(w - full[2]) <= 10


def test_too_many_big_decodes_at_once_is_a_503_with_retry_after(
    api_client, upload, photo, settings, monkeypatch
):
    import threading

    from swaps import decode_gate

    settings.BIG_DECODE_PIXELS = 10_000  # every fixture counts as big here
    settings.BIG_DECODE_WAIT_S = 0.05
    busy = threading.BoundedSemaphore(1)
    monkeypatch.setattr(decode_gate, "_slots", busy)
    busy.acquire()  # another request is decoding a big image
    try:
        reply = api_client.post("/api/v1/detect", {"image": upload("grace_hopper.jpg")})
        error = api_error(reply, 503)
        assert error["code"] == "server_busy"
        assert reply["Retry-After"] == str(decode_gate.RETRY_AFTER_S)
    finally:
        busy.release()
    reply = api_client.post("/api/v1/detect", {"image": upload("grace_hopper.jpg")})
    assert reply.status_code == 200  # the slot is free again
