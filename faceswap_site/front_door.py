"""The ASGI application the web server runs: bodies read on the event loop, Django (WSGI)
in a fixed pool of threads, and waits for jobs on the event loop.

A request goes through three stages, and only the middle one holds a thread:
1. its body is read on the event loop (a slow client costs a coroutine), refused with
   413 from Content-Length before any byte is read, or as soon as a chunked body passes
   MAX_REQUEST_BYTES; spooled to a file past 512 KB;
2. Django runs it, as WSGI, in one of `threads` threads; the answer is collected whole;
3. if the view asked to wait for jobs (Prefer: wait, the synchronous compatible routes:
   swaps.waiting puts a WaitPlan into the request's WaitSlot), the request waits on the
   event loop for the process's JobWatch, and its final answer is rendered by a short
   call in the pool; then the answer is written (to a slow reader too, on the loop).

Why not Django's own ASGI handler: it runs sync views (all of DRF) in a new thread per
concurrent request (asgiref's ThreadSensitiveContext), unbounded, and persistent
database connections leak with those threads. Here the pool is bounded (WEB_THREADS,
as with waitress before) and Django runs exactly as under any WSGI server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings

from faceswap_site.codes import code_for_status
from faceswap_site.errors import envelope
from faceswap_site.job_watch import JobWatch

access_log = logging.getLogger("faceswap.access")
logger = logging.getLogger(__name__)

WAIT_SLOT = "faceswap.wait_slot"  # the WSGI environ key of the request's WaitSlot
SPOOL_BYTES = 512 * 1024
DRAIN_S = 2.0
# The final answer replaces the waiting one; these of the first answer do not carry over.
_REPLACED = {"content-type", "content-length", "location"}

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def from_django(cls, response: Any) -> Answer:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        response.close()
        return cls(response.status_code, list(response.items()), body)

    def replaced_by(self, final: Answer) -> Answer:
        """`final`, keeping this answer's other headers (request id, rate limits)."""
        names = {name.lower() for name, _ in final.headers} | _REPLACED
        kept = [(n, v) for n, v in self.headers if n.lower() not in names]
        return Answer(final.status, kept + final.headers, final.body)


@dataclass
class WaitPlan:
    """What a view asks the server to wait for before answering (see swaps.waiting)."""

    job_ids: tuple[str, ...]
    seconds: float
    check: Callable[[set[str]], set[str]]  # ids -> those that have ended
    finish: Callable[[], Any]  # the final Django response, once every job has ended


@dataclass
class WaitSlot:
    plan: WaitPlan | None = field(default=None)


class BodyTooLarge(Exception):
    pass


class FrontDoor:
    def __init__(self, app: WSGIApp, *, threads: int) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="django")
        self.watch = JobWatch()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, and the server runs without lifespan events
        started = time.perf_counter()
        answer = await self._answer(scope, receive)
        if answer is not None:
            await _send(send, answer)
        access_log.info(
            '%s "%s" %s %s %.1fms',
            (scope.get("client") or ("-",))[0],
            _request_line(scope),
            answer.status if answer else "-",
            len(answer.body) if answer else "-",
            (time.perf_counter() - started) * 1000,
        )

    async def _answer(self, scope: dict[str, Any], receive: Receive) -> Answer | None:
        limit = settings.MAX_REQUEST_BYTES
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return too_large(int(declared))
        try:
            body = await read_body(receive, limit=limit)
        except BodyTooLarge:
            await drain(receive, seconds=DRAIN_S)
            return too_large(None)
        if body is None:
            return None  # the client left
        slot = WaitSlot()
        environ = wsgi_environ(scope, body, slot)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.pool, run_wsgi, self.app, environ)
        if slot.plan is not None:
            answer = await self._settle(slot.plan, answer, receive)
        return answer

    async def _settle(self, plan: WaitPlan, answer: Answer, receive: Receive) -> Answer | None:
        """The final answer once the plan's jobs ended; `answer` if they did not in time."""
        waiting = asyncio.ensure_future(
            self.watch.wait(plan.job_ids, check=plan.check, timeout=plan.seconds)
        )
        leaving = asyncio.ensure_future(receive())  # after the body: only a disconnect
        await asyncio.wait({waiting, leaving}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            return None  # nobody to answer
        leaving.cancel()
        if not waiting.result():
            return answer
        loop = asyncio.get_running_loop()
        try:
            final = await loop.run_in_executor(self.pool, lambda: Answer.from_django(plan.finish()))
        except Exception:  # e.g. the job was deleted meanwhile: the waiting answer stands
            logger.exception("rendering the final answer of %s failed", plan.job_ids)
            return answer
        return answer.replaced_by(final)


async def read_body(receive: Receive, *, limit: int) -> IO[bytes] | None:
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed on)
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            body.close()
            raise BodyTooLarge
        body.write(chunk)
        if not message.get("more_body", False):
            body.seek(0)
            return body


async def drain(receive: Receive, *, seconds: float) -> None:
    """Read and drop the rest of a refused body for a while: closing a socket with unread
    bytes resets it, and the reset can destroy the answer before the client reads it."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive()).get("more_body", False):
                pass
    except TimeoutError:
        pass


def too_large(length: int | None) -> Answer:
    limit = settings.MAX_REQUEST_BYTES
    said = f"The request body is {length} bytes; " if length else "The request body is too large; "
    return error_answer(413, f"{said}the limit is {limit}.", {"max_bytes": limit})


def error_answer(status: int, message: str, details: dict[str, Any] | None = None) -> Answer:
    """The API's error envelope from the server itself; the connection closes after it."""
    code = code_for_status(status) if status != 501 else "invalid_parameter"
    body = json.dumps(envelope(None, code, message, details)).encode()
    return Answer(status, [("Content-Type", "application/json"), ("Connection", "close")], body)


def run_wsgi(app: WSGIApp, environ: dict[str, Any]) -> Answer:
    """Django's answer, collected whole in this (pool) thread."""
    seen: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = int(status.split(" ", 1)[0]), headers
        return written.append

    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        getattr(result, "close", lambda: None)()
        environ["wsgi.input"].close()
    return Answer(seen["status"], list(seen["headers"]), b"".join(written))


def wsgi_environ(scope: dict[str, Any], body: IO[bytes], slot: WaitSlot) -> dict[str, Any]:
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    length = body.seek(0, 2)
    body.seek(0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(length) if length else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        WAIT_SLOT: slot,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper()
        if "_" in name or name == "CONTENT-LENGTH":
            continue  # an underscore could pose as another header once dashes become _
        value = raw_value.decode("latin-1")
        key = "CONTENT_TYPE" if name == "CONTENT-TYPE" else f"HTTP_{name.replace('-', '_')}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _request_line(scope: dict[str, Any]) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope.get("path", "") + (f"?{query}" if query else "")
    return f"{scope.get('method', '-')} {target} HTTP/{scope.get('http_version', '1.1')}"


async def _send(send: Send, answer: Answer) -> None:
    # Django's WSGI handler writes Set-Cookie values with a leading space (waitress forgave
    # it, h11 refused it): a field value has no surrounding whitespace (RFC 9110 5.5).
    headers = [(n.encode("latin-1"), v.strip().encode("latin-1")) for n, v in answer.headers]
    bodiless = answer.status in (204, 304) or answer.status < 200
    if not bodiless and not any(n.lower() == b"content-length" for n, _ in headers):
        headers.append((b"Content-Length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
