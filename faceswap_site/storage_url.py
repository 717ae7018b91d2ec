"""STORAGE_URL: where inputs, previews and results live, as one setting.

Empty (the default): a local folder, MEDIA_ROOT. ``s3://BUCKET[/PREFIX]?endpoint_url=URL&
region_name=R&addressing_style=path``: an S3-compatible bucket (AWS, MinIO, Ceph, moto)
through django-storages; the credentials come from boto3's usual sources
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, an instance role), never from the URL, so the
URL can be logged. Anything else fails at start-up.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "faceswap_site.s3_storage.MediaS3Storage"  # S3Storage + batch deletes
QUERY_OPTIONS = ("endpoint_url", "region_name", "addressing_style")
# Presigned URLs (not handed out: results stream through the app's own signed URLs) would
# live this long; kept short in case a future caller asks the backend for one.
PRESIGNED_TTL_S = 300


def default_storage_backend(url: str) -> dict[str, Any]:
    """The STORAGES["default"] entry for ``url`` (see the module docstring)."""
    if not url:
        return {"BACKEND": LOCAL_BACKEND}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ImproperlyConfigured(f"STORAGE_URL must be s3://BUCKET[/PREFIX]?..., got {url!r}")
    if parts.username or parts.password:
        raise ImproperlyConfigured(
            "STORAGE_URL must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    options: dict[str, Any] = {
        "bucket_name": parts.hostname,
        "location": parts.path.strip("/"),
        "default_acl": None,  # the bucket's own (private) policy; never public-read
        "querystring_auth": True,
        "querystring_expire": PRESIGNED_TTL_S,
        "file_overwrite": True,  # names are random UUIDs: skip a HEAD before each upload
        "signature_version": "s3v4",
    }
    options.update(_query_options(parts.query, url))
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def _query_options(query: str, url: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in QUERY_OPTIONS:
            raise ImproperlyConfigured(
                f"STORAGE_URL: unknown option {key!r} (known: {', '.join(QUERY_OPTIONS)})"
            )
        if len(values) != 1 or not values[0]:
            raise ImproperlyConfigured(f"STORAGE_URL: {key} needs one value, in {url!r}")
        found[key] = values[0]
    if found.get("addressing_style", "path") not in ("path", "virtual", "auto"):
        raise ImproperlyConfigured("STORAGE_URL: addressing_style is path, virtual or auto")
    return found
