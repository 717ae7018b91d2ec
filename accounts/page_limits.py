"""Rate limits on the browser forms (sign-up, log-in, upload), per client IP, and the
429 page they answer with (`settings.RATELIMIT_VIEW`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

FALLBACK_RETRY_AFTER_S = 60
View = Callable[..., HttpResponse]


class TooManyAttempts(Ratelimited):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many attempts.")
        self.retry_after = retry_after


def limit_posts_per_ip(*, group: str, rate_setting: str) -> Callable[[View], View]:
    """django-ratelimit on POSTs per client IP, at the rate `settings.<rate_setting>` has now.

    The rate is read per request rather than at import, so settings overrides apply.
    The refusal is answered here through RATELIMIT_VIEW, because without
    RatelimitMiddleware a blocked request would surface as a bare 403.
    """

    def rate(group: str, request: HttpRequest) -> str:
        return getattr(settings, rate_setting)

    def decorator(view: View) -> View:
        limited = ratelimit(group=group, key="ip", rate=rate, method="POST", block=True)(view)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return limited(request, *args, **kwargs)
            except Ratelimited:
                seconds = _seconds_left(request, group, rate)
                return import_string(settings.RATELIMIT_VIEW)(request, TooManyAttempts(seconds))

        return wrapped

    return decorator


def _seconds_left(request: HttpRequest, group: str, rate: Callable[..., str]) -> int:
    state = get_usage(request, group=group, key="ip", rate=rate, method="POST")
    # time_left is 0 in the window's last second; a client should still wait a little.
    return max(1, state["time_left"]) if state else FALLBACK_RETRY_AFTER_S


def ratelimited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """settings.RATELIMIT_VIEW: a readable 429 page that says when to try again."""
    retry_after = getattr(exception, "retry_after", FALLBACK_RETRY_AFTER_S)
    minutes = -(-retry_after // 60)
    response = render(
        request, "429.html", {"retry_after": retry_after, "minutes": minutes}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response
