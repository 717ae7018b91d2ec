"""Shared fixtures: isolated media, a synchronous worker, accounts with API keys, photos,
and the engine's models and fixture faces for the tests that run the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django_q.conf import Conf
from rest_framework.test import APIClient

from accounts.keys import create_api_key
from accounts.models import Account
from swaps.models import SavedFace, SwapJob
from tests.helpers import key_client, make_account, make_saved_face

if TYPE_CHECKING:
    import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _default_plans_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests (jobs that run when their request commits) start from tables
    an earlier one flushed: the price list the migrations made is put back first."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from importlib import import_module

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    import_module("accounts.migrations.0003_default_plans").create_plans(apps, None)


@pytest.fixture(autouse=True)
def sync_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs tasks in-process, right when they are enqueued (after commit)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def photo() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


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
def other_account(db: None) -> Account:
    return make_account("bob@example.com")


@pytest.fixture
def other_api_client(other_account: Account) -> APIClient:
    return key_client(create_api_key(account=other_account).raw)


@pytest.fixture
def saved_face(account: Account) -> SavedFace:
    return make_saved_face(account, "ann")


@pytest.fixture
def other_saved_face(other_account: Account) -> SavedFace:
    return make_saved_face(other_account, "bob")


@pytest.fixture
def pending_job(api_client: APIClient, upload: Any) -> SwapJob:
    """A job accepted by the API whose task has not run (on_commit never fires here)."""
    response = api_client.post(
        "/api/v1/swaps",
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")},
    )
    return SwapJob.objects.get(pk=response.json()["id"])


@pytest.fixture
def submit(api_client: APIClient, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST /api/v1/swaps and let the (synchronous) worker run once the request commits."""

    def post(
        data: dict[str, Any],
        *,
        fmt: str = "multipart",
        client: APIClient | None = None,
        **extra: Any,
    ) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api_client).post("/api/v1/swaps", data, format=fmt, **extra)

    return post


@pytest.fixture
def post_work(api_client: APIClient, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST to any route that creates jobs and let the worker run them once it commits."""

    def post(
        path: str,
        data: dict[str, Any],
        *,
        fmt: str = "multipart",
        client: APIClient | None = None,
        **extra: Any,
    ) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api_client).post(path, data, format=fmt, **extra)

    return post


@pytest.fixture(scope="session")
def engine_models() -> None:
    """Load the engine's models once per session (~2 s); engine test modules use it with
    ``pytestmark = pytest.mark.usefixtures("engine_models")``."""
    from swaps.engine import warm_up

    warm_up()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """The astronaut photo (one face) as BGR pixels; shared by every test, so never modify."""
    from tests.images import ASTRONAUT, load_fixture

    return load_fixture(ASTRONAUT)


@pytest.fixture(scope="session")
def grace() -> np.ndarray:
    """The Grace Hopper photo (one face) as BGR pixels; shared by every test, so never modify."""
    from tests.images import GRACE_HOPPER, load_fixture

    return load_fixture(GRACE_HOPPER)


@pytest.fixture
def two_faces_png() -> bytes:
    """One photo, two faces: Grace Hopper (face 0, larger) and a mirrored astronaut (1)."""
    import cv2

    from tests.images import TWO_FACES, tiled_faces

    image, _ = tiled_faces(TWO_FACES)
    return cv2.imencode(".png", image)[1].tobytes()


@pytest.fixture
def noise_png() -> bytes:
    """A photo without any face."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(7).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


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
