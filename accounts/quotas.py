"""The one home of credit rules: opening accounts, charges, refunds, grants, adjustments.

Rate limits live beside it, in `accounts.rate_limits`.

Every balance change writes a ledger entry and moves `Account.credits` in the same
transaction, so the balance always equals the ledger's sum. Spending is one conditional
UPDATE (`credits >= cost`), so concurrent requests can never overspend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import DEFAULT_PLAN_SLUG, Account, CreditEntry, LedgerKind, Plan
from faceswap_site.codes import CodedError


class QuotaError(CodedError):
    """A refusal by the credit or rate rules (402, 429), with its headers."""


# --- Credits --------------------------------------------------------------------------


def account_for(*, user: Any) -> Account:
    """The user's account, opened (with this month's grant) on first use."""
    account = Account.objects.filter(user=user).select_related("plan").first()
    return account if account is not None else open_account(user=user)


def open_account(*, user: Any, plan: Plan | None = None, now: datetime | None = None) -> Account:
    """Create a user's account on the default plan with this month's grant."""
    with transaction.atomic():
        account, created = Account.objects.get_or_create(
            user=user, defaults={"plan": plan or Plan.objects.get(slug=DEFAULT_PLAN_SLUG)}
        )
        if created:
            grant_monthly_credits(account=account, now=now)
    return account


def _move_credits(
    account: Account, amount: int, *, open_only: bool = False, **entry: Any
) -> CreditEntry:
    """Write the entry and move the balance together; refuses to go below zero and, with
    ``open_only``, to charge a closed account."""
    with transaction.atomic():
        if amount < 0:
            accounts = Account.objects.filter(pk=account.pk, credits__gte=-amount)
            if open_only:
                accounts = accounts.filter(closed_at__isnull=True)
            if accounts.update(credits=F("credits") + amount) != 1:
                raise _refusal(account, required=-amount)
        else:
            Account.objects.filter(pk=account.pk).update(credits=F("credits") + amount)
        return CreditEntry.objects.create(account=account, amount=amount, **entry)


def _refusal(account: Account, *, required: int) -> QuotaError:
    if Account.objects.filter(pk=account.pk, closed_at__isnull=False).exists():
        return QuotaError("permission_denied", "This account is closed.")
    return insufficient_credits(account=account, required=required)


def insufficient_credits(*, account: Account, required: int) -> QuotaError:
    """The 402 for a request costing ``required`` credits in all, with today's balance."""
    return QuotaError(
        "insufficient_credits",
        "Not enough credits.",
        {"required": required, "balance": _balance(account)},
    )


def _balance(account: Account) -> int:
    return Account.objects.values_list("credits", flat=True).get(pk=account.pk)


FRAMES_PER_CREDIT = 10


def job_cost(*, frames: int) -> int:
    """Credits a job costs: 1 for a still image; an animation 1 per started 10 frames."""
    if frames <= 1:
        return 1
    return -(-frames // FRAMES_PER_CREDIT)


def charge_for_job(*, account: Account, job: Any) -> None:
    """Take the job's cost; QuotaError(insufficient_credits) -> 402, and nothing is taken.

    A closed account is never charged (403 permission_denied): the check is part of the
    charge's UPDATE, so no job can start after accounts.services.close_account marked it.
    """
    _move_credits(
        account,
        -job.cost,
        open_only=True,
        kind=LedgerKind.CHARGE,
        job=job,
        reason=f"swap job {job.pk}",
    )


def refund_job(*, job: Any, reason: str, by: Any = None) -> bool:
    """Give a job's cost back, at most once per job, however often this runs."""
    if not CreditEntry.objects.filter(job=job, kind=LedgerKind.CHARGE).exists():
        return False  # never charged, nothing to give back
    try:
        with transaction.atomic():
            _move_credits(
                job.account,
                job.cost,
                kind=LedgerKind.REFUND,
                job=job,
                reason=reason[:200],
                created_by=by,
            )
    except IntegrityError:  # the unique (job, refund) entry exists: already refunded
        return False
    return True


def adjust_credits(*, account: Account, amount: int, reason: str, by: Any = None) -> CreditEntry:
    """An operator's grant (amount > 0) or take (amount < 0), with its reason in the ledger."""
    if amount == 0 or not reason.strip():
        raise ValueError("An adjustment needs a non-zero amount and a reason.")
    return _move_credits(
        account, amount, kind=LedgerKind.ADJUSTMENT, reason=reason[:200], created_by=by
    )


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
            _move_credits(
                account,
                amount,
                kind=LedgerKind.GRANT,
                period=period,
                reason=f"{account.plan.name} plan, {period}",
            )
    except IntegrityError:
        return False
    return True


def grant_all_monthly_credits(*, now: datetime | None = None) -> int:
    """Scheduled: grant every account that has not had this month's grant yet."""
    period = current_period(now)
    pending = (
        Account.objects.select_related("plan")
        .filter(plan__monthly_credits__gt=0, closed_at__isnull=True)
        .exclude(ledger__kind=LedgerKind.GRANT, ledger__period=period)
    )
    return sum(grant_monthly_credits(account=account, now=now) for account in pending)


def ledger_balance(account: Account) -> int:
    return account.ledger.aggregate(total=Sum("amount"))["total"] or 0
