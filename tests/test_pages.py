"""The browser side, over HTTP: sign-up, log-in, upload, follow, download, delete."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from django_q.conf import Conf
from PIL import Image

from accounts import quotas
from accounts.forms import EmailLoginForm
from accounts.models import Account
from swaps.models import InputRole, JobStatus, SwapInput, SwapJob
from swaps.runner import engine_options
from swaps.signing import result_path, result_token

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "correct-horse-battery-42"


# --- Fixtures (local, so this module does not depend on conftest's details) ----------


@pytest.fixture(autouse=True)
def _pages_env(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # django-q2 reads Q_CLUSTER once, at import: flip its parsed flag too.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(Conf, "SYNC", True)


def photo(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo(name) if data is None else data)


def make_account(email: str) -> Account:
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return quotas.account_for(user=user)


def logged_in(account: Account) -> Client:
    client = Client()
    client.force_login(account.user)
    return client


def media_files(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def ann() -> Account:
    return make_account("ann@example.com")


@pytest.fixture
def bob() -> Account:
    return make_account("bob@example.com")


@pytest.fixture
def ann_client(ann: Account) -> Client:
    return logged_in(ann)


@pytest.fixture
def bob_client(bob: Account) -> Client:
    return logged_in(bob)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """A context in which the (synchronous) worker runs once the request commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def swap_form(
    source: str = "grace_hopper.jpg", target: str = "astronaut.jpg", **extra: Any
) -> dict[str, Any]:
    return {
        "source_image": upload(source),
        "target_image": upload(target),
        "consent": "on",
        **extra,
    }


@pytest.fixture
def pending_job(ann_client: Client) -> SwapJob:
    """Accepted through the form; its task never runs (on_commit does not fire here)."""
    response = ann_client.post(reverse("swaps:new"), swap_form())
    assert response.status_code == 302, response.content
    return SwapJob.objects.get(pk=resolve(response["Location"]).kwargs["job_id"])


@pytest.fixture
def completed_job(ann: Account) -> SwapJob:
    """A finished job made directly, so download tests do not depend on the engine."""
    job = SwapJob.objects.create(
        account=ann,
        status=JobStatus.COMPLETED,
        output_format="jpeg",
        completed_at=timezone.now(),
        processing_ms=1234,
        faces={"source": 1, "target": 1, "swapped": [[0, 0]]},
    )
    job.result.save("result.jpeg", ContentFile(photo("astronaut.jpg")))
    return job


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Public pages -----------------------------------------------------------------------


