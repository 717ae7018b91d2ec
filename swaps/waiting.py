"""Answering with a job's end instead of its acceptance: `Prefer: wait=N` (RFC 7240) and
the synchronous compatible routes.

A view makes its jobs as always, then hands `answer_when_done` the answer to give if
they are still running after N seconds (the usual 202, or a route's own timeout answer)
and `finish`, which renders the final answer. Under `manage.py serve` the request's
WaitSlot (faceswap_site.front_door) takes the plan: the view returns at once, its thread
goes back to the pool, and the server waits on its event loop. Under another WSGI
server (or Django's test client) there is no slot: this thread polls the database until
the jobs end or the time is up (a thread per waiting request, as such servers have).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework.renderers import JSONRenderer

from faceswap_site.front_door import WAIT_SLOT, WaitPlan
from swaps.models import JobStatus, SwapJob

MAX_WAIT_S = 60
ENDED = (JobStatus.COMPLETED, JobStatus.FAILED)
FALLBACK_POLL_S = 0.05
# One preference of a Prefer header: a token, optionally "=value" (RFC 7240 section 2).
_PREFERENCE = re.compile(r'^\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*"?([^";]*)"?)?')


def preferred_wait(request: HttpRequest) -> int | None:
    """Seconds asked for by `Prefer: wait=N`, at most MAX_WAIT_S; None if not asked.

    As RFC 7240 says of preferences a server cannot honour, a malformed value is
    ignored (no wait) and one over the cap is honoured up to the cap.
    """
    for preference in request.headers.get("Prefer", "").split(","):
        found = _PREFERENCE.match(preference)
        if found and found.group(1).lower() == "wait":
            value = (found.group(2) or "").strip()
            return min(int(value), MAX_WAIT_S) if value.isdigit() else None
    return None


def applied(seconds: int) -> dict[str, str]:
    return {"Preference-Applied": f"wait={seconds}"}


def ended_jobs(ids: set[str]) -> set[str]:
    """Those of `ids` whose jobs have ended (completed or failed): one indexed read."""
    try:
        found = SwapJob.objects.filter(pk__in=ids, status__in=ENDED).values_list("pk", flat=True)
        return {str(pk) for pk in found}
    except Exception:
        connection.close()  # a broken connection (database restart) is made anew next time
        raise


def answer_when_done(
    request: HttpRequest,
    pending: HttpResponseBase,
    *,
    job_ids: Sequence[Any],
    seconds: float,
    finish: Callable[[], HttpResponse],
) -> HttpResponseBase:
    """`pending` now or after `seconds`, or finish()'s answer once every job has ended."""
    if seconds <= 0 or not job_ids:
        return pending
    plan = WaitPlan(
        job_ids=tuple(str(job_id) for job_id in job_ids),
        seconds=seconds,
        check=ended_jobs,
        finish=finish,
    )
    slot = request.META.get(WAIT_SLOT)
    if slot is not None:
        # The server waits, with no thread, and calls finish() in its pool later.
        slot.plan = WaitPlan(**{**plan.__dict__, "finish": _closing(finish)})
        return pending
    return _wait_here(plan, pending)


def _wait_here(plan: WaitPlan, pending: HttpResponseBase) -> HttpResponseBase:
    deadline = time.monotonic() + plan.seconds
    ids = set(plan.job_ids)
    while ended_jobs(ids) != ids:
        if time.monotonic() >= deadline:
            return pending
        time.sleep(FALLBACK_POLL_S)
    return plan.finish()


def _closing(finish: Callable[[], HttpResponse]) -> Callable[[], HttpResponse]:
    """finish() outside a request cycle (the server's pool) closes its connections as a
    request's end would (CONN_MAX_AGE applies)."""

    def run() -> HttpResponse:
        try:
            return finish()
        finally:
            close_old_connections()

    return run


def json_answer(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    """A JSON answer rendered as DRF renders the API's (for finish functions, which run
    outside DRF's request cycle)."""
    response = HttpResponse(
        JSONRenderer().render(data), status=status, content_type="application/json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def bytes_answer(
    data: bytes, *, content_type: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
