"""Rate windows in Redis (when REDIS_URL is set): one Lua script checks and counts all windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings

from accounts.windows import WINDOW_SECONDS, WindowStatus, limit_for, window_start

# All windows pass, then all are counted; if one is full, nothing is counted and the
# full one comes back as limit + 1. Atomic because Redis runs a script alone.
_CHECK_AND_COUNT = """
local n = #KEYS
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[i]) then
    local out = {}
    for j = 1, n do out[j] = tonumber(redis.call('GET', KEYS[j]) or '0') end
    out[i] = tonumber(ARGV[i]) + 1
    return out
  end
end
local out = {}
for i = 1, n do
  out[i] = redis.call('INCR', KEYS[i])
  redis.call('EXPIREAT', KEYS[i], ARGV[n + i])
end
return out
"""


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.script = self.client.register_script(_CHECK_AND_COUNT)

    @classmethod
    @cache
    def shared(cls) -> RedisCounter:
        return cls(settings.REDIS_URL)

    @staticmethod
    def _key(account: Any, scope: str, start: datetime) -> str:
        return f"faceswap:rate:{account.pk}:{scope}:{int(start.timestamp())}"

    def consume(self, account: Any, scopes: tuple[str, ...], now: datetime) -> list[WindowStatus]:
        starts = [window_start(scope, now) for scope in scopes]
        resets = [
            start + timedelta(seconds=WINDOW_SECONDS[scope])
            for scope, start in zip(scopes, starts, strict=True)
        ]
        limits = [limit_for(account.plan, scope) for scope in scopes]
        keys = [
            self._key(account, scope, start) for scope, start in zip(scopes, starts, strict=True)
        ]
        # Keys outlive their window a little, so a late reader still sees the count.
        expiries = [int(reset.timestamp()) + 60 for reset in resets]
        used = self.script(keys=keys, args=[*limits, *expiries])
        return [
            WindowStatus(scope, limit, int(count), reset)
            for scope, limit, count, reset in zip(scopes, limits, used, resets, strict=True)
        ]

    def peek(self, account: Any, scope: str, now: datetime) -> WindowStatus:
        start = window_start(scope, now)
        used = int(self.client.get(self._key(account, scope, start)) or 0)
        return WindowStatus(
            scope,
            limit_for(account.plan, scope),
            used,
            start + timedelta(seconds=WINDOW_SECONDS[scope]),
        )
