"""Idempotency-Key on POSTs that create work: the same key and body replay the first answer.

The record is claimed (inserted) before any work starts, in its own transaction, so a
concurrent duplicate finds it and gets 409 instead of creating a second job. The service
that creates the work writes the new ids into the claim inside its own transaction
(`record_created`), so a process killed between that commit and storing the answer
leaves no charged job the client cannot learn of: the retry rebuilds the answer from the
ids (`replay`). Only successful answers are kept: after an error the client may retry
with the same key (as Stripe does). Records live at least IDEMPOTENCY_TTL_S (24 h).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account, IdempotencyRecord
from faceswap_site.errors import ApiError
from faceswap_site.processes import process_alive, this_process

MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Location",)
# A create request finishes in seconds (URL fetches time out at 10 s each); a claim this
# old belongs to a request that died on another machine. On this one, a claim whose
# process is gone is free at once.
ABANDONED_AFTER_S = 120
CLAIM_ATTEMPTS = 5
# The claim of the request being handled, for `record_created`: (account id, key).
_current_claim: ContextVar[tuple[int, str] | None] = ContextVar("idempotency_claim", default=None)


def request_fingerprint(request: Request) -> str:
    """A hash of what the request asks for, independent of multipart boundaries."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    items = (
        [(key, data.getlist(key)) for key in sorted(data.keys())]
        if hasattr(data, "getlist")
        else [("json", [json.dumps(data, sort_keys=True)])]
    )
    for key, values in items:
        for value in values:
            digest.update(f"{key}=".encode())
            digest.update(_value_digest(value))
    return digest.hexdigest()


def _value_digest(value: Any) -> bytes:
    if isinstance(value, UploadedFile):
        file_hash = hashlib.sha256()
        for chunk in value.chunks():
            file_hash.update(chunk)
        value.seek(0)
        return b"file:" + file_hash.digest()
    return b"text:" + hashlib.sha256(str(value).encode()).digest()


def idempotent(
    request: Request,
    *,
    account: Account,
    handler: Callable[[], Response],
    replay: Callable[[list[str]], Response],
) -> Response:
    """``handler()``'s answer, or the first answer to this key again.

    replay: the answer for what an earlier request with this key created (its ids), when
    that request died before its answer was stored.
    """
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            "invalid_parameter", f"Idempotency-Key is at most {MAX_KEY_LENGTH} characters."
        )
    fingerprint = request_fingerprint(request)
    record = _claim(account, key, fingerprint)
    if record is not None:
        return _replay(record, fingerprint, replay)
    token = _current_claim.set((account.pk, key))
    try:
        response = handler()
    except BaseException:
        _release(account, key)
        raise
    finally:
        _current_claim.reset(token)
    _finish(account, key, response)
    return response


def record_created(ids: Sequence[Any]) -> None:
    """Note what the current request created; call it inside the creating transaction."""
    claim = _current_claim.get()
    if claim is not None:
        IdempotencyRecord.objects.filter(account_id=claim[0], key=claim[1]).update(
            created_ids=[str(value) for value in ids]
        )


def _claim(account: Account, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """None if we now own the key; otherwise the existing (live) record."""
    _expire(account, key)
    # The owner of a claim we collide with may release it (an error answer) before we read
    # it; then the key is free again and we try to claim it once more.
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    account=account, key=key, request_hash=fingerprint, owner=this_process()
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(account=account, key=key).first()
            if record is not None:
                return record
        else:
            return None
    raise ApiError(
        "idempotency_conflict",
        "A request with this Idempotency-Key is still being processed.",
        status=409,
    )


def _replay(
    record: IdempotencyRecord, fingerprint: str, replay: Callable[[list[str]], Response]
) -> Response:
    if record.request_hash != fingerprint:
        raise ApiError(
            "idempotency_conflict",
            "This Idempotency-Key was used with a different request.",
            status=422,
        )
    if not record.completed and record.created_ids:
        # The work committed; its request died (or is about to store this same answer).
        response = replay(record.created_ids)
        _finish(record.account, record.key, response)
        return _replayed(response)
    if not record.completed:
        raise ApiError(
            "idempotency_conflict",
            "A request with this Idempotency-Key is still being processed.",
            status=409,
        )
    response = Response(record.response_body, status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    return _replayed(response)


def _replayed(response: Response) -> Response:
    response["Idempotent-Replayed"] = "true"
    return response


def _finish(account: Account, key: str, response: Response) -> None:
    if response.status_code >= 300:
        _release(account, key)
        return
    headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
    IdempotencyRecord.objects.filter(account=account, key=key).update(
        completed=True,
        response_status=response.status_code,
        response_body=response.data,
        response_headers=headers,
    )


def _release(account: Account, key: str) -> None:
    """Free the key after an error, unless work was committed under it (then it replays)."""
    IdempotencyRecord.objects.filter(
        account=account, key=key, completed=False, created_ids=[]
    ).delete()


def _cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.IDEMPOTENCY_TTL_S)


def _expire(account: Account, key: str) -> None:
    """Forget an expired record, or a claim whose request died before creating anything."""
    IdempotencyRecord.objects.filter(account=account, key=key, created_at__lt=_cutoff()).delete()
    claim = IdempotencyRecord.objects.filter(
        account=account, key=key, completed=False, created_ids=[]
    ).first()
    abandoned = timezone.now() - timedelta(seconds=ABANDONED_AFTER_S)
    if claim is not None and (claim.created_at < abandoned or not process_alive(claim.owner)):
        IdempotencyRecord.objects.filter(pk=claim.pk, completed=False, created_ids=[]).delete()


def purge_expired_records(*, now: datetime | None = None) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_cutoff(now)).delete()
    return deleted
