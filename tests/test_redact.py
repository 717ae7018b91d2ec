"""API keys, auth headers and result tokens never reach a log line."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from faceswap_site.front_door import FrontDoor, access_log
from faceswap_site.redact import RedactingFilter, redact

KEY = "0123456789ab." + "S3cr3t_-" * 5  # the shape accounts.keys makes: PREFIX.SECRET


@pytest.mark.parametrize(
    "line",
    [
        f"GET /api/v1/swaps?api_key={KEY} HTTP/1.1",
        f"GET /api/v1/swaps?limit=5&apikey={KEY}&x=1 HTTP/1.1",
        f"GET /api/v1/swaps?token={KEY} HTTP/1.1",
        f"Authorization: Bearer {KEY}",
        f"authorization: Basic {base64.b64encode(KEY.encode()).decode()}",
        f"X-Api-Key: {KEY}",
        f"{{'HTTP_X_API_KEY': '{KEY}'}}",
        f"the key {KEY} was revoked",
    ],
)
def test_secrets_are_redacted_from_any_line(line):
    cleaned = redact(line)
    assert KEY not in cleaned and "S3cr3t" not in cleaned
    assert "[redacted]" in cleaned


def test_a_result_token_is_redacted_but_the_route_stays():
    cleaned = redact("GET /swaps/result/eyJqb2IiOiIxIn0:1tZ:abc HTTP/1.1")
    assert cleaned == "GET /swaps/result/[redacted] HTTP/1.1"


def test_ordinary_lines_are_untouched():
    line = "GET /api/v1/swaps?limit=20&offset=40 HTTP/1.1 200"
    assert redact(line) == line


def test_the_logging_filter_cleans_messages_with_arguments():
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "bad key %s in %s",
        (KEY, "/api/v1/account?api_key=" + KEY),
        None,
    )
    assert RedactingFilter().filter(record)
    assert KEY not in record.getMessage()


def test_the_configured_console_handler_redacts():
    handlers = logging.getLogger().handlers
    console = [h for h in handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    assert console, "settings.LOGGING's console handler carries the redacting filter"


def test_the_access_log_line_of_a_key_in_the_query_is_redacted():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.addFilter(RedactingFilter())
    handler.emit = records.append  # type: ignore[method-assign]
    access_log.addHandler(handler)
    door = FrontDoor(lambda environ, start: [start("401 Unauthorized", []) and b""], threads=1)
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/account",
        "query_string": f"api_key={KEY}".encode(),
        "http_version": "1.1",
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "headers": [(b"authorization", f"Basic {basic}".encode())],
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    try:
        asyncio.run(door(scope, receive, send))
    finally:
        access_log.removeHandler(handler)
    written = records[0].getMessage()  # as the handler wrote it, after its filter
    assert '"GET /api/v1/account?api_key=[redacted] HTTP/1.1" 401' in written
    assert KEY not in written and basic not in written
