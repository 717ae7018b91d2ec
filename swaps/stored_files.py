"""A job's files in the default storage (a local folder or an S3 bucket): stored
together and erased together, because on an object store each call is a round trip."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from django.core.files.base import ContentFile

Upload = tuple[Any, str, bytes]  # (a row's FieldFile, a name hint, the bytes)


UPLOAD_THREADS = 6
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _upload_pool() -> ThreadPoolExecutor:
    """This process's upload threads, kept for its life: django-storages builds a boto3
    client per thread, so a new pool per job built two new clients on every create
    (benchmarks/web_cpu.py). Keyed by pid: a forked child makes its own."""
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = ThreadPoolExecutor(
                UPLOAD_THREADS, thread_name_prefix="upload"
            )
        return pool


def store_files(uploads: Sequence[Upload]) -> None:
    """Store a job's files. On an object store each PUT is a network round trip, so they go
    up together (threads); local files are written one after another."""
    if len(uploads) > 1 and getattr(uploads[0][0].storage, "bucket", None) is not None:
        pool = _upload_pool()
        futures = [pool.submit(_store_one, upload) for upload in uploads]
        # All ended before any error is raised: the caller erases what went up, which must
        # not include an upload still on its way.
        wait(futures)
        for future in futures:
            future.result()
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
