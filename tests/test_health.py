"""Health endpoints: no key, no rate window, JSON; readiness names what failed."""

from __future__ import annotations

import pytest

from faceswap_site import health

pytestmark = pytest.mark.django_db


def test_the_process_answers_without_a_key(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_when_database_broker_and_storage_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


def test_not_ready_names_the_part_that_failed(client, monkeypatch):
    def broken() -> None:
        raise OSError("storage unreachable")

    monkeypatch.setitem(health.CHECKS, "storage", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "failed"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_endpoints_refuse_writes(client):
    assert client.post("/readyz").status_code == 405


def test_not_ready_when_the_redis_broker_does_not_answer(client, settings):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": f"redis://127.0.0.1:{port}/0"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failed"
