"""Rate limits: each request counted in its plan's windows, or refused (429) counting nothing.

Windows live in the database (one conditional UPDATE per window) or, with REDIS_URL, in
Redis (one Lua script for all of a request's windows: `accounts.redis_counter`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account, UsageWindow
from accounts.quotas import QuotaError
from accounts.redis_counter import RedisCounter
from accounts.windows import WINDOW_SECONDS, WindowStatus, limit_for, window_start


def rate_headers(status: WindowStatus) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(status.limit),
        "X-RateLimit-Remaining": str(status.remaining),
        "X-RateLimit-Reset": str(int(status.reset_at.timestamp())),
    }


def consume_request(*, account: Account, writes: bool, now: datetime | None = None) -> WindowStatus:
    """Count one request in each of its windows, or refuse it (429) counting nothing.

    Returns the hourly write window, which the X-RateLimit-* headers describe.
    """
    now = now or timezone.now()
    scopes = ("hour", "day") if writes else ("read-hour",)
    counter = _counter()
    statuses = counter.consume(account, scopes, now)
    refused = next((s for s in statuses if s.used > s.limit), None)
    if refused is not None:
        raise _rate_limited(refused, hourly=_hourly(account, statuses, now), now=now)
    return _hourly(account, statuses, now)


def _hourly(account: Account, statuses: list[WindowStatus], now: datetime) -> WindowStatus:
    for status in statuses:
        if status.scope == "hour":
            return status
    return _counter().peek(account, "hour", now)


def _rate_limited(refused: WindowStatus, *, hourly: WindowStatus, now: datetime) -> QuotaError:
    retry_after = max(1, int((refused.reset_at - now).total_seconds()))
    headers = {**rate_headers(hourly), "Retry-After": str(retry_after)}
    return QuotaError(
        "rate_limit_exceeded",
        f"Your plan allows {refused.limit} requests per {refused.scope.replace('-', ' ')}.",
        {"window": refused.scope, "limit": refused.limit, "reset_at": refused.reset_at.isoformat()},
        headers=headers,
    )


def window_statuses(*, account: Account, now: datetime | None = None) -> dict[str, WindowStatus]:
    now = now or timezone.now()
    counter = _counter()
    return {scope: counter.peek(account, scope, now) for scope in ("hour", "day")}


def _counter() -> Any:
    if getattr(settings, "REDIS_URL", ""):
        return RedisCounter.shared()
    return DatabaseCounter()


class DatabaseCounter:
    """Windows as rows; an increment is one conditional UPDATE per window."""

    def consume(
        self, account: Account, scopes: tuple[str, ...], now: datetime
    ) -> list[WindowStatus]:
        statuses: list[WindowStatus] = []
        try:
            with transaction.atomic():
                for scope in scopes:
                    status = self._increment(account, scope, now)
                    statuses.append(status)
                    if status.used > status.limit:
                        raise _Refused(statuses)
        except _Refused as refused:  # rolled back: a refused request counts nothing
            return [
                s if s.used > s.limit else WindowStatus(s.scope, s.limit, s.used - 1, s.reset_at)
                for s in refused.statuses
            ]
        return statuses

    def _increment(self, account: Account, scope: str, now: datetime) -> WindowStatus:
        limit = limit_for(account.plan, scope)
        start = window_start(scope, now)
        row, _ = UsageWindow.objects.get_or_create(account=account, scope=scope, starts_at=start)
        moved = UsageWindow.objects.filter(pk=row.pk, count__lt=limit).update(count=F("count") + 1)
        used = UsageWindow.objects.values_list("count", flat=True).get(pk=row.pk)
        reset = start + timedelta(seconds=WINDOW_SECONDS[scope])
        return WindowStatus(scope, limit, used if moved else limit + 1, reset)

    def peek(self, account: Account, scope: str, now: datetime) -> WindowStatus:
        start = window_start(scope, now)
        used = (
            UsageWindow.objects.filter(account=account, scope=scope, starts_at=start)
            .values_list("count", flat=True)
            .first()
        ) or 0
        return WindowStatus(
            scope,
            limit_for(account.plan, scope),
            used,
            start + timedelta(seconds=WINDOW_SECONDS[scope]),
        )


class _Refused(Exception):
    def __init__(self, statuses: list[WindowStatus]) -> None:
        self.statuses = statuses
