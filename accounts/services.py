"""Dashboard workflows: API keys and the webhook secret.

Raw keys and secrets are returned to the caller to show once; they are never logged.
"""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.keys import NewKey, create_api_key
from accounts.models import Account, ApiKey, new_webhook_secret

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
