"""Plans, accounts, the credit ledger, usage windows, API keys, idempotency records."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

DEFAULT_PLAN_SLUG = "free"


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Plan(models.Model):
    """Plans are data: operators edit limits and grants in the admin."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=50)
    hourly_limit = models.PositiveIntegerField(help_text="Requests that create work, per hour.")
    daily_limit = models.PositiveIntegerField(help_text="Requests that create work, per day.")
    read_hourly_limit = models.PositiveIntegerField(
        default=3600, help_text="Anti-abuse limit on reads (GET), per hour."
    )
    monthly_credits = models.PositiveIntegerField(help_text="Credits granted each month.")
    watermark_by_default = models.BooleanField(default=False)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    credits = models.IntegerField(
        default=0, editable=False, help_text="Always the sum of the ledger; change it there."
    )
    webhook_secret = models.CharField(max_length=80, default=new_webhook_secret)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when its owner deleted it: the row stays, anonymised, for the ledger alone.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=0), name="account_credits_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.user.email or self.user.username} ({self.plan})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The balance moves only by ledger updates (accounts.quotas); a save of a stale
        # instance (admin form, plan change) must never write an old balance back.
        if (
            self.pk is not None
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "credits"
            ]
        super().save(*args, **kwargs)


class LedgerKind(models.TextChoices):
    GRANT = "grant"
    CHARGE = "charge"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class CreditEntry(models.Model):
    """One change of a balance; the balance is the sum of its account's entries."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    amount = models.IntegerField(help_text="Positive adds credits, negative takes them.")
    reason = models.CharField(max_length=200, blank=True)
    job = models.ForeignKey(
        "swaps.SwapJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    period = models.CharField(max_length=7, blank=True, help_text="YYYY-MM of a monthly grant.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "credit entries"
        constraints = [
            # The database itself refuses a second refund (or charge) of one job ...
            models.UniqueConstraint(
                fields=["job", "kind"],
                name="one_entry_per_job_and_kind",
                condition=Q(kind__in=["charge", "refund"]),
            ),
            # ... and a second monthly grant.
            models.UniqueConstraint(
                fields=["account", "period"],
                name="one_grant_per_period",
                condition=Q(kind="grant") & ~Q(period=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} for {self.account_id}"


class UsageWindow(models.Model):
    """Requests counted in one fixed window (hour or day) of one account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage")
    scope = models.CharField(max_length=16)  # "hour", "day", "read-hour"
    starts_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "scope", "starts_at"], name="one_usage_row_per_window"
            )
        ]
        indexes = [models.Index(fields=["account", "scope", "-starts_at"])]

    def __str__(self) -> str:
        return f"{self.scope} from {self.starts_at:%Y-%m-%d %H:%M}: {self.count}"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """Only the prefix (to find the row) and a hash of the secret are stored."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])


class IdempotencyRecord(models.Model):
    """The first response to a POST with an Idempotency-Key, replayed for repeats."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    # Ids of what the request created, written in the transaction that created it: a
    # retry after a crash between that commit and `completed` answers with them.
    created_ids = models.JSONField(default=list)
    # The process handling the request ("host:pid"): a claim whose process died is free.
    owner = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], name="one_record_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"idempotency key of account {self.account_id}"


class CounterEntry(models.Model):
    """Storage of accounts.counter_cache (django-ratelimit's counters without Redis)."""

    key = models.CharField(max_length=250, unique=True)
    value = models.BigIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key
