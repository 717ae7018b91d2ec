"""Inputs, previews and results in an S3-compatible bucket (moto, in-process) instead of
MEDIA_ROOT: every path goes through the storage API, and erasure deletes the objects."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from moto import mock_aws
from PIL import Image

from faceswap_site.storage_url import LOCAL_BACKEND, S3_BACKEND, default_storage_backend
from swaps.models import JobStatus, SwapJob

BUCKET = "faceswap-test"


# --- STORAGE_URL ------------------------------------------------------------------------


def test_no_storage_url_keeps_the_local_folder():
    assert default_storage_backend("") == {"BACKEND": LOCAL_BACKEND}


def test_an_s3_url_names_bucket_prefix_and_endpoint():
    backend = default_storage_backend(
        "s3://media/faceswap/prod?endpoint_url=http://127.0.0.1:9000&region_name=eu-west-1"
    )
    assert backend["BACKEND"] == S3_BACKEND
    options = backend["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("media", "faceswap/prod")
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["region_name"] == "eu-west-1"
    assert options["default_acl"] is None  # never public-read


@pytest.mark.parametrize(
    "url",
    [
        "gs://bucket",
        "s3://",
        "s3://key:secret@bucket",
        "s3://bucket?endpoint=http://x",
        "s3://bucket?endpoint_url=",
        "s3://bucket?addressing_style=sideways",
    ],
)
def test_a_bad_storage_url_fails_loudly(url):
    with pytest.raises(ImproperlyConfigured):
        default_storage_backend(url)


# --- Jobs on S3 ---------------------------------------------------------------------------


@pytest.fixture
def bucket(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[str]]]:
    """The default storage is a (mocked) S3 bucket; the fixture lists its object keys."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": default_storage_backend(f"s3://{BUCKET}/media?region_name=us-east-1"),
        }

        def keys() -> list[str]:
            listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            return sorted(item["Key"] for item in listed)

        yield keys


pytestmark = pytest.mark.django_db


def _swap(submit: Any, upload: Any, **extra: Any) -> dict[str, Any]:
    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
        | extra
    )
    assert response.status_code == 202, response.json()
    return response.json()


def test_a_job_reads_its_inputs_from_the_bucket_and_writes_its_result_there(
    bucket, submit, upload, api_client, client, media_files
):
    created = _swap(submit, upload)
    job = api_client.get(f"/api/v1/swaps/{created['id']}").json()

    assert job["status"] == "completed", job["error"]
    assert media_files() == []  # nothing on the local disk
    keys = bucket()
    assert len(keys) == 1 and keys[0].startswith("media/results/")  # inputs erased
    download = client.get(job["result_url"])
    assert download.status_code == 200
    assert Image.open(io.BytesIO(b"".join(download.streaming_content))).size == (512, 512)
    by_key = api_client.get(f"/api/v1/swaps/{created['id']}/result")
    assert by_key.status_code == 200


def test_base64_results_are_read_back_from_the_bucket(bucket, submit, upload, api_client):
    created = _swap(submit, upload, return_base64="true")
    job = api_client.get(f"/api/v1/swaps/{created['id']}").json()
    assert job["status"] == "completed" and job["result_base64"]


def test_deleting_a_job_deletes_its_objects(bucket, submit, upload, api_client, client):
    created = _swap(submit, upload)
    result_url = api_client.get(f"/api/v1/swaps/{created['id']}").json()["result_url"]
    assert bucket()

    assert api_client.delete(f"/api/v1/swaps/{created['id']}").status_code == 204

    assert bucket() == []
    assert client.get(result_url).status_code == 404


def test_a_result_gone_from_the_bucket_is_a_404_not_a_500(bucket, submit, upload, api_client):
    from django.test import Client

    created = _swap(submit, upload)
    job = SwapJob.objects.get(pk=created["id"])
    job.result.storage.delete(job.result.name)  # e.g. a bucket lifecycle rule

    url = api_client.get(f"/api/v1/swaps/{created['id']}").json()["result_url"]
    assert Client().get(url).status_code == 404


def test_purging_expired_results_deletes_their_objects(bucket, submit, upload):
    from datetime import timedelta

    from django.utils import timezone

    from swaps.services import purge_expired_results

    created = _swap(submit, upload)
    assert SwapJob.objects.get(pk=created["id"]).status == JobStatus.COMPLETED

    assert purge_expired_results(now=timezone.now() + timedelta(days=30)) == 1
    assert bucket() == []


