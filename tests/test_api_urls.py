"""URL inputs that are allowed: fetched from a (test-only) public name, then swapped."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from swaps import inputs
from swaps.net.url_policy import FetchPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_server(photo: Any) -> Iterator[Any]:
    """Serves the fixtures at http://127.0.0.1:PORT/<name>; records request paths."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)
            try:
                body = photo(self.path.lstrip("/"))
            except OSError:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield type("Server", (), {"port": server.server_address[1], "seen": seen})
    server.shutdown()
    server.server_close()


@pytest.fixture
def public_test_name(monkeypatch: pytest.MonkeyPatch, settings: Any, image_server: Any) -> str:
    """`images.test` resolves to the local server, and only that address counts as public."""
    loopback = ipaddress.ip_address("127.0.0.1")

    def policy() -> FetchPolicy:
        return FetchPolicy(
            max_bytes=settings.MAX_IMAGE_BYTES,
            timeout_s=5.0,
            resolver=lambda host, port: ["127.0.0.1"] if host == "images.test" else [],
            address_allowed=lambda address: address == loopback,
            allowed_ports=frozenset({image_server.port}),
        )

    monkeypatch.setattr(inputs, "fetch_policy", policy)
    return f"http://images.test:{image_server.port}"


def test_it_swaps_images_given_by_url(submit, api_client, public_test_name, image_server):
    response = submit(
        {
            "source_image": f"{public_test_name}/grace_hopper.jpg",
            "target_image": f"{public_test_name}/astronaut.jpg",
        },
        fmt="json",
    )

    assert response.status_code == 202, response.json()
    job = api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert job["status"] == "completed"
    assert sorted(image_server.seen) == ["/astronaut.jpg", "/grace_hopper.jpg"]


def test_a_url_that_fails_is_a_400(api_client, upload, public_test_name):
    response = api_client.post(
        "/api/v1/swaps",
        {
            "source_image": f"{public_test_name}/missing.jpg",
            "target_image": upload("astronaut.jpg"),
        },
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["image"]) == ("url_fetch_failed", "source_image")


def test_a_url_to_an_oversized_image_is_a_413(api_client, upload, public_test_name, settings):
    settings.MAX_IMAGE_BYTES = 30_000

    response = api_client.post(
        "/api/v1/swaps",
        {
            "source_image": f"{public_test_name}/grace_hopper.jpg",
            "target_image": upload("astronaut.jpg"),
        },
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "image_too_large"
