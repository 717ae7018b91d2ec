"""GIF targets over HTTP: an animated one is swapped in every frame and costs by frames."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from swaps.animated import decode_animation, encode_animation
from swaps.imaging.provenance import read_note
from swaps.models import JobStatus, SwapJob
from tests.animations import moving_face_frames, pillow_gif
from tests.helpers import api_error, credits_of

pytestmark = pytest.mark.django_db

FRAMES = 12  # two credits: one per started 10 frames
DURATIONS = [40, 80, 120] * 4


@pytest.fixture(scope="module")
def clip() -> bytes:
    """Grace Hopper's face drifting over 12 frames, written by Pillow, looping 3 times."""
    return pillow_gif(moving_face_frames(count=FRAMES), DURATIONS, loop=3)


def _still_gif(photo: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(photo)).convert("RGB").save(out, "GIF")
    return out.getvalue()


def _result(client: Any, job: dict[str, Any]) -> tuple[str, bytes]:
    response = client.get(job["result_url"])
    assert response.status_code == 200
    return response["Content-Type"], b"".join(response.streaming_content)


def test_an_animated_gif_target_is_swapped_in_every_frame(
    submit, upload, api_client, client, account, clip
):
    before = credits_of(account)

    response = submit(
        {"source_image": upload("astronaut.jpg"), "target_image": upload("clip.gif", clip)}
    )

    assert response.status_code == 202, response.json()
    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed", job["error"]
    assert job["cost"] == 2 and credits_of(account) == before - 2
    assert job["faces"]["frames"] == FRAMES
    assert job["faces"]["frames_swapped"] > FRAMES // 2
    content_type, data = _result(client, job)
    assert content_type == "image/gif"
    result = decode_animation(data, image="result", max_pixels=10**7)
    assert len(result.frames) == FRAMES
    assert result.durations_ms == DURATIONS
    assert result.loop == 3
    assert "altered" in (read_note(data) or "").lower()
    with_key = api_client.get(f"/api/v1/swaps/{job['id']}/result")
    assert with_key["Content-Type"] == "image/gif"


def test_a_gif_bomb_is_refused_before_any_charge(submit, upload, account):
    # 11 frames of 2000x2000: 44 million pixels over all frames (the cap is 40 million).
    frames = [np.full((2000, 2000, 3), 40 + i, np.uint8) for i in range(11)]
    bomb = encode_animation(frames, [50] * 11, loop=0, note="")
    before = credits_of(account)

    response = submit(
        {"source_image": upload("astronaut.jpg"), "target_image": upload("bomb.gif", bomb)}
    )

    assert response.status_code == 413
    error = api_error(response)
    assert error["code"] == "image_too_large"
    assert error["details"]["image"] == "target_image"
    assert credits_of(account) == before
    assert not SwapJob.objects.exists()


def test_too_many_frames_is_refused(submit, upload, account):
    frames = [np.full((8, 8, 3), i % 256, np.uint8) for i in range(301)]
    response = submit(
        {
            "source_image": upload("astronaut.jpg"),
            "target_image": upload(
                "long.gif", encode_animation(frames, [20] * 301, loop=0, note="")
            ),
        }
    )

    assert response.status_code == 413
    assert api_error(response)["details"]["max_frames"] == 300
    assert not SwapJob.objects.exists()


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_an_animated_target_cannot_become_a_still_image(
    submit, upload, account, clip, output_format
):
    before = credits_of(account)
    response = submit(
        {
            "source_image": upload("astronaut.jpg"),
            "target_image": upload("clip.gif", clip),
            "output_format": output_format,
        }
    )

    assert response.status_code == 400
    error = api_error(response)
    assert error["code"] == "invalid_parameter"
    assert error["details"] == {"output_format": output_format}
    assert credits_of(account) == before


def test_a_single_frame_gif_is_a_still_image_and_a_gif_source_gives_its_first_frame(
    submit, upload, photo, api_client, client
):
    response = submit(
        {
            "source_image": upload("grace.gif", _still_gif(photo("grace_hopper.jpg"))),
            "target_image": upload("astro.gif", _still_gif(photo("astronaut.jpg"))),
        }
    )

    assert response.status_code == 202, response.json()
    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed", job["error"]
    assert job["cost"] == 1
    assert job["faces"]["source"] == 1 and job["faces"]["swapped"] == [[0, 0]]
    assert "frames" not in job["faces"]
    content_type, data = _result(client, job)
    assert content_type == "image/png" and data.startswith(b"\x89PNG")


def test_a_still_target_may_ask_for_a_gif(submit, upload, api_client, client):
    response = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "output_format": "gif",
        }
    )

    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed", job["error"]
    content_type, data = _result(client, job)
    assert content_type == "image/gif"
    result = decode_animation(data, image="result", max_pixels=10**7)
    assert len(result.frames) == 1 and result.frames[0].shape == (512, 512, 3)


def test_the_browser_form_takes_an_animated_gif_target(
    account, upload, clip, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.force_login(account.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("swaps:new"),
            {
                "source_image": upload("astronaut.jpg"),
                "target_image": upload("clip.gif", clip),
                "consent": "on",
            },
        )

    assert response.status_code == 302
    job = SwapJob.objects.get()
    assert job.status == JobStatus.COMPLETED, (job.error_code, job.error_message)
    assert job.output_format == "gif" and job.cost == 2
    with job.result.open("rb") as handle:
        result = decode_animation(handle.read(), image="result", max_pixels=10**7)
    assert len(result.frames) == FRAMES
    # The job page's progress: every frame counted.
    assert (job.frames_total, job.frames_done) == (FRAMES, FRAMES)


def test_the_browser_form_explains_an_impossible_output_format(account, upload, clip):
    browser = Client()
    browser.force_login(account.user)

    response = browser.post(
        reverse("swaps:new"),
        {
            "source_image": upload("astronaut.jpg"),
            "target_image": upload("clip.gif", clip),
            "output_format": "png",
            "consent": "on",
        },
    )

    assert response.status_code == 200
    assert "animated GIF target gives a GIF" in response.content.decode()
    assert not SwapJob.objects.exists()
