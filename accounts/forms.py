"""Browser sign-up and log-in: the email address is the username."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts import quotas

# The username column holds the address, so it caps the address too.
EMAIL_MAX_LENGTH = 150


def normalize_email(value: str) -> str:
    # Lower-cased whole: "Ann@X.com" and "ann@x.com" are one person, and one login.
    return value.strip().lower()


class SignupForm(forms.Form):
    email = forms.EmailField(
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        users = get_user_model().objects
        if (
            users.filter(email__iexact=email).exists()
            or users.filter(username__iexact=email).exists()
        ):
            raise forms.ValidationError(
                "An account with this email already exists.", code="duplicate_email"
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password, again = cleaned.get("password1"), cleaned.get("password2")
        if password and again and password != again:
            self.add_error("password2", "The two passwords differ.")
        elif password:
            self._validate_password(password, cleaned.get("email", ""))
        return cleaned

    def _validate_password(self, password: str, email: str) -> None:
        # An unsaved user lets the similarity validator compare against the address.
        candidate = get_user_model()(username=email, email=email)
        try:
            password_validation.validate_password(password, candidate)
        except forms.ValidationError as error:
            self.add_error("password1", error)

    @transaction.atomic
    def save(self) -> AbstractBaseUser:
        """Create the user and their account together (IntegrityError on a signup race)."""
        email = self.cleaned_data["email"]
        user = get_user_model().objects.create_user(
            username=email, email=email, password=self.cleaned_data["password1"]
        )
        quotas.account_for(user=user)
        return user


class EmailLoginForm(AuthenticationForm):
    """Log-in by email in any letter case (usernames are stored lower-cased)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. Check both and "
        "try again.",
    }

    username = forms.CharField(
        label="Email",
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        help_text="Where the key is used, e.g. “production server”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class CloseAccountForm(forms.Form):
    """'Delete my account': the account's password confirms it is its owner asking."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.", code="wrong_password")
        return password
