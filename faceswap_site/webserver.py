"""The HTTP server: uvicorn (httptools) in front of faceswap_site.front_door, so a slow client
and a client waiting for its job each cost a coroutine, not a thread.

uvicorn parses HTTP on an event loop; FrontDoor reads each body whole there, refuses one
over MAX_REQUEST_BYTES from its Content-Length before reading it (or once a chunked body
passes it), runs Django (WSGI) in a pool of `threads` threads, and waits for jobs on the
loop (Prefer: wait, the synchronous compatible routes). Answers the server gives itself
(malformed request: 400, unsupported transfer coding: 501, headers over 256 KB: 431, body
too large: 413) are the API's JSON envelope, and every request is written to the access
log (`faceswap.access`) through the logging configuration, whose filter redacts keys
(faceswap_site.redact).

One process per `--fd` listener; `manage.py serve` and the live tests start several on
one socket they bound.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import sys
from http import HTTPStatus

import httptools
from uvicorn import Config, Server
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 256 * 1024
_MESSAGE_BY_STATUS = {
    431: "The request headers are too large.",
    501: "This transfer encoding is not supported.",
}


class JsonErrorProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp, in C: its event loop took 0.15-0.7 ms less CPU
    per request than with h11, in Python; benchmarks/web_cpu.py) whose own refusals are the
    API's JSON envelope: 400 for a malformed request, 501 for a transfer coding other than chunked,
    and 431 for a request head over MAX_HEADER_BYTES, counted per request of a kept-alive
    connection (llhttp has no limit of its own)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._head_bytes = 0  # bytes received since this request's head began
        self._reading_head = True

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                self._refuse(431, _MESSAGE_BY_STATUS[431])
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._reading_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head = True  # what comes next is the next request's head
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        # Called inside uvicorn's `except httptools.HttpParserError`: the error says why.
        error = sys.exc_info()[1]
        text = str(error) if isinstance(error, httptools.HttpParserError) else msg
        if "invalid `Transfer-Encoding`" in text:
            self._refuse(501, _MESSAGE_BY_STATUS[501])
        else:
            self._refuse(400, f"Malformed HTTP request: {text}")

    def _refuse(self, status: int, message: str) -> None:
        from faceswap_site.front_door import error_answer

        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:
                self.transport.close()  # an answer is on its way: no second one
                return
            # llhttp checks the transfer coding after the head, once the request has been
            # handed to the app: that request is gone, and the app must not answer it.
            cycle.disconnected = True
        answer = error_answer(status, message)
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        head += [f"{name}: {value}" for name, value in answer.headers]
        head.append(f"Content-Length: {len(answer.body)}")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body)
        self.transport.close()


def serve_on(listener: socket.socket, *, threads: int, connections: int) -> None:
    """Serve the Django app on `listener` until SIGTERM or SIGINT."""
    from django.core.wsgi import get_wsgi_application

    from faceswap_site.front_door import FrontDoor

    app = FrontDoor(get_wsgi_application(), threads=threads)
    freeze_startup_objects()
    config = Config(
        app,
        http=JsonErrorProtocol,
        ws="none",
        lifespan="off",
        log_config=None,  # Django's LOGGING stays in charge (the redacting filter)
        access_log=False,  # FrontDoor writes its own, through that filter
        server_header=False,
        proxy_headers=False,
        limit_concurrency=connections,
        timeout_keep_alive=60,
        timeout_graceful_shutdown=10,
    )
    Server(config).run(sockets=[listener])


def freeze_startup_objects() -> None:
    """Load every view now and hide what start-up built from the garbage collector.

    A full collection walks every tracked object: the ~130k that Django, DRF and the
    URLconf leave, which never become garbage, took ~60 ms each time, every few hundred
    requests (a pause in some request, and ~0.1-0.2 ms of CPU per create on average).
    Frozen, they are never walked again; what requests make is collected as before.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module, as a first request would)
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fd", type=int, required=True, help="a bound, listening socket")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "faceswap_site.settings")
    import django

    django.setup()
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
