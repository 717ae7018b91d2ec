"""The swap API end to end, over HTTP, with the worker running synchronously."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from swaps.imaging.provenance import read_note
from swaps.models import JobStatus, SwapJob
from tests.helpers import api_error

pytestmark = pytest.mark.django_db


def _noise_png(width: int = 320, height: int = 240) -> bytes:
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def test_it_swaps_uploaded_photos_end_to_end(submit, upload, api_client, client, media_files):
    response = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "client_reference": "order-7",
        }
    )

    assert response.status_code == 202
    created = response.json()
    assert created["status"] == "pending"
    assert created["client_reference"] == "order-7"
    assert response["Location"].endswith(f"/api/v1/swaps/{created['id']}")

    job = api_client.get(f"/api/v1/swaps/{created['id']}").json()
    assert job["status"] == "completed", job["error"]
    assert job["faces"] == {"source": 1, "target": 1, "swapped": [[0, 0]]}
    assert job["processing_ms"] > 0
    assert job["cost"] == 1
    assert job["error"] is None
    assert job["client_reference"] == "order-7"

    download = client.get(job["result_url"])  # no API key: the signed URL is enough
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    data = b"".join(download.streaming_content)
    assert Image.open(io.BytesIO(data)).size == (512, 512)
    assert "altered" in (read_note(data) or "").lower()
    # Inputs are erased once the job is final: only the result remains.
    assert [p.parent.name for p in media_files()] == ["results"]


def test_it_accepts_base64_and_data_uris_in_json(submit, photo, api_client):
    source = "data:image/jpeg;base64," + base64.b64encode(photo("grace_hopper.jpg")).decode()
    target = base64.b64encode(photo("astronaut.jpg")).decode()

    response = submit(
        {
            "source_image": source,
            "target_image": target,
            "output_format": "png",
            "return_base64": True,
        },
        fmt="json",
    )

    assert response.status_code == 202
    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed"
    assert base64.b64decode(job["result_base64"]).startswith(b"\x89PNG")


def test_it_accepts_base64_strings_in_multipart(submit, photo, api_client):
    data = {
        "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
        "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
    }

    response = submit(data)

    assert response.status_code == 202
    assert api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()["status"] == "completed"


def test_the_result_route_returns_image_bytes_with_a_key(submit, upload, api_client):
    job_id = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "output_format": "webp",
        }
    ).json()["id"]

    response = api_client.get(f"/api/v1/swaps/{job_id}/result")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content)[8:12] == b"WEBP"


def test_a_faceless_source_fails_the_job_saying_which_image(submit, upload, api_client):
    response = submit(
        {"source_image": upload("noise.png", _noise_png()), "target_image": upload("astronaut.jpg")}
    )

    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "no_face_detected"
    assert job["error"]["details"]["image"] == "source"
    assert job["result_url"] is None


def test_a_face_index_out_of_range_fails_the_job(submit, upload, api_client):
    response = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "target_faces_index": "3",
        }
    )

    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["error"]["code"] == "face_index_out_of_range"
    assert job["error"]["details"]["image"] == "target"


def test_it_lists_only_the_callers_jobs_newest_first(submit, upload, api_client, other_api_client):
    ids = [
        submit(
            {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
        ).json()["id"]
        for _ in range(2)
    ]
    submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
        client=other_api_client,
    )

    body = api_client.get("/api/v1/swaps?limit=1").json()

    assert body["count"] == 2
    assert [job["id"] for job in body["results"]] == [ids[1]]
    assert body["next"]


def test_another_accounts_job_is_not_found(submit, upload, other_api_client):
    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]

    for method, path in [("get", ""), ("get", "/result"), ("delete", "")]:
        response = getattr(other_api_client, method)(f"/api/v1/swaps/{job_id}{path}")
        assert response.status_code == 404
        assert api_error(response)["code"] == "not_found"
    assert SwapJob.objects.visible().filter(pk=job_id).exists()


def test_delete_erases_images_and_result(submit, upload, api_client, client, media_files):
    job = api_client.get(
        "/api/v1/swaps/"
        + submit(
            {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
        ).json()["id"]
    ).json()
    assert media_files()

    response = api_client.delete(f"/api/v1/swaps/{job['id']}")

    assert response.status_code == 204
    assert media_files() == []
    assert api_client.get(f"/api/v1/swaps/{job['id']}").status_code == 404
    assert client.get(job["result_url"]).status_code == 404


def test_a_task_that_runs_twice_does_the_work_once(submit, upload, api_client):
    from swaps.tasks import process_swap_job

    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]
    first = SwapJob.objects.get(pk=job_id)

    process_swap_job(job_id)  # a duplicate delivery

    again = SwapJob.objects.get(pk=job_id)
    assert (again.status, again.result.name, again.completed_at) == (
        first.status,
        first.result.name,
        first.completed_at,
    )


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_output_format_is_honoured(submit, upload, api_client, output_format):
    job_id = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "output_format": output_format,
        }
    ).json()["id"]
    data = b"".join(api_client.get(f"/api/v1/swaps/{job_id}/result").streaming_content)
    assert Image.open(io.BytesIO(data)).format.lower() == output_format
    assert Image.open(io.BytesIO(data)).getexif() == {}


def test_a_pending_job_has_no_result_yet(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
    )
    job_id = response.json()["id"]  # on_commit never fires inside the test transaction

    assert api_client.get(f"/api/v1/swaps/{job_id}").json()["status"] == JobStatus.PENDING
    result = api_client.get(f"/api/v1/swaps/{job_id}/result")
    assert result.status_code == 404
    assert api_error(result)["details"]["status"] == "pending"


def test_reading_a_job_and_the_list_do_not_load_its_inputs(api_client, pending_job):
    # The job object does not show its input rows: loading them cost every read a query.
    for path in (f"/api/v1/swaps/{pending_job.pk}", "/api/v1/swaps"):
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(path).status_code == 200
        assert not [q for q in queries.captured_queries if "swaps_swapinput" in q["sql"]]


def _result_pixels(api_client: Any, job_id: str) -> np.ndarray:
    data = b"".join(api_client.get(f"/api/v1/swaps/{job_id}/result").streaming_content)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_free_plan_outputs_carry_a_visible_mark_unless_turned_off(submit, upload, api_client):
    marked, plain = (
        submit(
            {
                "source_image": upload("grace_hopper.jpg"),
                "target_image": upload("astronaut.jpg"),
                "output_format": "png",
                **extra,
            }
        ).json()["id"]
        for extra in ({}, {"watermark": "false"})
    )

    changed = np.argwhere(
        np.abs(_result_pixels(api_client, marked) - _result_pixels(api_client, plain)).max(axis=2)
        > 0
    )
    assert len(changed) > 200  # the mark is there ...
    assert changed.min(axis=0).tolist() >= [400, 300]  # ... small, in the bottom-right corner


def test_paid_plans_are_unmarked_by_default(submit, upload, account):
    from accounts.models import Plan

    account.plan = Plan.objects.get(slug="pro")
    account.save()
    job_id = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    ).json()["id"]
    assert SwapJob.objects.get(pk=job_id).options["watermark"] is False
