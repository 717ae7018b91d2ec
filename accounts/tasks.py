"""django-q2 schedules of accounts (registered in swaps.schedules)."""

from accounts import idempotency, quotas


def grant_monthly_credits() -> int:
    # Hourly, so a new month's grant lands within the hour; the ledger's unique
    # (account, period) entry makes every extra run a no-op.
    return quotas.grant_all_monthly_credits()


def purge_idempotency_records() -> int:
    return idempotency.purge_expired_records()
