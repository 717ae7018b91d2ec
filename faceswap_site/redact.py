"""Secrets never reach a log line: API keys, auth headers, signed result tokens.

Used by the logging filter every handler carries (settings.LOGGING), which the web
server's access log goes through too (``faceswap_site.webserver``): a key sent the
wrong way (in the query string, as Basic auth) must not end up in a log file.
"""

from __future__ import annotations

import logging
import re

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
