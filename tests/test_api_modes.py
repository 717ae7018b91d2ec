"""POST /api/v1/swaps with the multi-face fields: validation, what a job stores, and (with
the engine's swap_faces) every mode end to end."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import cv2
import numpy as np
import pytest

from swaps import engine
from swaps.models import InputRole, JobStatus, SwapInput, SwapJob
from swaps.runner import engine_options
from tests.helpers import api_error, credits_of, make_saved_face

pytestmark = pytest.mark.django_db


def _inputs(job_id: str) -> list[tuple[str, int]]:
    return list(SwapInput.objects.filter(job_id=job_id).values_list("role", "position"))


def _job(api_client: Any, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content[:400]
    return api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()


# --- Accepted and stored (the job is created, not run) --------------------------------


def test_several_source_parts_are_stored_in_order_with_their_index_lists(
    api_client, upload, account
):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": [upload("grace_hopper.jpg"), upload("astronaut.jpg")],
            "source_faces_index": "0,1",
            "target_faces_index": "1,0",
        },
    )

    assert response.status_code == 202, response.content
    job = SwapJob.objects.get(pk=response.json()["id"])
    assert _inputs(job.pk) == [("source", 0), ("source", 1), ("target", 0)]
    sizes = [row.size_bytes for row in job.inputs.filter(role=InputRole.SOURCE)]
    assert sizes == [len(upload("grace_hopper.jpg").read()), len(upload("astronaut.jpg").read())]
    assert job.options["source_faces"] == [0, 1] and job.options["target_faces"] == [1, 0]
    assert job.cost == 1 and credits_of(account) == 99


def test_a_json_array_of_sources_and_index_arrays_are_accepted(api_client, photo):
    images = [
        base64.b64encode(photo(name)).decode()
        for name in ("grace_hopper.jpg", "astronaut.jpg", "grace_hopper.jpg")
    ]
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": images[1],
            "source_image": images,
            "source_faces_index": [0, 1, 2],
            "target_faces_index": [2, 1, 0],
        },
        format="json",
    )

    assert response.status_code == 202, response.content
    job = SwapJob.objects.get(pk=response.json()["id"])
    assert [p for r, p in _inputs(job.pk) if r == "source"] == [0, 1, 2]
    assert job.options["target_faces"] == [2, 1, 0]


@pytest.mark.parametrize(
    "sent,stored",
    [
        ({"target_faces_index": "all"}, {"source_faces": None, "target_faces": "all"}),
        ({"target_faces_index": " ALL "}, {"source_faces": None, "target_faces": "all"}),
        (
            {"source_faces_index": " 1 ", "target_faces_index": "0, 2"},
            {"source_faces": [1], "target_faces": [0, 2]},
        ),
        ({}, {"source_faces": None, "target_faces": None}),  # the engine's defaults
    ],
)
def test_index_forms_are_stored_as_lists(api_client, upload, sent, stored):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": upload("grace_hopper.jpg"),
            **sent,
        },
    )
    options = SwapJob.objects.get(pk=response.json()["id"]).options
    assert {key: options[key] for key in stored} == stored


def test_without_a_source_the_target_alone_is_stored(api_client, upload, account):
    response = api_client.post("/api/v1/swaps", {"target_image": upload("astronaut.jpg")})

    assert response.status_code == 202, response.content
    assert _inputs(response.json()["id"]) == [("target", 0)]
    assert credits_of(account) == 99


def test_a_reference_image_is_stored_as_the_reference(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": upload("grace_hopper.jpg"),
            "reference_image": upload("astronaut.jpg"),
        },
    )

    assert response.status_code == 202, response.content
    assert _inputs(response.json()["id"]) == [("reference", 0), ("source", 0), ("target", 0)]


def test_a_saved_face_is_copied_into_the_job(api_client, upload, saved_face, account):
    second = make_saved_face(account, "second", b"second identity")
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_face_id": [str(saved_face.pk), str(second.pk)],
        },
    )

    assert response.status_code == 202, response.content
    job = SwapJob.objects.get(pk=response.json()["id"])
    copies = job.inputs.filter(role=InputRole.FACE)
    assert [row.file.read() for row in copies] == [b"opaque identity bytes", b"second identity"]
    assert job.options["source_face_ids"] == [str(saved_face.pk), str(second.pk)]
    assert credits_of(account) == 99


def test_a_comma_list_of_saved_faces_is_accepted_in_json(api_client, photo, saved_face):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
            "source_face_id": f"{saved_face.pk},{saved_face.pk}",
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    assert [p for r, p in _inputs(response.json()["id"]) if r == "face"] == [0, 1]


def test_enhance_is_stored_as_an_engine_option(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": upload("grace_hopper.jpg"),
            "enhance": "true",
        },
    )
    assert SwapJob.objects.get(pk=response.json()["id"]).options["enhance"] is True


@pytest.mark.parametrize(("sent", "kept"), [("true", True), (None, False)])
def test_keep_hands_is_asked_per_job_and_off_by_default(api_client, upload, sent, kept):
    fields = {"target_image": upload("astronaut.jpg"), "source_image": upload("grace_hopper.jpg")}
    if sent is not None:
        fields["keep_hands"] = sent
    response = api_client.post("/api/v1/swaps", fields)

    options = SwapJob.objects.get(pk=response.json()["id"]).options
    assert options["keep_hands"] is kept
    assert engine_options(options).keep_hands is kept


@pytest.mark.parametrize(("sent", "stored"), [("0.25", 0.25), ("1", 1.0), ("", None)])
def test_likeness_is_stored_as_an_engine_option(api_client, upload, sent, stored):
    data = {"target_image": upload("astronaut.jpg"), "source_image": upload("grace_hopper.jpg")}
    if sent:
        data["likeness"] = sent
    response = api_client.post("/api/v1/swaps", data)
    assert response.status_code == 202, response.content
    assert SwapJob.objects.get(pk=response.json()["id"]).options["likeness"] == stored


@pytest.mark.parametrize("bad", ["-0.1", "1.01", "nan", "inf", "a lot"])
def test_a_likeness_outside_0_to_1_is_refused_and_costs_nothing(api_client, photo, account, bad):
    before = credits_of(account)
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": base64.b64encode(photo("astronaut.jpg")).decode(),
            "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
            "likeness": bad,
        },
        format="json",
    )
    error = api_error(response, 400)
    assert error["code"] == "invalid_parameter" and "likeness" in error["details"]["fields"]
    assert credits_of(account) == before and not SwapJob.objects.exists()


def test_a_job_ending_erases_its_copy_of_a_saved_face_but_not_the_face(
    submit, upload, saved_face, api_client, media_files
):
    # The opaque test identity cannot be swapped: the job fails, refunded, inputs erased.
    job = _job(
        api_client,
        submit({"target_image": upload("astronaut.jpg"), "source_face_id": str(saved_face.pk)}),
    )

    assert job["status"] == "failed"
    assert media_files() == []
    saved_face.refresh_from_db()
    assert bytes(saved_face.identity) == b"opaque identity bytes"


# --- Refused before any charge --------------------------------------------------------


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"source_faces_index": "0,,1"}, "source_faces_index"),
        ({"source_faces_index": "a"}, "source_faces_index"),
        ({"source_faces_index": "-1"}, "source_faces_index"),
        ({"source_faces_index": "all"}, "source_faces_index"),
        ({"source_faces_index": "²"}, "source_faces_index"),
        ({"target_faces_index": "1001"}, "target_faces_index"),
        ({"target_faces_index": "0,0"}, "target_faces_index"),
        ({"target_faces_index": ",".join(map(str, range(17)))}, "target_faces_index"),
        ({"source_faces_index": "0,1", "target_faces_index": "0,1,2"}, "target_faces_index"),
        ({"reference_image": "REF", "target_faces_index": "0"}, "reference_image"),
        ({"source_face_id": "not-a-uuid"}, "source_face_id"),
        ({"source_face_id": "SAVED"}, "source_face_id"),  # with source_image: one or the other
        ({"enhance": "sometimes"}, "enhance"),
        ({"keep_hands": "sometimes"}, "keep_hands"),
    ],
)
def test_bad_multi_face_parameters_are_refused_and_cost_nothing(
    api_client, upload, account, saved_face, fields, field
):
    stand_ins = {"REF": upload("astronaut.jpg"), "SAVED": str(saved_face.pk)}
    fields = {name: stand_ins.get(value, value) for name, value in fields.items()}
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": upload("grace_hopper.jpg"),
            **fields,
        },
    )

    error = api_error(response, 400)
    assert error["code"] == "invalid_parameter"
    assert field in error["details"]["fields"]
    assert not SwapJob.objects.exists() and credits_of(account) == 100


def test_more_than_four_sources_are_refused(api_client, upload, account):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": [upload("grace_hopper.jpg") for _ in range(5)],
        },
    )

    assert "source_image" in api_error(response, 400)["details"]["fields"]
    assert not SwapJob.objects.exists() and credits_of(account) == 100


@pytest.mark.parametrize(
    "body,field",
    [
        ({"source_image": []}, "source_image"),
        ({"source_face_id": []}, "source_face_id"),
        ({"source_face_id": [str(uuid.uuid4()) for _ in range(5)]}, "source_face_id"),
        ({"source_image": None}, "source_image"),
    ],
)
def test_empty_or_oversized_json_lists_are_refused(api_client, photo, body, field):
    target = base64.b64encode(photo("astronaut.jpg")).decode()
    response = api_client.post("/api/v1/swaps", {"target_image": target, **body}, format="json")
    assert field in api_error(response, 400)["details"]["fields"]


def test_two_target_images_are_refused(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps", {"target_image": [upload("astronaut.jpg"), upload("astronaut.jpg")]}
    )
    assert "target_image" in api_error(response, 400)["details"]["fields"]


def test_another_accounts_saved_face_is_not_found(
    api_client, upload, account, other_saved_face, media_files
):
    response = api_client.post(
        "/api/v1/swaps",
        {"target_image": upload("astronaut.jpg"), "source_face_id": str(other_saved_face.pk)},
    )

    error = api_error(response, 404)
    assert error["code"] == "not_found"
    assert error["details"] == {"source_face_id": str(other_saved_face.pk)}
    assert not SwapJob.objects.exists() and credits_of(account) == 100
    assert media_files() == []


def test_an_unknown_saved_face_is_not_found(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {"target_image": upload("astronaut.jpg"), "source_face_id": str(uuid.uuid4())},
    )
    assert api_error(response, 404)["code"] == "not_found"


def test_a_bad_reference_image_names_the_field(api_client, upload, account):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": upload("grace_hopper.jpg"),
            "reference_image": upload("ref.jpg", b"not an image"),
        },
    )

    error = api_error(response, 400)
    assert (error["code"], error["details"]["image"]) == ("invalid_image_format", "reference_image")
    assert credits_of(account) == 100


def test_an_error_in_the_second_source_names_the_field(api_client, upload):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "target_image": upload("astronaut.jpg"),
            "source_image": [upload("grace_hopper.jpg"), upload("x.png", b"\x89PNG nope")],
        },
    )
    error = api_error(response, 400)
    assert (error["code"], error["details"]["image"]) == ("invalid_image_format", "source_image")


# --- Engine errors become job errors --------------------------------------------------


@pytest.mark.parametrize(
    "code,expected",
    [
        ("no_face_detected", "no_face_detected"),
        ("face_count_mismatch", "face_count_mismatch"),
        ("face_index_out_of_range", "face_index_out_of_range"),
        ("face_not_swappable", "face_not_swappable"),
        ("face_outside_image", "processing_failed"),
    ],
)
def test_engine_codes_map_onto_the_contracts_job_codes(code, expected):
    from swaps.runner import job_error

    mapped, message, details = job_error(engine.EngineError(code, "why", {"image": "target"}))
    assert (mapped, message, details["image"]) == (expected, "why", "target")


# --- End to end with the engine's swap_faces ------------------------------------------


def test_two_faces_swap_into_two_faces(submit, upload, api_client, two_faces_png):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("two.png", two_faces_png),
                "source_image": upload("two.png", two_faces_png),
                "source_faces_index": "0,1",
                "target_faces_index": "1,0",
            }
        ),
    )

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["swapped"] == [[0, 1], [1, 0]]
    assert (job["faces"]["source"], job["faces"]["target"]) == (2, 2)


def test_faces_of_several_sources_are_numbered_image_by_image(
    submit, upload, api_client, two_faces_png
):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("two.png", two_faces_png),
                "source_image": [upload("grace_hopper.jpg"), upload("astronaut.jpg")],
                "source_faces_index": "1,0",
                "target_faces_index": "0,1",
            }
        ),
    )

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["source"] == 2
    assert job["faces"]["swapped"] == [[1, 0], [0, 1]]


def test_one_source_face_goes_into_all_target_faces(submit, upload, api_client, two_faces_png):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("two.png", two_faces_png),
                "source_image": upload("grace_hopper.jpg"),
                "target_faces_index": "all",
            }
        ),
    )

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["swapped"] == [[0, 0], [0, 1]]


def test_without_a_source_the_two_largest_faces_swap(submit, upload, api_client, two_faces_png):
    job = _job(api_client, submit({"target_image": upload("two.png", two_faces_png)}))

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["swapped"] == [[0, 1], [1, 0]]


def test_a_much_enlarged_source_face_completes_with_a_warning(submit, upload, api_client, grace):
    def png(image: np.ndarray, factor: float) -> bytes:
        resized = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        return cv2.imencode(".png", resized)[1].tobytes()

    job = _job(
        api_client,
        submit(
            {
                "source_image": upload("small.png", png(grace, 0.2)),
                "target_image": upload("big.png", png(grace, 2.0)),
            }
        ),
    )

    assert job["status"] == "completed", job["error"]
    (warning,) = job["faces"]["warnings"]
    assert warning["code"] == "source_face_enlarged" and warning["scale"] > 4


def test_a_reference_picks_the_target_face_most_like_it(submit, upload, api_client, two_faces_png):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("two.png", two_faces_png),
                "source_image": upload("grace_hopper.jpg"),
                "reference_image": upload("astronaut.jpg"),
            }
        ),
    )

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["reference"]["index"] == 1  # the astronaut is the smaller face
    assert job["faces"]["swapped"] == [[0, 1]]


def test_unpairable_faces_fail_the_job_with_face_count_mismatch(
    submit, upload, api_client, account
):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("astronaut.jpg"),
                "source_image": [upload("grace_hopper.jpg"), upload("astronaut.jpg")],
                "source_faces_index": "0,1",
                "target_faces_index": "all",
            }
        ),
    )

    assert job["status"] == "failed"
    assert job["error"]["code"] == "face_count_mismatch"
    assert credits_of(account) == 100  # refunded


def test_a_faceless_reference_fails_saying_which_image(submit, upload, api_client, noise_png):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("astronaut.jpg"),
                "source_image": upload("grace_hopper.jpg"),
                "reference_image": upload("noise.png", noise_png),
            }
        ),
    )

    assert job["error"]["code"] == "no_face_detected"
    assert job["error"]["details"]["image"] == "reference"


def test_an_index_past_the_faces_fails_with_face_index_out_of_range(
    submit, upload, api_client, two_faces_png
):
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("two.png", two_faces_png),
                "source_image": upload("two.png", two_faces_png),
                "source_faces_index": "0,1",
                "target_faces_index": "0,5",
            }
        ),
    )

    assert job["error"]["code"] == "face_index_out_of_range"
    assert job["error"]["details"]["image"] == "target"


def test_a_saved_face_swaps_without_a_source_photo(post_work, submit, upload, api_client):
    face = post_work("/api/v1/faces", {"name": "grace", "image": upload("grace_hopper.jpg")})
    assert face.status_code == 201, face.content

    job = _job(
        api_client,
        submit({"target_image": upload("astronaut.jpg"), "source_face_id": face.json()["id"]}),
    )

    assert job["status"] == "completed", job["error"]
    assert job["faces"]["swapped"] == [[0, 0]]


def _result_pixels(submit: Any, upload: Any, api_client: Any, **options: str) -> np.ndarray:
    job = _job(
        api_client,
        submit(
            {
                "target_image": upload("grace_hopper.jpg"),
                "source_image": upload("astronaut.jpg"),
                **options,
            }
        ),
    )
    assert job["status"] == JobStatus.COMPLETED, job["error"]
    data = b"".join(api_client.get(f"/api/v1/swaps/{job['id']}/result").streaming_content)
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).astype(np.int16)


def test_enhance_and_likeness_change_the_result(submit, upload, api_client):
    default = _result_pixels(submit, upload, api_client, watermark="false")
    same = _result_pixels(submit, upload, api_client, watermark="false", likeness="0.85")
    assert np.array_equal(same, default)  # 0.85 is the default
    for options in ({"enhance": "true"}, {"likeness": "0"}, {"likeness": "1"}):
        changed = _result_pixels(submit, upload, api_client, watermark="false", **options)
        assert np.abs(changed - default).mean() > 0.05, options
