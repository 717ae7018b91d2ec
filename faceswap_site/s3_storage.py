"""The S3 backend of STORAGE_URL: django-storages' S3Storage with one request per read,
per write and per batch of deletes.

django-storages reads an object with a HEAD (S3File's existence check), then
``download_fileobj``, whose transfer manager sends a second HEAD and the GET from a
thread pool made for that one call; it writes through ``upload_fileobj``, another
transfer manager and pool. Every image of this service fits in one part, so a read
here is one GetObject and a write one PutObject (larger files still go through the
transfer manager, in parts). A job's inputs are erased together: one DeleteObjects.
Measured by benchmarks/job_cpu.py: 10 requests a job became 6 (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from django.core.files.base import ContentFile, File
from storages.backends.s3 import S3Storage, _filter_download_params
from storages.utils import clean_name

DELETE_BATCH = 1000  # S3's limit per DeleteObjects request


class MediaS3Storage(S3Storage):
    def _open(self, name: str, mode: str = "rb") -> File:
        """Reading: the whole object in one GetObject (a missing one: FileNotFoundError,
        as before). Other modes: django-storages' S3File."""
        if mode != "rb" or self.gzip:
            return super()._open(name, mode)
        key = self._normalize_name(clean_name(name))
        params = _filter_download_params(self.get_object_parameters(name))
        try:
            answer = self.bucket.meta.client.get_object(Bucket=self.bucket_name, Key=key, **params)
        except ClientError as err:
            if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"File does not exist: {key}") from err
            raise
        with answer["Body"] as body:
            return ContentFile(body.read(), name=name)

    def _save(self, name: str, content: Any) -> str:
        """One PutObject for a file below the multipart threshold (every image here)."""
        size = getattr(content, "size", None)
        if size is None or size >= self.transfer_config.multipart_threshold or self.gzip:
            return super()._save(name, content)
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        self.bucket.meta.client.put_object(Bucket=self.bucket_name, Key=key, Body=data, **params)
        return cleaned

    def delete_many(self, names: Sequence[str]) -> None:
        """Delete ``names`` (missing ones are no error, as in ``delete``); OSError if the
        store refuses any."""
        keys = [{"Key": self._normalize_name(clean_name(name))} for name in names]
        for start in range(0, len(keys), DELETE_BATCH):
            answer = self.bucket.meta.client.delete_objects(
                Bucket=self.bucket_name,
                Delete={"Objects": keys[start : start + DELETE_BATCH], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            if errors:
                raise OSError(f"{len(errors)} objects not deleted: {errors[0].get('Code')}")
