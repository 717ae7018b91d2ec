"""A counters-only cache on the database, for django-ratelimit without Redis.

Django's DatabaseCache increments by reading then writing, so two processes can both
pass a limit. Here `incr` is one `UPDATE ... RETURNING` and `add` one guarded INSERT, so
counts stay exact across web server processes. Values must be integers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import CounterEntry

_FOREVER = timedelta(days=3650)


class AtomicDatabaseCounterCache(BaseCache):
    def __init__(self, location: str = "", params: dict[str, Any] | None = None) -> None:
        super().__init__(params or {})

    def _expiry(self, timeout: Any) -> Any:
        seconds = self.get_backend_timeout(timeout)
        now = timezone.now()
        return now + (_FOREVER if seconds is None else timedelta(seconds=seconds))

    def add(
        self, key: str, value: int, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        full_key = self.make_and_validate_key(key, version=version)
        try:
            with transaction.atomic():
                CounterEntry.objects.filter(key=full_key, expires_at__lte=timezone.now()).delete()
                CounterEntry.objects.create(
                    key=full_key, value=int(value), expires_at=self._expiry(timeout)
                )
        except IntegrityError:
            return False
        return True

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        value = (
            CounterEntry.objects.filter(
                key=self.make_and_validate_key(key, version=version), expires_at__gt=timezone.now()
            )
            .values_list("value", flat=True)
            .first()
        )
        return default if value is None else value

    def set(
        self, key: str, value: int, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        CounterEntry.objects.update_or_create(
            key=self.make_and_validate_key(key, version=version),
            defaults={"value": int(value), "expires_at": self._expiry(timeout)},
        )

    def incr(self, key: str, delta: int = 1, version: Any = None) -> int:
        table = CounterEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = value + %s WHERE key = %s AND expires_at > %s "
                "RETURNING value",
                [delta, self.make_and_validate_key(key, version=version), timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        full_key = self.make_and_validate_key(key, version=version)
        return bool(
            CounterEntry.objects.filter(key=full_key, expires_at__gt=timezone.now()).update(
                expires_at=self._expiry(timeout)
            )
        )

    def delete(self, key: str, version: Any = None) -> bool:
        deleted, _ = CounterEntry.objects.filter(
            key=self.make_and_validate_key(key, version=version)
        ).delete()
        return bool(deleted)

    def has_key(self, key: str, version: Any = None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        CounterEntry.objects.all().delete()
