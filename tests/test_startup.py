"""A process that starts before the database waits for it instead of crashing."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from faceswap_site import startup


def test_it_waits_until_the_database_answers(monkeypatch):
    attempts, slept = [], []

    def ensure() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", ensure)
    startup.wait_for_database(timeout_s=60, sleep=slept.append)
    assert len(attempts) == 3 and slept == [0.5, 1.0]


def test_it_gives_up_after_the_timeout(monkeypatch):
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    with pytest.raises(OperationalError):
        startup.wait_for_database(timeout_s=0.1, sleep=lambda s: None)
