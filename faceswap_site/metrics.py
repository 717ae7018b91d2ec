"""Prometheus metrics at /metrics, behind METRICS_TOKEN (unset: the route is a 404).

Requests are counted by the web process that answers them. A machine runs WEB_WORKERS
web processes and a scrape reaches one of them, so with METRICS_TOKEN set the counts go
through prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, a folder per
machine: settings.py defaults it to VAR_DIR/metrics) and every process answers for all
of its machine. Jobs and credits come from the database at scrape time
(swaps.metrics): the same figures from any machine, so scrape them from one, or
aggregate with max().
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.brokers import get_broker
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from swaps.metrics import JobCollector

REQUESTS = Counter(
    "faceswap_http_requests",
    "HTTP requests answered, by URL name, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "faceswap_http_request_duration_seconds",
    "Time to answer a request (until the view returns; streamed bodies not included).",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class MetricsMiddleware:
    """Counts each request under its URL's name (bounded labels; never the raw path)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.METRICS_TOKEN:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The URL's name (e.g. "api:swap-detail"): DRF's router routes are regexes, and a raw
        # path would make a label value per job id.
        route = (match.view_name or match.route) if match is not None else "unmatched"
        REQUESTS.labels(route, _method(request.method), str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


def _method(method: str | None) -> str:
    known = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    return method if method in known else "other"  # a client picks the method


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("metrics need the bearer token\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = _requests_registry()
    registry.register(JobCollector(broker_queue_size=lambda: get_broker().queue_size()))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _requests_registry() -> CollectorRegistry:
    """This machine's request metrics: every web process's (multiprocess mode), or this
    process's own when no multiprocess folder is set (tests, a single process)."""
    registry = CollectorRegistry()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        MultiProcessCollector(registry, path=folder)
    else:
        for collector in (REQUESTS, LATENCY):
            registry.register(collector)
    return registry
