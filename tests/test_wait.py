"""Prefer: wait=N on POST /api/v1/swaps (RFC 7240): the final job when it ends within N
seconds, else the usual 202.

Through Django's test client there is no server slot, so the view waits in its own
thread (the WSGI fallback); the thread-free wait of `manage.py serve` is tested live in
tests/test_wait_live.py.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from swaps.models import JobStatus, SwapJob
from swaps.waiting import MAX_WAIT_S, preferred_wait


def _pair(upload):
    return {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}


# Jobs run when the request's transaction commits (the synchronous worker), so a fast job
# has ended before the view looks.
committed = pytest.mark.django_db(transaction=True)


@committed
def test_a_job_that_ends_in_time_is_answered_200_with_the_final_job(api_client, upload):
    response = api_client.post("/api/v1/swaps", _pair(upload), HTTP_PREFER="wait=10")

    assert response.status_code == 200, response.content
    assert response["Preference-Applied"] == "wait=10"
    body = response.json()
    assert body["status"] == "completed" and body["result_url"]
    assert body["processing_ms"] is not None
    assert response["Location"].endswith(f"/api/v1/swaps/{body['id']}")
    assert response["X-RateLimit-Remaining"]


@committed
def test_a_failed_job_is_a_final_answer_too(api_client, upload, noise_png):
    data = {"source_image": upload("noise.png", noise_png), "target_image": upload("astronaut.jpg")}
    response = api_client.post("/api/v1/swaps", data, HTTP_PREFER="wait=5")

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"]["code"] == "no_face_detected"


@committed
def test_a_wait_over_the_cap_is_honoured_up_to_60_seconds(api_client, upload):
    response = api_client.post("/api/v1/swaps", _pair(upload), HTTP_PREFER="wait=3600")

    assert response.status_code == 200
    assert response["Preference-Applied"] == f"wait={MAX_WAIT_S}"


@pytest.mark.django_db
def test_a_job_still_running_after_n_seconds_is_the_usual_202(api_client, upload):
    # No worker runs here (the transaction never commits): the job stays pending.
    response = api_client.post("/api/v1/swaps", _pair(upload), HTTP_PREFER="wait=1")

    assert response.status_code == 202
    assert "Preference-Applied" not in response
    assert response.json()["status"] == "pending"
    assert SwapJob.objects.get(pk=response.json()["id"]).status == JobStatus.PENDING


@pytest.mark.django_db
def test_without_prefer_nothing_waits(api_client, upload):
    response = api_client.post("/api/v1/swaps", _pair(upload))

    assert response.status_code == 202
    assert "Preference-Applied" not in response


@pytest.mark.django_db
def test_errors_are_answered_at_once_whatever_the_wait(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps", {"target_image": "not an image"}, HTTP_PREFER="wait=60"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image_format"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=5", 5),
        ("WAIT=7", 7),
        ('wait="9"', 9),
        ("respond-async, wait=12", 12),
        ("handling=lenient; foo=bar, wait=3", 3),
        ("wait=0", 0),
        ("wait=61", MAX_WAIT_S),
        ("wait=-1", None),
        ("wait=abc", None),
        ("wait", None),
        ("return=minimal", None),
        ("", None),
    ],
)
def test_prefer_is_read_as_rfc_7240_says(header, seconds):
    request = RequestFactory().post("/api/v1/swaps", HTTP_PREFER=header)
    assert preferred_wait(request) == seconds


# --- The compatible create routes -----------------------------------------------------


@committed
def test_basicswap_with_prefer_answers_the_task_status(api_client, upload):
    data = {"srcimage": upload("grace_hopper.jpg"), "targetimage": upload("astronaut.jpg")}
    response = api_client.post("/api/faceswap/basicswap", data, HTTP_PREFER="wait=10")

    assert response.status_code == 200
    assert response["Preference-Applied"] == "wait=10"
    body = response.json()
    assert body["status"] == "completed" and body["image_url"]
    assert [task["task_id"] for task in body["tasks"]] == [body["task_id"]]


@committed
def test_swap1from2_with_prefer_waits_for_both_jobs(api_client, upload, two_faces_png):
    data = {
        "srcimage": upload("two.png", two_faces_png),
        "targetimage1": upload("astronaut.jpg"),
        "targetimage2": upload("grace_hopper.jpg"),
    }
    response = api_client.post("/api/faceswap/swap1from2", data, HTTP_PREFER="wait=10")

    assert response.status_code == 200
    assert [task["status"] for task in response.json()["tasks"]] == ["completed"] * 2


@committed
def test_face_swap_jobs_with_prefer_answers_the_job_status(api_client, upload):
    data = {"base_image_url": upload("astronaut.jpg"), "selfie_url": upload("grace_hopper.jpg")}
    response = api_client.post("/api/v1/face-swap/jobs", data, HTTP_PREFER="wait=10")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed" and body["result_image_url"]
    assert body["processing_ms"] is not None


@pytest.mark.django_db
def test_a_compatible_create_still_running_is_its_usual_202(api_client, upload):
    data = {"srcimage": upload("grace_hopper.jpg"), "targetimage": upload("astronaut.jpg")}
    response = api_client.post("/api/faceswap/basicswap", data, HTTP_PREFER="wait=1")

    assert response.status_code == 202
    assert response.json()["status"] == "pending" and "tasks" not in response.json()
