"""Secrets never reach a log line: API keys, auth headers, signed result tokens.

Used by the logging filter every handler carries (settings.LOGGING) and by
gunicorn's access log (``RedactingGunicornLogger``, ``serve``): a key sent the
wrong way (in the query string, as Basic auth) must not end up in a log file.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# Query parameters whose names say they carry a secret.
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:[\w-]*(?:key|token|secret|password|passwd|signature|sig|auth)[\w-]*)=)"
    r"[^&;\s\"']*"
)
# Header-like text: "Authorization: Bearer x", "X-Api-Key: x", and the WSGI forms.
_SECRET_HEADER = re.compile(
    r"(?i)((?:authorization|x-api-key|http_authorization|http_x_api_key)['\"]?\s*[:=]\s*['\"]?"
    r"(?:(?:bearer|basic|token)\s+)?)[^\s'\",}]+"
)
# An API key of ours anywhere (PREFIX.SECRET: 12 hex digits, a dot, 32+ url-safe chars).
_API_KEY = re.compile(r"\b[0-9a-f]{12}\.[A-Za-z0-9_-]{32,}")
# Signed result URLs: the token is a capability to download the result.
_RESULT_TOKEN = re.compile(r"(/result/)[^\s/?\"']+")


def redact(text: str) -> str:
    """``text`` with every secret it may hold replaced by ``[redacted]``."""
    text = _SECRET_PARAM.sub(rf"\1{REDACTED}", text)
    text = _SECRET_HEADER.sub(rf"\1{REDACTED}", text)
    text = _API_KEY.sub(REDACTED, text)
    return _RESULT_TOKEN.sub(rf"\1{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) with ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is the web server's, not every process's
    _GunicornLogger = object  # type: ignore[assignment,misc]


class RedactingGunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with the access log's request line, user and headers redacted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"  # the Basic auth user name may be a key
        return {key: _redact_atom(key, value) for key, value in atoms.items()}


_SECRET_HEADER_ATOMS = {"{authorization}i", "{x-api-key}i", "{cookie}i", "{set-cookie}o"}


def _redact_atom(key: str, value: Any) -> Any:
    if key.lower() in _SECRET_HEADER_ATOMS:
        return REDACTED
    return redact(value) if isinstance(value, str) else value
