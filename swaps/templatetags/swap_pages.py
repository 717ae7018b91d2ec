"""Parts of other apps' pages that show swaps' data (accounts never imports swaps)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Account
from swaps.models import WebhookDelivery

register = template.Library()
WEBHOOK_ROWS = 10


@register.inclusion_tag("swaps/webhook_calls.html")
def recent_webhook_calls(account: Account) -> dict[str, Any]:
    """The account's latest webhook calls, for the developer dashboard."""
    return {
        "webhook_deliveries": WebhookDelivery.objects.filter(
            job__account=account, job__deleted_at__isnull=True
        )[:WEBHOOK_ROWS]
    }
