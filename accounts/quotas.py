"""The one home of quota and credit rules: rate windows, charges, refunds, grants.

Every balance change writes a ledger entry and moves `Account.credits` in the same
transaction, so the balance always equals the ledger's sum. Spending is one conditional
UPDATE (`credits >= cost`), so concurrent requests can never overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import (
    DEFAULT_PLAN_SLUG,
    Account,
    CreditEntry,
    LedgerKind,
    Plan,
    UsageWindow,
)


class QuotaError(Exception):
    """Carries an API code; faceswap_site.errors turns it into the envelope."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


# --- Credits --------------------------------------------------------------------------

def open_account(*, user: Any, plan: Plan | None = None, now: datetime | None = None) -> Account:
    """Create a user's account on the default plan with this month's grant."""
    with transaction.atomic():
        account, created = Account.objects.get_or_create(
            user=user, defaults={"plan": plan or Plan.objects.get(slug=DEFAULT_PLAN_SLUG)})
        if created:
            grant_monthly_credits(account=account, now=now)
    return account


def _move_credits(account: Account, amount: int, **entry: Any) -> CreditEntry:
    """Write the entry and move the balance together; refuses to go below zero."""
    with transaction.atomic():
        if amount < 0:
            moved = (Account.objects.filter(pk=account.pk, credits__gte=-amount)
                     .update(credits=F("credits") + amount))
            if moved != 1:
                raise insufficient_credits(account=account, required=-amount)
        else:
            Account.objects.filter(pk=account.pk).update(credits=F("credits") + amount)
        return CreditEntry.objects.create(account=account, amount=amount, **entry)


def insufficient_credits(*, account: Account, required: int) -> QuotaError:
    """The 402 for a request costing ``required`` credits in all, with today's balance."""
    return QuotaError("insufficient_credits", "Not enough credits.",
                      {"required": required, "balance": _balance(account)})


def _balance(account: Account) -> int:
    return Account.objects.values_list("credits", flat=True).get(pk=account.pk)


FRAMES_PER_CREDIT = 10


def job_cost(*, frames: int) -> int:
    """Credits a job costs: 1 for a still image; an animation 1 per started 10 frames."""
    if frames <= 1:
        return 1
    return -(-frames // FRAMES_PER_CREDIT)


def charge_for_job(*, account: Account, job: Any) -> None:
    """Take the job's cost; QuotaError(insufficient_credits) -> 402, and nothing is taken."""
    _move_credits(account, -job.cost, kind=LedgerKind.CHARGE, job=job,
                  reason=f"swap job {job.pk}")


def refund_job(*, job: Any, reason: str, by: Any = None) -> bool:
    """Give a job's cost back, at most once per job, however often this runs."""
    if not CreditEntry.objects.filter(job=job, kind=LedgerKind.CHARGE).exists():
        return False  # never charged, nothing to give back
    try:
        with transaction.atomic():
            _move_credits(job.account, job.cost, kind=LedgerKind.REFUND, job=job,
                          reason=reason[:200], created_by=by)
    except IntegrityError:  # the unique (job, refund) entry exists: already refunded
        return False
    return True


def adjust_credits(*, account: Account, amount: int, reason: str, by: Any = None) -> CreditEntry:
    """An operator's grant (amount > 0) or take (amount < 0), with its reason in the ledger."""
    if amount == 0 or not reason.strip():
        raise ValueError("An adjustment needs a non-zero amount and a reason.")
    return _move_credits(account, amount, kind=LedgerKind.ADJUSTMENT, reason=reason[:200],
                         created_by=by)


def current_period(now: datetime | None = None) -> str:
    return (now or timezone.now()).strftime("%Y-%m")


def grant_monthly_credits(*, account: Account, now: datetime | None = None) -> bool:
    """This month's plan grant; the unique (account, period) entry makes it once only."""
    period = current_period(now)
    amount = account.plan.monthly_credits
    if amount <= 0:
        return False
    try:
        with transaction.atomic():
            _move_credits(account, amount, kind=LedgerKind.GRANT, period=period,
                          reason=f"{account.plan.name} plan, {period}")
    except IntegrityError:
        return False
    return True


def grant_all_monthly_credits(*, now: datetime | None = None) -> int:
    """Scheduled: grant every account that has not had this month's grant yet."""
    period = current_period(now)
    pending = (Account.objects.select_related("plan").filter(plan__monthly_credits__gt=0)
               .exclude(ledger__kind=LedgerKind.GRANT, ledger__period=period))
    return sum(grant_monthly_credits(account=account, now=now) for account in pending)


def ledger_balance(account: Account) -> int:
    return account.ledger.aggregate(total=Sum("amount"))["total"] or 0


# --- Rate windows ---------------------------------------------------------------------

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
        return {"limit": self.limit, "remaining": self.remaining,
                "reset": int(self.reset_at.timestamp())}


def window_start(scope: str, now: datetime) -> datetime:
    seconds = WINDOW_SECONDS[scope]
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def limit_for(plan: Plan, scope: str) -> int:
    return {"hour": plan.hourly_limit, "day": plan.daily_limit,
            "read-hour": plan.read_hourly_limit}[scope]


def rate_headers(status: WindowStatus) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(status.limit),
            "X-RateLimit-Remaining": str(status.remaining),
            "X-RateLimit-Reset": str(int(status.reset_at.timestamp()))}


