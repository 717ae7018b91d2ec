"""Sign and send one webhook POST. Pure module: no Django.

Signature (documented in README, "Webhooks"):
    "v1," + base64(HMAC-SHA256(key, f"{webhook_id}.{timestamp}.".encode() + body))
where key is the account's whole webhook secret ("whsec_..." included) as UTF-8 bytes and
body is the exact bytes sent.

The connection follows swaps.net.url_policy's rules (http/https on allowed ports, every resolved
address public, connect to the checked address, one deadline for everything). Redirects are
not followed: any answer outside 2xx is a failed attempt. The answer's body is never read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from swaps.net.fetch import pinned_connection
from swaps.net.url_policy import FetchPolicy, UrlError

USER_AGENT = "FaceSwap-Webhooks/1.0"


@dataclass(frozen=True)
class AttemptResult:
    status: int | None  # the endpoint's HTTP status, None if it never answered
    error: str  # "" on success, else a reason code: "http_status", "timeout", "dns", ...

    @property
    def ok(self) -> bool:
        return not self.error


def sign(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body
        ),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def post_webhook(
    url: str, *, body: bytes, headers: dict[str, str], policy: FetchPolicy
) -> AttemptResult:
    """One POST; never raises for network, policy or HTTP failures (see AttemptResult)."""
    try:
        with pinned_connection(url, policy) as (conn, target):
            conn.request(
                "POST",
                target.path,
                body=body,
                headers={
                    "Host": target.host_header,
                    "Accept-Encoding": "identity",
                    "Connection": "close",
                    **headers,
                },
            )
            status = conn.getresponse().status
    except UrlError as exc:
        return AttemptResult(status=None, error=str(exc.details.get("reason") or exc.code))
    return AttemptResult(status=status, error="" if 200 <= status < 300 else "http_status")
