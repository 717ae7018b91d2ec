"""Job and credit metrics, read from the database when Prometheus scrapes.

Why from the database and not counters kept by the workers: workers run on other
machines, as separate processes that come and go (django-q2 recycles them, a crash drill
kills them); a counter in a worker is seen only if that very process is scraped. The
database is the one place every machine writes its jobs and ledger to, so any web
process answers for the whole service, across restarts. The cost is a few aggregate
queries per scrape (indexed on status; histograms are one query each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from accounts.models import CreditEntry, LedgerKind
from swaps.models import JobStatus, SwapJob

# Seconds. A job swaps in 0.1-2 s (a GIF in up to a minute); a wait is 0 idle, minutes busy.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
WAIT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class JobCollector:
    """prometheus_client collector: jobs by status, queue depth, durations, credits."""

    def __init__(self, *, broker_queue_size: Any = None) -> None:
        self._broker_queue_size = broker_queue_size  # () -> int, or None

    def collect(self) -> Iterator[Metric]:
        yield _jobs_by_status()
        yield GaugeMetricFamily(
            "faceswap_queue_depth",
            "Jobs accepted and not yet started (pending), all machines.",
            value=SwapJob.objects.visible().filter(status=JobStatus.PENDING).count(),
        )
        if self._broker_queue_size is not None:
            yield GaugeMetricFamily(
                "faceswap_broker_queue_size",
                "Tasks waiting in django-q2's broker (Redis list or ORM queue).",
                value=self._broker_queue_size(),
            )
        yield _duration_histogram()
        yield _wait_histogram()
        yield from _credits()


def _jobs_by_status() -> Metric:
    family = GaugeMetricFamily(
        "faceswap_jobs", "Swap jobs by status (deleted ones included).", labels=["status"]
    )
    counts = dict(SwapJob.objects.values_list("status").annotate(n=Count("pk")))
    for status in JobStatus.values:
        family.add_metric([status], counts.get(status, 0))
    return family


def _duration_histogram() -> Metric:
    done = SwapJob.objects.filter(processing_ms__isnull=False)
    aggregates = {
        f"le_{i}": Count("pk", filter=Q(processing_ms__lte=b * 1000))
        for i, b in enumerate(DURATION_BUCKETS)
    }
    row = done.aggregate(total=Count("pk"), ms=Sum("processing_ms"), **aggregates)
    return _histogram(
        "faceswap_job_duration_seconds",
        "Processing time of finished jobs (engine, encode, store), from the job rows.",
        DURATION_BUCKETS,
        row,
        (row["ms"] or 0) / 1000,
    )


def _wait_histogram() -> Metric:
    wait = ExpressionWrapper(F("claimed_at") - F("created_at"), output_field=DurationField())
    started = SwapJob.objects.filter(claimed_at__isnull=False).annotate(wait=wait)
    aggregates = {
        f"le_{i}": Count("pk", filter=Q(wait__lte=timedelta(seconds=b)))
        for i, b in enumerate(WAIT_BUCKETS)
    }
    row = started.aggregate(total=Count("pk"), waited=Sum("wait"), **aggregates)
    waited = row["waited"]
    seconds = waited.total_seconds() if isinstance(waited, timedelta) else (waited or 0) / 1e6
    return _histogram(
        "faceswap_job_wait_seconds",
        "Time from accepted to picked up by a worker (the last claim of a job run twice).",
        WAIT_BUCKETS,
        row,
        seconds,
    )


def _histogram(
    name: str, doc: str, bounds: Sequence[float], row: dict[str, Any], total: float
) -> Metric:
    buckets = [(str(b), row[f"le_{i}"]) for i, b in enumerate(bounds)]
    buckets.append(("+Inf", row["total"]))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=total)


def _credits() -> Iterator[Metric]:
    sums = dict(
        CreditEntry.objects.filter(kind__in=[LedgerKind.CHARGE, LedgerKind.REFUND])
        .values_list("kind")
        .annotate(total=Sum("amount"))
    )
    yield CounterMetricFamily(
        "faceswap_credits_charged",
        "Credits taken for accepted jobs, ever (from the ledger).",
        value=-(sums.get(LedgerKind.CHARGE) or 0),
    )
    yield CounterMetricFamily(
        "faceswap_credits_refunded",
        "Credits given back for failed or cancelled jobs, ever (from the ledger).",
        value=sums.get(LedgerKind.REFUND) or 0,
    )
