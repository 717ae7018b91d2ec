"""Helpers the tests share (accounts, API clients, the error envelope); fixtures live in
conftest.py and use these too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts import quotas
from accounts.models import Account
from swaps.models import SavedFace


def make_account(email: str) -> Account:
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-12345!")
    return quotas.account_for(user=user)


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def api_error(response: Any, status: int | None = None) -> dict[str, Any]:
    """The `error` of an API error envelope, after checking the envelope (and `status`)."""
    if status is not None:
        assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["request_id"] == response["X-Request-Id"]
    return body["error"]


def credits_of(account: Account) -> int:
    account.refresh_from_db(fields=["credits"])
    return account.credits


def make_saved_face(
    account: Account, name: str = "me", identity: bytes = b"opaque identity bytes"
) -> SavedFace:
    """A saved face row made without the engine: for listing, scoping and storage tests."""
    return SavedFace.objects.create(account=account, name=name, identity=identity)
