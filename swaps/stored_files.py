"""A job's files in the default storage (a local folder or an S3 bucket): stored
together and erased together, because on an object store each call is a round trip."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.files.base import ContentFile

Upload = tuple[Any, str, bytes]  # (a row's FieldFile, a name hint, the bytes)


def store_files(uploads: Sequence[Upload]) -> None:
    """Store a job's files. On an object store each PUT is a network round trip, so they go
    up together (threads); local files are written one after another."""
    if len(uploads) > 1 and getattr(uploads[0][0].storage, "bucket", None) is not None:
        with ThreadPoolExecutor(max_workers=min(len(uploads), 6)) as pool:
            list(pool.map(_store_one, uploads))  # list(): an upload's error raises here
    else:
        for upload in uploads:
            _store_one(upload)


def _store_one(upload: Upload) -> None:
    field_file, name, data = upload
    field_file.save(name, ContentFile(data), save=False)


def erase_files(*files: Any) -> None:
    """Delete stored files; several in one request where the storage can (S3)."""
    present = [stored_file for stored_file in files if stored_file]
    storages = {id(stored_file.storage) for stored_file in present}
    delete_many = getattr(present[0].storage, "delete_many", None) if present else None
    if delete_many is not None and len(present) > 1 and len(storages) == 1:
        delete_many([stored_file.name for stored_file in present])
        return
    for stored_file in present:
        stored_file.delete(save=False)
