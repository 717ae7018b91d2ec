"""Create a user (and account) if needed, then a new API key printed alone on the last line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from accounts.keys import create_api_key
from accounts.models import Account


class Command(BaseCommand):
    help = "Create an API key for a user, creating the user and account if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="A label for the key.")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not a valid email address: {email!r}") from None
        with transaction.atomic():
            user, created = _get_or_create_user(email)
            new = create_api_key(account=Account.objects.for_user(user), name=name)
        who = "Created user" if created else "User"
        self.stderr.write(f"{who} {email}; key {new.key.prefix}… named {name or '(unnamed)'}. "
                          "It is shown once; store it now.")
        self.stdout.write(new.raw)


def _get_or_create_user(email: str) -> tuple[Any, bool]:
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = user_model.objects.create_user(username=email, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user, True
