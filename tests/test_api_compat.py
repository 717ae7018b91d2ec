"""The compatible routes (/api/faceswap/..., /api/task-status, /api/v1/face-swap/jobs):
the same jobs, keys, limits, credits, idempotency and errors as the native API."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts import quotas
from swaps.models import InputRole, SwapJob
from tests.helpers import api_error, credits_of

pytestmark = pytest.mark.django_db


CREATE_ROUTES = [
    "/api/faceswap/basicswap",
    "/api/faceswap/faceswap2",
    "/api/faceswap/swap1from2",
    "/api/faceswap/swapfacesameimage",
    "/api/v1/face-swap/jobs",
]


def _basic(upload: Any, **extra: Any) -> dict[str, Any]:
    return {"srcimage": upload("grace_hopper.jpg"), "targetimage": upload("astronaut.jpg"), **extra}


def _bytes_at(client: Any, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _valid_body(route: str, upload: Any, two_faces_png: bytes) -> dict[str, Any]:
    return {
        "/api/faceswap/basicswap": lambda: _basic(upload),
        "/api/faceswap/faceswap2": lambda: _basic(upload, swap_index="0"),
        "/api/faceswap/swap1from2": lambda: {
            "srcimage": upload("two.png", two_faces_png),
            "targetimage1": upload("astronaut.jpg"),
            "targetimage2": upload("grace_hopper.jpg"),
        },
        "/api/faceswap/swapfacesameimage": lambda: {"srcimage": upload("two.png", two_faces_png)},
        "/api/v1/face-swap/jobs": lambda: {
            "base_image_url": upload("astronaut.jpg"),
            "selfie_url": upload("grace_hopper.jpg"),
        },
    }[route]()


# --- basicswap, faceswap2 and task-status ---------------------------------------------


def test_basicswap_makes_a_job_whose_status_gives_the_image(
    post_work, upload, api_client, client, account
):
    response = post_work("/api/faceswap/basicswap", _basic(upload))

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["task_ids"] == [body["task_id"]] and body["cost"] == 1
    assert response["Location"].endswith(f"/api/task-status/{body['task_id']}")
    assert credits_of(account) == 99

    task = api_client.get(f"/api/task-status/{body['task_id']}")
    assert task.status_code == 200
    status = task.json()
    assert (status["status"], status["error"]) == ("completed", None)
    data = _bytes_at(client, status["image_url"])  # signed: no key needed
    assert Image.open(io.BytesIO(data)).size == (512, 512)
    assert task["X-RateLimit-Limit"]


def test_a_pending_task_has_no_image_yet(api_client, upload):
    task_id = api_client.post("/api/faceswap/basicswap", _basic(upload)).json()["task_id"]
    status = api_client.get(f"/api/task-status/{task_id}").json()
    assert status == {"task_id": task_id, "status": "pending", "image_url": None, "error": None}


def test_basicswap_passes_enhance(api_client, upload):
    task_id = api_client.post("/api/faceswap/basicswap", _basic(upload, enhance="true")).json()[
        "task_id"
    ]
    assert SwapJob.objects.get(pk=task_id).options["enhance"] is True


def test_faceswap2_swaps_into_the_face_at_swap_index(post_work, upload, api_client, account):
    response = post_work("/api/faceswap/faceswap2", _basic(upload, swap_index="3"))

    assert SwapJob.objects.get(pk=response.json()["task_id"]).options["target_faces"] == [3]
    status = api_client.get(f"/api/task-status/{response.json()['task_id']}").json()
    assert (status["status"], status["image_url"]) == ("failed", None)
    assert status["error"]["code"] == "face_index_out_of_range"  # astronaut has one face
    assert credits_of(account) == 100  # refunded


def test_a_bad_swap_index_is_refused(api_client, upload, account):
    error = api_error(
        api_client.post("/api/faceswap/faceswap2", _basic(upload, swap_index="-1")), 400
    )
    assert "swap_index" in error["details"]["fields"]
    assert not SwapJob.objects.exists() and credits_of(account) == 100


# --- swap1from2: two jobs, two credits ------------------------------------------------


def test_swap1from2_makes_two_jobs_for_two_credits(
    post_work, upload, api_client, account, two_faces_png
):
    response = post_work(
        "/api/faceswap/swap1from2",
        {
            "srcimage": upload("two.png", two_faces_png),
            "targetimage1": upload("astronaut.jpg"),
            "targetimage2": upload("grace_hopper.jpg"),
        },
    )

    assert response.status_code == 202, response.content
    body = response.json()
    first, second = body["task_ids"]
    assert body["task_id"] == first != second and body["cost"] == 2
    assert credits_of(account) == 98
    jobs = [api_client.get(f"/api/v1/swaps/{job_id}").json() for job_id in (first, second)]
    assert [job["status"] for job in jobs] == ["completed", "completed"], jobs
    assert [job["faces"]["swapped"] for job in jobs] == [[[0, 0]], [[1, 0]]]
    assert [job["faces"]["source"] for job in jobs] == [2, 2]


def test_swap1from2_is_all_or_nothing_when_credits_run_short(
    api_client, upload, account, two_faces_png, media_files
):
    quotas.adjust_credits(account=account, amount=-99, reason="test")  # 1 left

    response = api_client.post(
        "/api/faceswap/swap1from2",
        {
            "srcimage": upload("two.png", two_faces_png),
            "targetimage1": upload("astronaut.jpg"),
            "targetimage2": upload("grace_hopper.jpg"),
        },
    )

    error = api_error(response, 402)
    assert error["code"] == "insufficient_credits"
    assert error["details"] == {"required": 2, "balance": 1}  # the request, not its 2nd job
    assert not SwapJob.objects.exists() and credits_of(account) == 1
    assert media_files() == []


def test_swap1from2_names_the_bad_image(api_client, upload, two_faces_png, account):
    response = api_client.post(
        "/api/faceswap/swap1from2",
        {
            "srcimage": upload("two.png", two_faces_png),
            "targetimage1": upload("astronaut.jpg"),
            "targetimage2": upload("x.jpg", b"nope"),
        },
    )
    error = api_error(response, 400)
    assert (error["code"], error["details"]["image"]) == ("invalid_image_format", "targetimage2")
    assert credits_of(account) == 100


def test_swap1from2_replays_both_jobs_for_the_same_key(api_client, upload, account, two_faces_png):
    def send() -> Any:
        return api_client.post(
            "/api/faceswap/swap1from2",
            {
                "srcimage": upload("two.png", two_faces_png),
                "targetimage1": upload("astronaut.jpg"),
                "targetimage2": upload("grace_hopper.jpg"),
            },
            HTTP_IDEMPOTENCY_KEY="pair",
        )

    first, again = send(), send()

    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert SwapJob.objects.count() == 2 and credits_of(account) == 98


# --- swapfacesameimage ----------------------------------------------------------------


def test_swapfacesameimage_makes_a_job_with_the_photo_as_target_only(
    api_client, upload, two_faces_png
):
    response = api_client.post(
        "/api/faceswap/swapfacesameimage", {"srcimage": upload("two.png", two_faces_png)}
    )

    assert response.status_code == 202, response.content
    job = SwapJob.objects.get(pk=response.json()["task_id"])
    assert list(job.inputs.values_list("role", flat=True)) == [InputRole.TARGET]
    assert (job.options["source_faces"], job.options["target_faces"]) == (None, None)


def test_swapfacesameimage_swaps_the_two_largest_faces(
    post_work, upload, api_client, two_faces_png
):
    task_id = post_work(
        "/api/faceswap/swapfacesameimage", {"srcimage": upload("two.png", two_faces_png)}
    ).json()["task_id"]

    job = api_client.get(f"/api/v1/swaps/{task_id}").json()
    assert job["status"] == "completed", job["error"]
    assert job["faces"]["swapped"] == [[0, 1], [1, 0]]


# --- /api/v1/face-swap/jobs -----------------------------------------------------------


def test_face_swap_jobs_take_urls_or_base64_and_report_the_result(
    post_work, photo, api_client, client
):
    response = post_work(
        "/api/v1/face-swap/jobs",
        {
            "base_image_url": base64.b64encode(photo("astronaut.jpg")).decode(),
            "selfie_url": base64.b64encode(photo("grace_hopper.jpg")).decode(),
        },
        fmt="json",
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"reference_id", "status", "message"}
    assert body["status"] == "pending"

    job = api_client.get(f"/api/v1/face-swap/jobs/{body['reference_id']}")
    assert job.status_code == 200 and job["X-RateLimit-Limit"]
    status = job.json()
    assert status["status"] == "completed" and status["processing_ms"] > 0
    assert _bytes_at(client, status["result_image_url"])[:2] == b"\xff\xd8"


def test_face_swap_jobs_refuse_a_missing_image(api_client, photo, account):
    response = api_client.post(
        "/api/v1/face-swap/jobs",
        {"base_image_url": base64.b64encode(photo("astronaut.jpg")).decode()},
        format="json",
    )
    assert "selfie_url" in api_error(response, 400)["details"]["fields"]
    assert credits_of(account) == 100


def test_face_swap_job_urls_must_be_public(api_client, upload, no_network_listener):
    response = api_client.post(
        "/api/v1/face-swap/jobs",
        {
            "base_image_url": f"http://127.0.0.1:{no_network_listener.port}/a.jpg",
            "selfie_url": upload("grace_hopper.jpg"),
        },
    )
    error = api_error(response, 400)
    assert (error["code"], error["details"]["image"]) == ("url_not_allowed", "base_image_url")
    assert no_network_listener.accepted == []


# --- Shared rules over every route ----------------------------------------------------


@pytest.mark.parametrize("route", CREATE_ROUTES)
def test_every_create_route_needs_a_key(route, upload, two_faces_png):
    response = APIClient().post(route, _valid_body(route, upload, two_faces_png))
    assert api_error(response, 401)["code"] == "api_key_required"
    assert not SwapJob.objects.exists()


@pytest.mark.parametrize("route", CREATE_ROUTES)
def test_every_create_route_counts_charges_and_answers_202(
    route, api_client, upload, two_faces_png, account
):
    response = api_client.post(route, _valid_body(route, upload, two_faces_png))

    assert response.status_code == 202, response.content
    assert response["X-RateLimit-Limit"] == "50" and response["X-RateLimit-Remaining"] == "49"
    assert credits_of(account) == 100 - SwapJob.objects.count()


@pytest.mark.parametrize("route", CREATE_ROUTES)
def test_bad_input_on_any_route_costs_nothing(route, api_client, account):
    response = api_client.post(route, {"srcimage": "file:///etc/passwd"})
    assert response.status_code == 400 and response["X-RateLimit-Remaining"] == "49"
    assert not SwapJob.objects.exists() and credits_of(account) == 100


@pytest.mark.parametrize("route", CREATE_ROUTES)
def test_every_create_route_replays_an_idempotent_request(
    route, api_client, upload, two_faces_png, account
):
    first = api_client.post(
        route, _valid_body(route, upload, two_faces_png), HTTP_IDEMPOTENCY_KEY="c-1"
    )
    again = api_client.post(
        route, _valid_body(route, upload, two_faces_png), HTTP_IDEMPOTENCY_KEY="c-1"
    )

    assert again.status_code == 202 and again.json() == first.json()
    assert again["Location"] == first["Location"]
    jobs = SwapJob.objects.count()
    assert credits_of(account) == 100 - jobs


def test_the_same_key_on_another_body_is_a_422(api_client, upload):
    api_client.post("/api/faceswap/basicswap", _basic(upload), HTTP_IDEMPOTENCY_KEY="c-2")
    response = api_client.post(
        "/api/faceswap/basicswap", _basic(upload, enhance="true"), HTTP_IDEMPOTENCY_KEY="c-2"
    )
    assert api_error(response, 422)["code"] == "idempotency_conflict"
    assert SwapJob.objects.count() == 1


def test_a_key_used_on_another_route_is_a_422(api_client, upload):
    api_client.post("/api/faceswap/basicswap", _basic(upload), HTTP_IDEMPOTENCY_KEY="c-3")
    response = api_client.post(
        "/api/faceswap/faceswap2", _basic(upload), HTTP_IDEMPOTENCY_KEY="c-3"
    )
    assert api_error(response, 422)["code"] == "idempotency_conflict"


def test_another_accounts_tasks_are_not_found(api_client, other_api_client, upload):
    task_id = api_client.post("/api/faceswap/basicswap", _basic(upload)).json()["task_id"]
    reference_id = api_client.post(
        "/api/v1/face-swap/jobs",
        {"base_image_url": upload("astronaut.jpg"), "selfie_url": upload("grace_hopper.jpg")},
    ).json()["reference_id"]

    for path in (f"/api/task-status/{task_id}", f"/api/v1/face-swap/jobs/{reference_id}"):
        assert api_error(other_api_client.get(path), 404)["code"] == "not_found"
        assert api_client.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/task-status/not-a-uuid",
        "/api/task-status/6f1c0000-0000-4000-8000-000000000000",
        "/api/v1/face-swap/jobs/6f1c0000-0000-4000-8000-000000000000",
    ],
)
def test_unknown_tasks_are_json_404s(api_client, path):
    assert api_error(api_client.get(path), 404)["code"] == "not_found"


def test_status_routes_need_a_key():
    for path in (
        "/api/task-status/6f1c0000-0000-4000-8000-000000000000",
        "/api/v1/face-swap/jobs/6f1c0000-0000-4000-8000-000000000000",
    ):
        assert api_error(APIClient().get(path), 401)["code"] == "api_key_required"


def test_a_rate_limited_compat_request_creates_nothing(api_client, upload, account):
    from accounts.models import Plan

    account.plan = Plan.objects.create(
        slug="one", name="One", hourly_limit=1, daily_limit=10, monthly_credits=0
    )
    account.save()
    api_client.post("/api/faceswap/basicswap", {})

    response = api_client.post("/api/faceswap/basicswap", _basic(upload))

    assert api_error(response, 429)["code"] == "rate_limit_exceeded"
    assert not SwapJob.objects.exists() and credits_of(account) == 100


def test_the_schema_describes_every_new_route_with_auth_and_errors(client):
    schema = client.get("/api/schema/?format=json").json()
    routes = {
        "/api/faceswap/basicswap": "post",
        "/api/faceswap/faceswap2": "post",
        "/api/faceswap/swap1from2": "post",
        "/api/faceswap/swapfacesameimage": "post",
        "/api/task-status/{task_id}": "get",
        "/api/v1/face-swap/jobs": "post",
        "/api/v1/face-swap/jobs/{reference_id}": "get",
        "/api/v1/detect": "post",
        "/api/v1/faces": "post",
        "/api/v1/faces/{id}": "delete",
    }
    for path, method in routes.items():
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"ApiKeyHeader": []}, {"BearerKey": []}], path
        envelope = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert envelope == {"$ref": "#/components/schemas/ErrorEnvelope"}, path
    create = schema["paths"]["/api/v1/swaps"]["post"]["requestBody"]["content"]
    fields = set(schema["components"]["schemas"]["SwapCreateRequest"]["properties"])
    assert {"source_face_id", "reference_image", "enhance"} <= fields
    assert "multipart/form-data" in create