def test_home_explains_the_service_and_responsible_use(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    for href in (reverse("signup"), reverse("login"), "/api/docs/"):
        assert f'href="{href}"' in html
    assert "right to use" in html and "marked as altered" in html and "delete" in html


def test_pages_behind_login_redirect_anonymous_visitors(client):
    for url in (
        reverse("swaps:new"),
        reverse("swaps:list"),
        reverse("swaps:detail", args=[uuid.uuid4()]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_unknown_page_renders_the_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


def test_the_admin_link_is_for_staff_only(ann, ann_client):
    admin = f'href="{reverse("admin:index")}"'
    assert admin not in ann_client.get(reverse("home")).content.decode()

    ann.user.is_staff = True
    ann.user.save(update_fields=["is_staff"])
    assert admin in ann_client.get(reverse("home")).content.decode()


# --- Sign-up, log-in, log-out ---------------------------------------------------------


def test_signup_creates_user_and_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"email": "New.Person@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("swaps:new")
    user = get_user_model().objects.get()
    assert user.username == user.email == "new.person@example.com"
    assert user.check_password(PASSWORD)
    assert Account.objects.filter(user=user).exists()
    assert client.get(reverse("swaps:new")).status_code == 200  # logged in


def test_signup_refuses_an_email_taken_in_any_case(client, ann):
    response = client.post(
        reverse("signup"),
        {"email": "ANN@example.COM", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    ("password1", "password2", "field"),
    [
        ("12345678", "12345678", "password1"),  # common, numeric: Django's validators
        (PASSWORD, PASSWORD + "x", "password2"),
    ],
)
def test_signup_refuses_weak_or_mismatched_passwords(client, password1, password2, field):
    response = client.post(
        reverse("signup"),
        {"email": "new@example.com", "password1": password1, "password2": password2},
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not get_user_model().objects.exists()


def test_login_then_logout(client, ann):
    response = client.post(reverse("login"), {"username": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("swaps:new")
    assert client.get(reverse("swaps:list")).status_code == 200

    assert client.get(reverse("logout")).status_code == 405  # POST only, with CSRF
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("swaps:list")).status_code == 302


def test_email_login_form_ignores_letter_case(rf, ann):
    # Not yet the LoginView's form (that is urls.py's call): checked directly.
    form = EmailLoginForm(rf.post("/"), data={"username": " ANN@Example.com", "password": PASSWORD})
    assert form.is_valid(), form.errors
    assert form.get_user() == ann.user


def test_login_with_a_wrong_password_shows_the_form_again(client, ann):
    response = client.post(reverse("login"), {"username": "ann@example.com", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


# --- The swap form ------------------------------------------------------------------------


def test_new_swap_form_is_a_multipart_form_with_hints(ann_client, settings):
    html = ann_client.get(reverse("swaps:new")).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'for="id_source_image"' in html and 'for="id_target_image"' in html
    mb = settings.MAX_IMAGE_BYTES // (1024 * 1024)
    assert f"up to {mb} MB" in html and "JPEG, PNG, WebP or GIF" in html


def test_upload_end_to_end_shows_the_result_and_serves_it_without_login(
    ann_client, run_jobs, settings
):
    with run_jobs():
        response = ann_client.post(reverse("swaps:new"), swap_form())

    job = SwapJob.objects.get()
    assert response["Location"] == reverse("swaps:detail", args=[job.pk])
    assert job.status == JobStatus.COMPLETED, (job.error_code, job.error_message)
    page = ann_client.get(response["Location"])
    html = page.content.decode()
    download = f"{result_path(job)}?download=1"
    assert f'href="{download}"' in html
    # A screen-sized copy inline; the full size only through the download link.
    assert f'src="{reverse("swaps:preview", args=[job.pk, "result"])}"' in html
    assert f'src="{result_path(job)}"' not in html
    assert reverse("swaps:preview", args=[job.pk, "source"]) in html
    assert "Processing time" in html and "Faces found" in html
    assert "job_status.js" not in html  # final: nothing left to poll

    anonymous = Client().get(download)
    assert anonymous.status_code == 200
    assert anonymous["Content-Type"] == "image/jpeg"
    assert anonymous["Content-Disposition"].startswith("attachment")
    assert Image.open(io.BytesIO(body(anonymous))).size == (512, 512)  # the target's size


def test_status_json_of_a_completed_job(ann_client, completed_job):
    data = ann_client.get(reverse("swaps:status", args=[completed_job.pk])).json()

    assert data == {
        "status": "completed",
        "stage": "done",
        "is_final": True,
        "frames_total": 1,
        "frames_done": 0,
        "error": None,
        "result_url": result_path(completed_job),
    }


def test_a_completed_job_page_shows_the_engines_warnings(ann_client, completed_job):
    warning = {"code": "source_face_enlarged", "source": 0, "target": 0, "scale": 5.2}
    warning["message"] = "The source face is enlarged 5.2x to fit the target face."
    completed_job.faces = {**completed_job.faces, "warnings": [warning]}
    completed_job.save(update_fields=["faces"])

    html = ann_client.get(reverse("swaps:detail", args=[completed_job.pk])).content.decode()

    assert 'data-warning="source_face_enlarged"' in html
    assert "The source face is enlarged 5.2x to fit the target face." in html


def test_a_pending_job_page_polls_and_degrades_without_js(ann_client, pending_job):
    page = ann_client.get(reverse("swaps:detail", args=[pending_job.pk]))
    html = page.content.decode()

    assert f'data-status-url="{reverse("swaps:status", args=[pending_job.pk])}"' in html
    assert "js/job_status.js" in html
    assert '<noscript><meta http-equiv="refresh"' in html
    status = ann_client.get(reverse("swaps:status", args=[pending_job.pk]))
    assert status["Cache-Control"].startswith("max-age=0")
    assert status.json() == {
        "status": "pending",
        "stage": "waiting",
        "is_final": False,
        "frames_total": 1,
        "frames_done": 0,
        "error": None,
        "result_url": None,
    }


def test_a_failed_job_shows_its_error_in_words_and_code(ann_client, ann):
    job = SwapJob.objects.create(
        account=ann,
        status=JobStatus.FAILED,
        completed_at=timezone.now(),
        error_code="no_face_detected",
        error_message="No face was found in the source photo.",
        error_details={"image": "source"},
    )

    html = ann_client.get(reverse("swaps:detail", args=[job.pk])).content.decode()
    assert "We could not find a face in the source photo: use a photo where" in html
    assert "no_face_detected" in html
    data = ann_client.get(reverse("swaps:status", args=[job.pk])).json()
    assert data["error"] == {
        "code": "no_face_detected",
        "message": "No face was found in the source photo.",
    }


@pytest.mark.parametrize("garbage_field", ["source_image", "target_image"])
def test_a_garbage_upload_is_a_form_error_and_no_job(ann_client, settings, garbage_field):
    form = swap_form()
    form[garbage_field] = SimpleUploadedFile("cat.jpg", b"this is not an image at all")

    response = ann_client.post(reverse("swaps:new"), form)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [garbage_field]
    photo = garbage_field.removesuffix("_image")
    assert errors[garbage_field][0] == (
        f"The {photo} photo is not a JPEG, PNG, WebP or GIF image we can read."
    )
    assert not SwapJob.objects.exists()
    assert media_files(settings) == []


def test_a_photo_over_the_size_limit_is_said_in_people_s_words(ann_client, settings):
    settings.MAX_IMAGE_BYTES = 10_000
    response = ann_client.post(reverse("swaps:new"), swap_form())
    errors = response.context["form"].errors
    assert errors["target_image"] == ["The target photo is larger than 10 KB."]
    assert not SwapJob.objects.exists()


def test_missing_files_and_bad_options_are_form_errors(ann_client):
    response = ann_client.post(reverse("swaps:new"), {"source_face": "-1"})

    errors = response.context["form"].errors
    assert {"source_image", "target_image", "source_face"} <= set(errors)
    assert not SwapJob.objects.exists()


def test_the_form_says_when_credits_are_exhausted(ann, ann_client):
    Account.objects.filter(pk=ann.pk).update(credits=0)

    response = ann_client.post(reverse("swaps:new"), swap_form())

    assert response.status_code == 200
    assert "credits" in " ".join(response.context["form"].non_field_errors()).lower()
    assert not SwapJob.objects.exists()


def test_form_options_reach_the_job(ann_client):
    ann_client.post(
        reverse("swaps:new"), swap_form(source_face="2", target_face="1", output_format="webp")
    )

    job = SwapJob.objects.get()
    assert job.options == {
        "source_faces": [2],
        "target_faces": [1],
        "enhance": False,
        "keep_hands": False,
        "likeness": None,
        "watermark": True,
        "source_face_ids": [],
    }  # Free plan: marked
    assert job.output_format == "webp"


def test_likeness_and_enhance_from_the_form_reach_the_job(ann_client):
    ann_client.post(reverse("swaps:new"), swap_form(likeness="0.4", enhance="on"))

    options = SwapJob.objects.get().options
    assert (options["likeness"], options["enhance"]) == (0.4, True)


def test_keep_hands_from_the_form_reaches_the_engine(ann_client):
    ann_client.post(reverse("swaps:new"), swap_form(keep_hands="on"))

    assert engine_options(SwapJob.objects.get().options).keep_hands is True


def test_a_likeness_above_one_is_a_form_error(ann_client):
    response = ann_client.post(reverse("swaps:new"), swap_form(likeness="1.5"))

    assert "likeness" in response.context["form"].errors
    assert not SwapJob.objects.exists()


# --- Previews, ownership ---------------------------------------------------------------------


def test_the_owner_sees_private_input_previews(ann_client, pending_job):
    for role in (InputRole.SOURCE, InputRole.TARGET):  # the photos the form uploads
        response = ann_client.get(reverse("swaps:preview", args=[pending_job.pk, role]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert "private" in response["Cache-Control"]
        assert body(response)[:2] == b"\xff\xd8"
    bogus = ann_client.get(reverse("swaps:preview", args=[pending_job.pk, "result"]))
    assert bogus.status_code == 404


def test_another_users_job_is_not_found_anywhere(bob_client, pending_job):
    job_id = pending_job.pk
    for url in (
        reverse("swaps:detail", args=[job_id]),
        reverse("swaps:status", args=[job_id]),
        reverse("swaps:preview", args=[job_id, "source"]),
    ):
        assert bob_client.get(url).status_code == 404, url
    assert bob_client.post(reverse("swaps:delete", args=[job_id])).status_code == 404
    assert SwapJob.objects.visible().filter(pk=job_id).exists()
    assert str(job_id) not in bob_client.get(reverse("swaps:list")).content.decode()


# --- Delete, list ---------------------------------------------------------------------------


def test_delete_erases_files_and_hides_the_job(ann_client, completed_job, settings):
    SwapInput.objects.create(
        job=completed_job,
        role=InputRole.SOURCE,
        format="jpeg",
        width=1,
        height=1,
        size_bytes=1,
        file="",
        preview=ContentFile(photo("grace_hopper.jpg"), name="p.jpeg"),
    )
    download = result_path(completed_job)
    assert len(media_files(settings)) == 2
    assert ann_client.get(reverse("swaps:delete", args=[completed_job.pk])).status_code == 405

    response = ann_client.post(reverse("swaps:delete", args=[completed_job.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("swaps:list")
    assert "deleted" in response.content.decode()
    assert str(completed_job.pk) not in response.content.decode()
    assert media_files(settings) == []
    assert ann_client.get(reverse("swaps:detail", args=[completed_job.pk])).status_code == 404
    assert Client().get(download).status_code == 404


def test_delete_needs_a_csrf_token(ann, pending_job):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ann.user)

    assert strict.post(reverse("swaps:delete", args=[pending_job.pk])).status_code == 403
    assert SwapJob.objects.visible().filter(pk=pending_job.pk).exists()


def test_list_shows_own_jobs_newest_first_twenty_a_page(ann_client, ann, bob):
    start = timezone.now()
    jobs = [
        SwapJob.objects.create(account=ann, created_at=start - timedelta(minutes=i))
        for i in range(25)
    ]
    SwapJob.objects.create(account=bob)

    first = ann_client.get(reverse("swaps:list"))
    second = ann_client.get(reverse("swaps:list"), {"page": 2})

    assert list(first.context["page"].object_list) == jobs[:20]
    assert list(second.context["page"].object_list) == jobs[20:]
    assert reverse("swaps:detail", args=[jobs[0].pk]) in first.content.decode()
    assert "?page=2" in first.content.decode()


def test_each_row_of_the_list_can_be_deleted(ann_client, ann):
    keep, gone = (SwapJob.objects.create(account=ann) for _ in range(2))
    page = ann_client.get(reverse("swaps:list")).content.decode()
    delete_url = reverse("swaps:delete", args=[gone.pk])
    assert f'action="{delete_url}"' in page

    response = ann_client.post(delete_url)

    assert response.status_code == 302 and response["Location"] == reverse("swaps:list")
    assert list(SwapJob.objects.visible().filter(account=ann)) == [keep]


# --- Download links ---------------------------------------------------------------------------


def test_the_download_link_serves_inline_without_login(completed_job):
    response = Client().get(result_path(completed_job))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert body(response) == photo("astronaut.jpg")


def test_a_tampered_download_token_is_404(completed_job):
    token = result_token(completed_job)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    for bad in (tampered, "garbage", token + "x"):
        response = Client().get(reverse("swaps:result-download", args=[bad]))
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")


def test_an_expired_download_token_is_404_and_the_page_says_so(ann_client, completed_job, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.RESULT_URL_TTL_S + 60)
    SwapJob.objects.filter(pk=completed_job.pk).update(completed_at=long_ago)
    completed_job.refresh_from_db()

    assert Client().get(result_path(completed_job)).status_code == 404
    html = ann_client.get(reverse("swaps:detail", args=[completed_job.pk])).content.decode()
    assert "expired" in html and "?download=1" not in html
    status = ann_client.get(reverse("swaps:status", args=[completed_job.pk])).json()
    assert status["result_url"] is None


def test_a_wrong_password_is_explained_in_terms_of_email(client, db):
    response = client.post("/login/", {"username": "nobody@example.com", "password": "x"})
    page = response.content.decode()
    assert "email and password do not match" in page and "correct username" not in page


def test_the_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