def test_page_previews_live_in_the_bucket_and_go_with_the_job(
    bucket, client, account, django_capture_on_commit_callbacks, upload
):
    client.force_login(account.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/swaps/new/",
            {
                "source_image": upload("grace_hopper.jpg"),
                "target_image": upload("astronaut.jpg"),
                "consent": "on",
            },
        )
    job = SwapJob.objects.get(account=account)
    assert response.status_code == 302 and job.status == JobStatus.COMPLETED
    assert any(key.startswith("media/previews/") for key in bucket())
    preview = client.get(f"/swaps/{job.pk}/preview/target/")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"

    client.post(f"/swaps/{job.pk}/delete/")
    assert bucket() == []


def test_saved_faces_swap_from_the_bucket(bucket, submit, upload, api_client):
    saved = api_client.post("/api/v1/faces", {"name": "g", "image": upload("grace_hopper.jpg")})
    assert saved.status_code == 201, saved.json()
    assert bucket() == []  # a saved face is a database row, never a stored photo

    response = submit(
        {"source_face_id": saved.json()["id"], "target_image": upload("astronaut.jpg")}
    )
    assert response.status_code == 202, response.json()
    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed", job["error"]
    assert [key.split("/")[1] for key in bucket()] == ["results"]


def test_ready_only_while_the_bucket_answers(bucket, client, settings):
    assert client.get("/readyz").json()["checks"]["storage"] == "ok"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_backend("s3://no-such-bucket?region_name=us-east-1"),
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "failed"}


def test_a_job_with_several_inputs_erases_them_in_one_request(
    bucket, submit, upload, api_client, monkeypatch
):
    from faceswap_site.s3_storage import MediaS3Storage

    batches: list[list[str]] = []
    original = MediaS3Storage.delete_many

    def spy(self: MediaS3Storage, names: list[str]) -> None:
        batches.append(list(names))
        original(self, names)

    monkeypatch.setattr(MediaS3Storage, "delete_many", spy)
    created = _swap(submit, upload, reference_image=upload("astronaut.jpg"))

    assert api_client.get(f"/api/v1/swaps/{created['id']}").json()["status"] == "completed"
    assert [len(batch) for batch in batches] == [3]  # target, source, reference at once
    assert [key.split("/")[1] for key in bucket()] == ["results"]


def test_a_failed_upload_leaves_no_object_and_no_job(
    bucket, api_client, upload, photo, account, monkeypatch
):
    from swaps import stored_files
    from tests.helpers import credits_of

    target = photo("astronaut.jpg")
    real = stored_files._store_one

    def refuse_the_target(item: Any) -> None:
        if item[2] == target:
            raise OSError("the store refused this upload")
        real(item)  # the source goes up, at the same time

    monkeypatch.setattr(stored_files, "_store_one", refuse_the_target)
    before = credits_of(account)
    response = api_client.post(
        "/api/v1/swaps",
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
    )

    assert response.status_code >= 500 and response.json()["success"] is False
    assert bucket() == []  # the source that did go up was erased
    assert not SwapJob.objects.exists() and credits_of(account) == before


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every S3 operation botocore sends, by name, in order."""
    from botocore.client import BaseClient

    calls: list[str] = []
    original = BaseClient._make_api_call

    def record(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return calls


def test_a_job_costs_one_request_per_object(bucket, submit, upload, api_client, s3_calls):
    """Each input up and down once, the result up once, the inputs erased together: no
    HEADs before reads (every request is CPU on the store and the worker)."""
    created = _swap(submit, upload)

    assert api_client.get(f"/api/v1/swaps/{created['id']}").json()["status"] == "completed"
    assert sorted(s3_calls) == sorted(
        ["PutObject", "PutObject", "GetObject", "GetObject", "PutObject", "DeleteObjects"]
    )


def test_a_file_past_the_multipart_threshold_still_goes_up_in_parts(bucket, s3_calls):
    from boto3.s3.transfer import TransferConfig
    from django.core.files.base import ContentFile

    from faceswap_site.s3_storage import MediaS3Storage

    options = default_storage_backend(f"s3://{BUCKET}/media?region_name=us-east-1")["OPTIONS"]
    limit = 5 * 1024 * 1024  # S3's smallest part
    storage = MediaS3Storage(**options, transfer_config=TransferConfig(multipart_threshold=limit))
    data = bytes(range(256)) * (limit // 256 + 1)

    name = storage.save("big.bin", ContentFile(data))
    with storage.open(name, "rb") as handle:
        assert handle.read() == data
    assert "CreateMultipartUpload" in s3_calls and "PutObject" not in s3_calls
    assert s3_calls.count("GetObject") == 1 and "HeadObject" not in s3_calls


def test_reading_a_missing_object_is_file_not_found(bucket):
    from django.core.files.storage import default_storage

    with pytest.raises(FileNotFoundError):
        default_storage.open("results/missing.jpeg", "rb")
