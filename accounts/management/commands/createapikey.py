"""Create a user (and account) if needed, then a new API key printed alone on the last line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from accounts import quotas
from accounts.keys import create_api_key
from accounts.models import Account, Plan


class Command(BaseCommand):
    help = "Create an API key for a user, creating the user and account if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="A label for the key.")
        parser.add_argument("--plan", help="Move the account to this plan (slug, e.g. pro).")
        parser.add_argument(
            "--credits",
            type=int,
            help="Set the balance to this many credits (an adjustment in the ledger).",
        )

    def handle(
        self,
        *args: Any,
        email: str,
        name: str,
        plan: str | None,
        credits: int | None,
        **options: Any,
    ) -> None:
        email = _valid_email(email)
        with transaction.atomic():
            user, created = _get_or_create_user(email)
            account = quotas.account_for(user=user)
            if plan:
                _change_plan(account, plan)
            if credits is not None:
                _set_credits(account, credits)
            new = create_api_key(account=account, name=name)
        account.refresh_from_db()
        who = "Created user" if created else "User"
        self.stderr.write(
            f"{who} {email} on {account.plan.name}, {account.credits} credits; "
            f"key {new.key.prefix}… is shown once: store it now."
        )
        self.stdout.write(new.raw)


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise CommandError(f"Not a valid email address: {email!r}") from None
    return email


def _change_plan(account: Account, slug: str) -> None:
    new_plan = Plan.objects.filter(slug=slug).first()
    if new_plan is None:
        known = ", ".join(Plan.objects.values_list("slug", flat=True))
        raise CommandError(f"No plan {slug!r}; plans: {known}")
    account.plan = new_plan
    account.save(update_fields=["plan"])


def _set_credits(account: Account, credits: int) -> None:
    if credits < 0:
        raise CommandError("--credits cannot be negative")
    account.refresh_from_db(fields=["credits"])
    change = credits - account.credits
    if change:
        quotas.adjust_credits(account=account, amount=change, reason="set by createapikey")


def _get_or_create_user(email: str) -> tuple[Any, bool]:
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = user_model.objects.create_user(username=email, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user, True
