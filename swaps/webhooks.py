"""Webhooks: when a job ends, a signed POST of its job object, retried with backoff for a day.

* create: `check_webhook_url` applies the URL rules that need no DNS (swaps.net.url_policy);
* end of a job: `notify_job_ended`, in the transaction that ends it, stores one
  WebhookDelivery and enqueues its first attempt once that commits;
* an attempt (`deliver`) first claims the delivery with one conditional UPDATE that also
  pushes next_attempt_at a lease ahead, so two workers never send the same attempt; a worker
  that dies mid-attempt leaves it due again once the lease ends;
* every minute `deliver_due` (a schedule) makes the attempts that are due, oldest first,
  within a time budget that keeps the task inside the worker timeout; runs may overlap,
  the claim keeps them apart. Doing them in the task rather than enqueueing one task each
  means a backed-up queue never fills with copies of the same due delivery.

Logs name the host, status, attempt and ids; never the body, the URL's path or a secret.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from swaps import broker, compat_bodies, webhook_urls
from swaps.api.serializers import SwapJobSerializer
from swaps.models import DeliveryStatus, SwapJob, WebhookDelivery
from swaps.net import webhook_post
from swaps.net.webhook_post import AttemptResult

logger = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)  # after the first attempt; then the delivery has failed
BACKOFF_FIRST_S = 30
BACKOFF_FACTOR = 4  # 30 s, 2 min, 8 min, 32 min, 2 h 8 min, then every BACKOFF_CAP_S
BACKOFF_CAP_S = 3 * 3600
DUE_BATCH = 500
DUE_BUDGET_S = 50.0  # per run of deliver_due


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the attempts-th failed attempt."""
    exponent = min(max(attempts - 1, 0), 10)
    return timedelta(seconds=min(BACKOFF_FIRST_S * BACKOFF_FACTOR**exponent, BACKOFF_CAP_S))


# --- Scheduling -----------------------------------------------------------------------------


def notify_job_ended(job: SwapJob) -> None:
    """Call inside the transaction that makes the job final."""
    if not job.webhook_url:
        return
    delivery = WebhookDelivery.objects.create(
        job=job, url=job.webhook_url, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: enqueue_delivery(delivery_id=delivery.pk))


def enqueue_delivery(*, delivery_id: int) -> None:
    # save=False: the delivery row records the attempt; a failed task is still saved.
    broker.enqueue(
        "swaps.tasks.deliver_webhook", delivery_id, task_name=f"webhook-{delivery_id}", save=False
    )


def deliver_due() -> int:
    """Make the due attempts, oldest first, while the budget lasts; returns how many."""
    started = time.monotonic()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    made = 0
    for delivery_id in due:
        if made and time.monotonic() - started > _budget_s():
            break  # the rest wait for the next run, a minute from now
        if deliver(delivery_id=delivery_id):
            made += 1
    return made


def _budget_s() -> float:
    # Started before the budget ends, the last attempt still ends within the worker timeout.
    spare = settings.Q_CLUSTER["timeout"] - 2 * settings.WEBHOOK_TIMEOUT_S
    return max(0.0, min(DUE_BUDGET_S, spare))


# --- One attempt ----------------------------------------------------------------------------


def deliver(*, delivery_id: int) -> bool:
    """One attempt if the delivery is due; False if not due, final, or another worker's."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return False
    job = delivery.job
    if job.deleted_at is not None:
        _record(delivery, AttemptResult(status=None, error="job_deleted"), final=True)
        return True
    try:
        result = _attempt(delivery, job)
    except Exception:  # our bug, not the endpoint's: count the attempt, retry as usual
        logger.exception(
            "webhook %s: attempt %d could not be made", delivery.webhook_id, delivery.attempts
        )
        result = AttemptResult(status=None, error="internal_error")
    _record(delivery, result)
    return True


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        next_attempt_at=now + _lease(),
        first_attempt_at=Coalesce("first_attempt_at", Value(now, output_field=DateTimeField())),
    )
    if claimed != 1:
        return None
    return WebhookDelivery.objects.select_related("job__account").get(pk=delivery_id)


def _lease() -> timedelta:
    # Longer than a worker may run a task (the broker's retry exceeds its timeout), so an
    # attempt still under way is never claimed a second time.
    return timedelta(seconds=settings.Q_CLUSTER["retry"])


def _attempt(delivery: WebhookDelivery, job: SwapJob) -> AttemptResult:
    body = job_body(job)
    headers = webhook_post.signed_headers(
        secret=job.account.webhook_secret,
        webhook_id=str(delivery.webhook_id),
        timestamp=int(timezone.now().timestamp()),
        body=body,
    )
    result = webhook_post.post_webhook(
        delivery.url, body=body, headers=headers, policy=webhook_urls.webhook_policy()
    )
    logger.info(
        "webhook %s job=%s host=%s attempt=%d status=%s error=%s",
        delivery.webhook_id,
        job.pk,
        urlsplit(delivery.url).hostname,
        delivery.attempts,
        result.status,
        result.error or "-",
    )
    return result


def job_body(job: SwapJob) -> bytes:
    """The job object exactly as GET /api/v1/swaps/{id} shows it, as JSON bytes; for a job
    of the useapi or ModelsLab route, the body that route answers (swaps.compat_bodies)."""
    shaped = compat_bodies.webhook_body(job, base_url=settings.PUBLIC_BASE_URL)
    if shaped is not None:
        return JSONRenderer().render(shaped)
    data = SwapJobSerializer(job).data
    if data.get("result_url"):  # no request here to make it absolute from
        data["result_url"] = urljoin(settings.PUBLIC_BASE_URL, data["result_url"])
    return JSONRenderer().render(data)


def _record(delivery: WebhookDelivery, result: AttemptResult, *, final: bool = False) -> None:
    next_at = None if result.ok or final else _next_attempt_at(delivery)
    if result.ok:
        status = DeliveryStatus.DELIVERED
    else:
        status = DeliveryStatus.PENDING if next_at else DeliveryStatus.FAILED
    # Only our own claim: a worker that outlived its lease must not overwrite a newer attempt.
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        status=status, next_attempt_at=next_at, last_status=result.status, last_error=result.error
    )
    if status == DeliveryStatus.FAILED:
        logger.warning(
            "webhook %s job=%s: gave up after %d attempts",
            delivery.webhook_id,
            delivery.job_id,
            delivery.attempts,
        )


def _next_attempt_at(delivery: WebhookDelivery) -> datetime | None:
    """Counted from the start of the attempt; None once past the retry window."""
    next_at = delivery.last_attempt_at + retry_delay(delivery.attempts)
    return next_at if next_at <= delivery.first_attempt_at + RETRY_WINDOW else None
