"""Dashboard workflows: API keys, the webhook secret, closing an account, its export.

Raw keys and secrets are returned to the caller to show once; they are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import usage
from accounts.keys import NewKey, create_api_key
from accounts.models import (
    Account,
    ApiKey,
    CreditEntry,
    IdempotencyRecord,
    UsageWindow,
    new_webhook_secret,
)
from accounts.signals import account_closing, account_export

logger = logging.getLogger(__name__)

# A bound on active keys, so a leaked session cannot mint keys without end.
MAX_ACTIVE_KEYS = 20


class KeyLimitReached(Exception):
    pass


def create_key(*, account: Account, name: str) -> NewKey:
    """A new active key for `account`; its raw value exists only in the returned NewKey."""
    with transaction.atomic():
        # Lock the account row so two concurrent creations cannot both pass the cap.
        list(Account.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        if ApiKey.objects.filter(account=account).active().count() >= MAX_ACTIVE_KEYS:
            raise KeyLimitReached(
                f"You already have {MAX_ACTIVE_KEYS} active keys; revoke one first."
            )
        new = create_api_key(account=account, name=name.strip())
    logger.info("API key %s created for account %s", new.key.prefix, account.pk)
    return new


def revoke_key(*, account: Account, key_id: int) -> ApiKey | None:
    """Revoke one of `account`'s keys; None when it has no such key (someone else's)."""
    key = ApiKey.objects.filter(account=account, pk=key_id).first()
    if key is None:
        return None
    key.revoke()  # a no-op on a revoked key: the first revocation time stays
    logger.info("API key %s revoked for account %s", key.prefix, account.pk)
    return key


def rotate_webhook_secret(*, account: Account) -> str:
    """Replace the secret at once; webhooks signed from now on use the new one."""
    secret = new_webhook_secret()
    Account.objects.filter(pk=account.pk).update(webhook_secret=secret)
    account.webhook_secret = secret
    logger.info("Webhook secret rotated for account %s", account.pk)
    return secret


# --- Closing an account ("delete my account") ---------------------------------------------


def close_account(*, account: Account) -> None:
    """Erase the account's data and anonymise it; keep only the ledger (amounts, dates).

    Each step is safe to repeat, so a closing stopped half-way (a crash, a storage error)
    completes when run again. Keys are revoked first, so no new API work arrives while
    the other apps erase theirs (`account_closing`); once closed_at is committed no job
    can be charged (accounts.quotas.charge_for_job), so none can appear behind the erasure.
    """
    now = timezone.now()
    with transaction.atomic():
        Account.objects.filter(pk=account.pk, closed_at__isnull=True).update(closed_at=now)
        ApiKey.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now)
    account_closing.send(sender=Account, account=account)
    with transaction.atomic():
        ApiKey.objects.filter(account=account).delete()
        IdempotencyRecord.objects.filter(account=account).delete()  # replayable bodies
        UsageWindow.objects.filter(account=account).delete()
        Account.objects.filter(pk=account.pk).update(webhook_secret="")
        _anonymise_user(account.user, account_id=account.pk)
    logger.info("account %s closed and anonymised", account.pk)


def _anonymise_user(user: Any, *, account_id: int) -> None:
    # The user row stays (the account and its ledger hang on it) without anything personal;
    # an unusable password and is_active=False end every session it had.
    user.username = f"deleted-{account_id}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.set_unusable_password()
    user.save()


# --- Export ("download my data") ----------------------------------------------------------

EXPORT_FORMAT = 1


def export_account(*, account: Account, absolute_url: Callable[[str], str]) -> dict[str, Any]:
    """Everything kept about the account, as JSON-ready data: never a secret or a hash."""
    account = Account.objects.select_related("plan", "user").get(pk=account.pk)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "account": _account_part(account),
        "api_keys": [_key_part(key) for key in account.api_keys.order_by("created_at")],
        "usage": _usage_part(account),
        "ledger": [_entry_part(entry) for entry in account.ledger.order_by("created_at", "pk")],
    }
    for _receiver, sections in account_export.send(
        sender=Account, account=account, absolute_url=absolute_url
    ):
        data.update(sections)
    return data


def _account_part(account: Account) -> dict[str, Any]:
    user, plan = account.user, account.plan
    return {
        "id": account.pk,
        "email": user.email,
        "name": user.get_full_name(),
        "date_joined": user.date_joined.isoformat(),
        "created_at": account.created_at.isoformat(),
        "credits": account.credits,
        "plan": {
            "slug": plan.slug,
            "name": plan.name,
            "hourly_limit": plan.hourly_limit,
            "daily_limit": plan.daily_limit,
            "monthly_credits": plan.monthly_credits,
            "watermark_by_default": plan.watermark_by_default,
        },
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _key_part(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "created_at": _iso(key.created_at),
        "last_used_at": _iso(key.last_used_at),
        "revoked_at": _iso(key.revoked_at),
    }


def _usage_part(account: Account) -> dict[str, Any]:
    windows = UsageWindow.objects.filter(account=account).order_by("scope", "starts_at")
    return {
        "windows": [
            {"scope": w.scope, "starts_at": w.starts_at.isoformat(), "count": w.count}
            for w in windows
        ],
        "daily": [
            {
                "day": day.day.isoformat(),
                "requests": day.requests,
                "credits_added": day.credits_added,
                "credits_spent": day.credits_spent,
            }
            for day in usage.daily_usage(account=account)
        ],
    }


def _entry_part(entry: CreditEntry) -> dict[str, Any]:
    return {
        "created_at": entry.created_at.isoformat(),
        "kind": entry.kind,
        "amount": entry.amount,
        "reason": entry.reason,
        "period": entry.period,
        "job_id": str(entry.job_id) if entry.job_id else None,
    }
