"""Which webhook URLs may be called: checked when a job is asked for, and at each attempt."""

from __future__ import annotations

from django.conf import settings

from swaps.net.url_policy import FetchPolicy, UrlError, check_url


def webhook_policy() -> FetchPolicy:
    """The production policy; tests replace this function to reach a local server."""
    return FetchPolicy(max_bytes=0, timeout_s=float(settings.WEBHOOK_TIMEOUT_S), max_redirects=0)


def check_webhook_url(url: str) -> None:
    """UrlError("url_not_allowed") for a URL no attempt could ever be allowed to reach."""
    try:
        check_url(url, webhook_policy())
    except UrlError as exc:
        raise UrlError(
            "url_not_allowed",
            "This webhook URL is not allowed.",
            {"field": "webhook_url", "reason": exc.details.get("reason")},
        ) from None
