"""Shared fixtures: isolated media, a synchronous worker, accounts with API keys, photos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django_q.conf import Conf
from rest_framework.test import APIClient

from accounts.keys import create_api_key
from accounts.models import Account

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def sync_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs tasks in-process, right when they are enqueued (after commit)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def photo() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


def make_account(email: str) -> Account:
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-12345!")
    return Account.objects.for_user(user)


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


@pytest.fixture
def account(db: None) -> Account:
    return make_account("ann@example.com")


@pytest.fixture
def api_key(account: Account) -> str:
    return create_api_key(account=account, name="test").raw


@pytest.fixture
def api_client(api_key: str) -> APIClient:
    return key_client(api_key)


@pytest.fixture
def other_api_client(db: None) -> APIClient:
    other = make_account("bob@example.com")
    return key_client(create_api_key(account=other).raw)


@pytest.fixture
def submit(api_client: APIClient, django_capture_on_commit_callbacks: Any
           ) -> Callable[..., Any]:
    """POST /api/v1/swaps and let the (synchronous) worker run once the request commits."""

    def post(data: dict[str, Any], *, fmt: str = "multipart", client: APIClient | None = None,
             **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api_client).post("/api/v1/swaps", data, format=fmt, **extra)

    return post


@pytest.fixture
def upload(photo: Callable[[str], bytes]) -> Callable[[str], Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    def make(name: str, data: bytes | None = None) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, data if data is not None else photo(name))

    return make


@pytest.fixture
def media_files(settings: Any) -> Callable[[], list[Path]]:
    def files() -> list[Path]:
        root = Path(settings.MEDIA_ROOT)
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files


@pytest.fixture
def no_network_listener() -> Iterator[Any]:
    """A TCP listener on 127.0.0.1 that records every connection it receives."""
    import socket
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[Any] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield type("Listener", (), {"port": server.getsockname()[1], "accepted": accepted})
    stop.set()
    thread.join(timeout=2)
    server.close()
