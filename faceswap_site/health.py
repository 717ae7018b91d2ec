"""Health endpoints for load balancers and orchestrators, without authentication.

`/healthz`: the process answers (no dependency is touched). `/readyz`: the database, the
job broker and the file storage answer, each checked cheaply; 503 names what failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {name: _outcome(name, check) for name, check in CHECKS.items()}
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )


def _outcome(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # a readiness probe reports, it never raises
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return "failed"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    """django-q2's broker: Redis when configured, else the database (checked above)."""
    redis_conf = settings.Q_CLUSTER.get("redis")
    if redis_conf:
        client = (
            redis.Redis.from_url(redis_conf, socket_timeout=2)
            if isinstance(redis_conf, str)
            else redis.Redis(**redis_conf)
        )
        client.ping()
    else:
        _database()


def _storage() -> None:
    bucket = getattr(default_storage, "bucket", None)  # django-storages' S3Storage
    if bucket is not None:
        # HEAD of the bucket: a HEAD of a missing key answers 404 even when the bucket
        # is gone, so only this tells a missing bucket or refused credentials.
        bucket.meta.client.head_bucket(Bucket=bucket.name)
    else:
        default_storage.exists("readyz-probe")  # a stat of the media folder


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
}
