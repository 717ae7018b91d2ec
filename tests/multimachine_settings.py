"""Test-only settings for tests/test_multimachine.py: production settings, plus one
webhook host the tests may call. `hooks.test` resolves to 127.0.0.1 and only that
address and MULTIMACHINE_HOOK_PORT count as reachable: the SSRF policy itself is not
loosened (every other private address stays refused). Never used outside that test."""

from __future__ import annotations

import ipaddress
import os

from faceswap_site.settings import *  # noqa: F403
from swaps import webhook_urls
from swaps.net.url_policy import FetchPolicy

_LOOPBACK = ipaddress.ip_address("127.0.0.1")
_HOOK_PORT = int(os.environ["MULTIMACHINE_HOOK_PORT"])


def _test_webhook_policy() -> FetchPolicy:
    return FetchPolicy(
        max_bytes=0,
        timeout_s=5.0,
        max_redirects=0,
        resolver=lambda host, _port: ["127.0.0.1"] if host == "hooks.test" else [],
        address_allowed=lambda address: address == _LOOPBACK,
        allowed_ports=frozenset({_HOOK_PORT}),
    )


webhook_urls.webhook_policy = _test_webhook_policy
