"""Rate limits: each request counted in its plan's windows, or refused (429) counting nothing.

Windows live in the database (one conditional UPDATE per window) or, with REDIS_URL, in
Redis (one Lua script for all of a request's windows: `accounts.redis_counter`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
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
    """Windows as rows; a request's windows are counted by one INSERT ... ON CONFLICT DO
    UPDATE (SQLite >= 3.35 and PostgreSQL alike) that moves only windows under their limit
    and returns the counts it moved. One statement instead of a read, a conditional UPDATE
    and a re-read per window: the web process's CPU per request matters on a shared host."""

    def consume(
        self, account: Account, scopes: tuple[str, ...], now: datetime
    ) -> list[WindowStatus]:
        windows = [
            (scope, limit_for(account.plan, scope), window_start(scope, now)) for scope in scopes
        ]
        try:
            with transaction.atomic():
                moved = _count_windows(account.pk, windows)
                statuses = [
                    WindowStatus(
                        scope,
                        limit,
                        moved.get(scope, limit + 1),  # not moved: it was full
                        start + timedelta(seconds=WINDOW_SECONDS[scope]),
                    )
                    for scope, limit, start in windows
                ]
                if any(s.used > s.limit for s in statuses):
                    raise _Refused(statuses)
        except _Refused as refused:  # rolled back: a refused request counts nothing
            return [
                s if s.used > s.limit else WindowStatus(s.scope, s.limit, s.used - 1, s.reset_at)
                for s in refused.statuses
            ]
        return statuses

    def peek(self, account: Account, scope: str, now: datetime) -> WindowStatus:
        start = window_start(scope, now)
        used = _window_count(account.pk, scope, start)
        return WindowStatus(
            scope,
            limit_for(account.plan, scope),
            used,
            start + timedelta(seconds=WINDOW_SECONDS[scope]),
        )


def _count_windows(account_id: int, windows: list[tuple[str, int, datetime]]) -> dict[str, int]:
    """Add one to each (scope, limit, start) window still under its limit, creating it at
    1 when new; {scope: its count now} of the windows that moved."""
    table = connection.ops.quote_name(UsageWindow._meta.db_table)
    rows = ", ".join(["(%s, %s, %s, 1)"] * len(windows))
    limits = " ".join(["WHEN %s THEN %s"] * len(windows))
    params: list[Any] = []
    for scope, _limit, start in windows:
        params += [account_id, scope, connection.ops.adapt_datetimefield_value(start)]
    for scope, limit, _start in windows:
        params += [scope, limit]
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} (account_id, scope, starts_at, "count") VALUES {rows} '
            'ON CONFLICT (account_id, scope, starts_at) DO UPDATE SET "count" = '
            f'{table}."count" + 1 WHERE {table}."count" < (CASE {table}.scope {limits} END) '
            'RETURNING scope, "count"',
            params,
        )
        return dict(cursor.fetchall())


def _window_count(account_id: int, scope: str, start: datetime) -> int:
    """A window's count, 0 if it has no row. Every read request asks (its headers show the
    hourly write window): one plain SELECT; through the ORM it cost ~0.4 ms of CPU."""
    table = connection.ops.quote_name(UsageWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "count" FROM {table} WHERE account_id = %s AND scope = %s AND starts_at = %s',
            [account_id, scope, connection.ops.adapt_datetimefield_value(start)],
        )
        row = cursor.fetchone()
    return row[0] if row else 0


class _Refused(Exception):
    def __init__(self, statuses: list[WindowStatus]) -> None:
        self.statuses = statuses
