"""Rate windows: their lengths, where one starts, a plan's limit in it, and its state.

Shared by the database and the Redis counters (`accounts.rate_limits`,
`accounts.redis_counter`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from accounts.models import Plan

WINDOW_SECONDS = {"hour": 3600, "day": 86400, "read-hour": 3600}


@dataclass(frozen=True)
class WindowStatus:
    scope: str
    limit: int
    used: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def as_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": int(self.reset_at.timestamp()),
        }


def window_start(scope: str, now: datetime) -> datetime:
    seconds = WINDOW_SECONDS[scope]
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def limit_for(plan: Plan, scope: str) -> int:
    return {
        "hour": plan.hourly_limit,
        "day": plan.daily_limit,
        "read-hour": plan.read_hourly_limit,
    }[scope]
