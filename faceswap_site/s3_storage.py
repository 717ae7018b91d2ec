"""The S3 backend of STORAGE_URL: django-storages' S3Storage, plus deleting many objects
in one request (a job's inputs are erased together: one DeleteObjects, not a DELETE each)."""

from __future__ import annotations

from collections.abc import Sequence

from storages.backends.s3 import S3Storage
from storages.utils import clean_name

DELETE_BATCH = 1000  # S3's limit per DeleteObjects request


class MediaS3Storage(S3Storage):
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
