"""The HTTP server: waitress, so a slow client costs a socket, not a thread.

waitress reads each request whole (headers and body, spooled to a file past 512 KB) on
its event loop before a thread runs Django, and it buffers responses the same way. A
client that sends headers and then a trickle of body, or reads a download slowly, holds
only a socket: 200 such clients do not delay anyone else (benchmarks/slow_clients.py).

One process per `--fd` listener; `manage.py serve` and the live tests start several on
one socket they bound. The body cap is applied from Content-Length before any body byte
is read. Answers waitress itself gives (malformed request, headers or body too large)
are the API's JSON envelope, and every request is written to the access log through
the logging configuration, whose filter redacts keys (faceswap_site.redact).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from faceswap_site.codes import code_for_status
from faceswap_site.errors import envelope

access_log = logging.getLogger("faceswap.access")

_MESSAGE_BY_STATUS = {
    413: "The request body is too large.",
    431: "The request headers are too large.",
    501: "This transfer encoding is not supported.",
}
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class JsonErrorTask(ErrorTask):
    """waitress's error answer, as the JSON envelope, on every route.

    Which route a refused request was for is not always known (headers too large to
    parse), and these are protocol errors no page would render anyway.
    """

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps(_envelope(error.code, error.body)).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _envelope(status: int, detail: str) -> dict[str, Any]:
    code = code_for_status(status) if status != 501 else "invalid_parameter"
    message = _MESSAGE_BY_STATUS.get(status, f"Malformed HTTP request: {detail}")
    details = {"max_bytes": _body_cap() - 1} if status == 413 else {}
    return envelope(None, code, message, details)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


class AccessLog:
    """One INFO line per request on `faceswap.access`: client, request line, status, time."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["length"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start_response)
        finally:
            access_log.info(
                '%s "%s" %s %s %.1fms',
                environ.get("REMOTE_ADDR", "-"),
                _request_line(environ),
                seen.get("status", "-"),
                seen.get("length", "-"),
                (time.perf_counter() - started) * 1000,
            )


def _request_line(environ: dict[str, Any]) -> str:
    query = environ.get("QUERY_STRING", "")
    target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    return f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', '-')}"


def _body_cap() -> int:
    # waitress refuses Content-Length >= its cap; ours allows exactly MAX_REQUEST_BYTES.
    return settings.MAX_REQUEST_BYTES + 1


def serve_on(listener: socket.socket, *, threads: int, connections: int) -> None:
    """Serve the Django app on `listener` until SIGTERM or SIGINT."""
    app = AccessLog(get_wsgi_application())
    server = create_server(
        app,
        sockets=[listener],
        threads=threads,
        connection_limit=connections,
        max_request_body_size=_body_cap(),
        asyncore_use_poll=True,  # select() stops at 1024
        channel_timeout=60,
        ident="faceswap",
        clear_untrusted_proxy_headers=True,
    )
    server.channel_class = JsonErrorChannel
    signal.signal(signal.SIGTERM, _interrupt)
    server.run()  # returns after closing, on KeyboardInterrupt


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fd", type=int, required=True, help="a bound, listening socket")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "faceswap_site.settings")
    listener = socket.socket(fileno=args.fd)
    serve_on(listener, threads=args.threads, connections=args.connections)


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening socket child processes inherit (their `--fd`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def command(fd: int, *, threads: int, python: str) -> list[str]:
    return [python, "-m", "faceswap_site.webserver", "--fd", str(fd), "--threads", str(threads)]


if __name__ == "__main__":
    main()
