"""One-time form tokens: a form that changes something works once per page.

The answer to "Create key" shows the new key in that very response (it is stored
nowhere), so it cannot redirect; a reload would send the POST again. Each form carries
a token the session knows; the first POST spends it, a repeat finds it spent and
changes nothing.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest

SESSION_KEY = "form_tokens"
MAX_TOKENS = 20  # per session: enough for a few open tabs


def issue(request: HttpRequest, purpose: str) -> str:
    token = secrets.token_urlsafe(16)
    tokens = [*request.session.get(SESSION_KEY, []), f"{purpose}:{token}"]
    request.session[SESSION_KEY] = tokens[-MAX_TOKENS:]
    return token


def redeem(request: HttpRequest, purpose: str) -> bool:
    """True once for the token the POST carries; False when spent, unknown or missing."""
    entry = f"{purpose}:{request.POST.get('form_token', '')}"
    tokens = request.session.get(SESSION_KEY, [])
    if entry not in tokens:
        return False
    request.session[SESSION_KEY] = [t for t in tokens if t != entry]
    return True