def consume_request(*, account: Account, writes: bool,
                    now: datetime | None = None) -> WindowStatus:
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
        {"window": refused.scope, "limit": refused.limit,
         "reset_at": refused.reset_at.isoformat()},
        headers=headers,
    )


def window_statuses(*, account: Account, now: datetime | None = None) -> dict[str, WindowStatus]:
    now = now or timezone.now()
    counter = _counter()
    return {scope: counter.peek(account, scope, now) for scope in ("hour", "day")}


def _counter() -> Any:
    if getattr(settings, "REDIS_URL", ""):
        from accounts.redis_counter import RedisCounter

        return RedisCounter.shared()
    return DatabaseCounter()


class DatabaseCounter:
    """Windows as rows; an increment is one conditional UPDATE per window."""

    def consume(self, account: Account, scopes: tuple[str, ...],
                now: datetime) -> list[WindowStatus]:
        statuses: list[WindowStatus] = []
        try:
            with transaction.atomic():
                for scope in scopes:
                    status = self._increment(account, scope, now)
                    statuses.append(status)
                    if status.used > status.limit:
                        raise _Refused(statuses)
        except _Refused as refused:  # rolled back: a refused request counts nothing
            return [s if s.used > s.limit else WindowStatus(s.scope, s.limit, s.used - 1,
                                                             s.reset_at)
                    for s in refused.statuses]
        return statuses

    def _increment(self, account: Account, scope: str, now: datetime) -> WindowStatus:
        limit = limit_for(account.plan, scope)
        start = window_start(scope, now)
        row, _ = UsageWindow.objects.get_or_create(account=account, scope=scope, starts_at=start)
        moved = (UsageWindow.objects.filter(pk=row.pk, count__lt=limit)
                 .update(count=F("count") + 1))
        used = UsageWindow.objects.values_list("count", flat=True).get(pk=row.pk)
        reset = start + timedelta(seconds=WINDOW_SECONDS[scope])
        return WindowStatus(scope, limit, used if moved else limit + 1, reset)

    def peek(self, account: Account, scope: str, now: datetime) -> WindowStatus:
        start = window_start(scope, now)
        used = (UsageWindow.objects.filter(account=account, scope=scope, starts_at=start)
                .values_list("count", flat=True).first()) or 0
        return WindowStatus(scope, limit_for(account.plan, scope), used,
                            start + timedelta(seconds=WINDOW_SECONDS[scope]))


class _Refused(Exception):
    def __init__(self, statuses: list[WindowStatus]) -> None:
        self.statuses = statuses
