# ruff: noqa: F811  (pytest fixtures imported from test_pages are parameters here)
"""The upload page's server side: consent, every API mode through the form, the face
finder the picker calls, the fast status read, the result preview, bulk delete."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Account
from swaps.models import JobStatus, SwapJob
from tests.helpers import make_saved_face
from tests.test_pages import (  # the pages' fixtures, shared
    _pages_env,  # noqa: F401
    ann,  # noqa: F401
    ann_client,  # noqa: F401
    bob,  # noqa: F401
    bob_client,  # noqa: F401
    run_jobs,  # noqa: F401
    swap_form,
    upload,
)

pytestmark = pytest.mark.django_db


def post_form(client: Any, **fields: Any) -> Any:
    return client.post(reverse("swaps:new"), swap_form(**fields))


def test_consent_is_required_and_stored_with_the_job(ann_client):
    form = swap_form()
    del form["consent"]
    refused = ann_client.post(reverse("swaps:new"), form)
    assert "consent" in refused.context["form"].errors
    assert not SwapJob.objects.exists()

    assert post_form(ann_client).status_code == 302
    assert SwapJob.objects.get().consent is True


def test_the_api_may_send_consent(api_client, upload):
    answer = api_client.post(
        "/api/v1/swaps",
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
    )
    assert answer.status_code == 202 and answer.json()["consent"] is False
    answer = api_client.post(
        "/api/v1/swaps",
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "consent": "true",
        },
    )
    assert answer.json()["consent"] is True
    assert SwapJob.objects.get(pk=answer.json()["id"]).consent is True


def test_several_sources_face_lists_and_every_face_reach_the_job(ann_client):
    response = post_form(
        ann_client,
        source_image=[upload("grace_hopper.jpg"), upload("astronaut.jpg")],
        source_face="0,1",
        target_face="all",
    )
    assert response.status_code == 302, response.context["form"].errors
    job = SwapJob.objects.get()
    assert (job.options["source_faces"], job.options["target_faces"]) == ([0, 1], "all")
    assert job.inputs.filter(role="source").count() == 2


def test_a_reference_photo_chooses_the_target_face(ann_client):
    post_form(ann_client, reference_image=upload("grace_hopper.jpg"), target_face="3")
    job = SwapJob.objects.get()
    assert job.inputs.filter(role="reference").count() == 1
    assert job.options["target_faces"] is None  # the reference decides, as in the API


def test_no_source_swaps_faces_within_the_target(ann_client):
    form = swap_form(within_target="on")
    del form["source_image"]
    assert ann_client.post(reverse("swaps:new"), form).status_code == 302
    job = SwapJob.objects.get()
    assert not job.inputs.filter(role="source").exists()
    # "0" into "0" of one photo would change nothing: the API's default (largest two).
    assert (job.options["source_faces"], job.options["target_faces"]) == (None, None)

    refused = post_form(ann_client, within_target="on")  # with a source photo too
    assert "within_target" in refused.context["form"].errors


def test_a_saved_face_instead_of_a_source_photo(ann, ann_client):
    face = make_saved_face(ann)
    form = swap_form(saved_faces=[str(face.pk)])
    del form["source_image"]
    assert ann_client.post(reverse("swaps:new"), form).status_code == 302
    assert SwapJob.objects.get().options["source_face_ids"] == [str(face.pk)]


def test_someone_else_s_saved_face_cannot_be_chosen(ann_client, bob):
    form = swap_form(saved_faces=[str(make_saved_face(bob).pk)])
    del form["source_image"]
    response = ann_client.post(reverse("swaps:new"), form)
    assert "saved_faces" in response.context["form"].errors
    assert not SwapJob.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source_face": "0,x"}, "source_face"),
        ({"source_face": "all"}, "source_face"),
        ({"source_face": "0,1", "target_face": "0,1,2"}, "target_face"),
        ({"source_image": [upload("grace_hopper.jpg")] * 5}, "source_image"),
    ],
)
def test_unusable_face_choices_are_form_errors(ann_client, fields, field):
    response = post_form(ann_client, **fields)
    assert field in response.context["form"].errors
    assert not SwapJob.objects.exists()


def test_the_page_renders_the_server_limits_for_its_checks(ann_client, settings):
    html = ann_client.get(reverse("swaps:new")).content.decode()
    assert f'data-max-bytes="{settings.MAX_IMAGE_BYTES}"' in html
    assert f'data-max-pixels="{settings.MAX_IMAGE_PIXELS}"' in html
    assert f'data-detect-url="{reverse("swaps:detect")}"' in html
    assert "I have the right to use these photos and the consent of the people in them" in html


def test_the_face_finder_answers_boxes_for_free(ann, ann_client):
    credits = Account.objects.get(pk=ann.pk).credits
    answer = ann_client.post(
        reverse("swaps:detect"), {"role": "target", "image": upload("astronaut.jpg")}
    )
    assert answer.status_code == 200
    data = answer.json()
    assert data["width"] == 512 and len(data["faces"]) == 1
    assert data["faces"][0]["index"] == 0 and len(data["faces"][0]["box"]) == 4
    assert Account.objects.get(pk=ann.pk).credits == credits


def test_the_face_finder_speaks_people_s_words(ann_client):
    garbage = SimpleUploadedFile("x.jpg", b"not an image")
    answer = ann_client.post(reverse("swaps:detect"), {"role": "source", "image": garbage})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "invalid_image_format",
        "message": "The source photo is not a JPEG, PNG, WebP or GIF image we can read.",
    }


def test_the_face_finder_needs_a_login_and_is_rate_limited(ann_client, client, settings):
    url = reverse("swaps:detect")
    assert client.post(url, {"role": "target"}).status_code == 302  # to the login page
    settings.PAGE_DETECT_RATE = "2/m"
    codes = [ann_client.post(url, {"role": "target"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_the_status_read_reports_stage_and_frames(ann, ann_client):
    job = SwapJob.objects.create(
        account=ann, status=JobStatus.PROCESSING, frames_total=40, frames_done=12
    )
    data = ann_client.get(reverse("swaps:status", args=[job.pk])).json()
    assert (data["stage"], data["frames_done"], data["frames_total"]) == ("swapping", 12, 40)
    assert data["is_final"] is False


def test_the_job_page_shows_a_screen_sized_result_and_compare(ann_client, run_jobs, settings):
    with run_jobs():
        post_form(ann_client, target="astronaut.jpg")
    job = SwapJob.objects.get()
    html = ann_client.get(reverse("swaps:detail", args=[job.pk])).content.decode()
    assert "data-compare" in html and "Before" in html
    assert "?keep=source" in html and "?keep=target" in html  # swap again
    preview = ann_client.get(reverse("swaps:preview", args=[job.pk, "result"]))
    image = Image.open(io.BytesIO(b"".join(preview.streaming_content)))
    assert max(image.size) <= 1600 and image.format == "JPEG"


def test_the_result_preview_is_made_from_the_pixels_not_a_second_decode(
    ann_client, run_jobs, monkeypatch
):
    from swaps import results

    def no_decode(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the result was decoded again for its preview")

    monkeypatch.setattr(results, "make_preview", no_decode)
    with run_jobs():
        post_form(ann_client, target="astronaut.jpg")
    job = SwapJob.objects.get()
    assert job.status == JobStatus.COMPLETED and job.result_preview
    with job.result_preview.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG" and image.size == (512, 512)


def test_the_result_preview_is_erased_with_the_job(ann_client, run_jobs, settings):
    with run_jobs():
        post_form(ann_client)
    job = SwapJob.objects.get()
    path = job.result_preview.path
    ann_client.post(reverse("swaps:delete", args=[job.pk]))
    assert not SwapJob.objects.get(pk=job.pk).result_preview
    assert not __import__("os").path.exists(path)


def test_bulk_delete_deletes_the_ticked_jobs_of_this_account_only(ann, bob, ann_client):
    mine = [SwapJob.objects.create(account=ann, status=JobStatus.FAILED) for _ in range(3)]
    theirs = SwapJob.objects.create(account=bob, status=JobStatus.FAILED)
    response = ann_client.post(
        reverse("swaps:delete-many"),
        {"job": [str(mine[0].pk), str(mine[1].pk), str(theirs.pk), "not-a-uuid"]},
    )
    assert response.status_code == 302 and response["Location"] == reverse("swaps:list")
    deleted = set(SwapJob.objects.exclude(deleted_at=None).values_list("pk", flat=True))
    assert deleted == {mine[0].pk, mine[1].pk}


def test_my_swaps_shows_thumbnails_and_bulk_delete(ann_client):
    post_form(ann_client)
    job = SwapJob.objects.get()
    html = ann_client.get(reverse("swaps:list")).content.decode()
    assert reverse("swaps:preview", args=[job.pk, "target"]) in html
    assert f'value="{job.pk}" form="bulk-delete"' in html
    assert "Delete the ticked swaps" in html
