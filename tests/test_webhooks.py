"""Webhooks over HTTP: a local endpoint receives the signed job object; retries; SSRF rules.

The endpoint is a real HTTP server on 127.0.0.1. It is reachable only through a test-only
policy (`hooks.test` resolves to it, and only its address and port are allowed), as in
tests/test_fetch.py; production's policy never connects to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from accounts.models import Account
from swaps import webhook_urls, webhooks
from swaps.models import DeliveryStatus, SwapJob, WebhookDelivery
from swaps.net.url_policy import FetchPolicy, is_public_address
from swaps.schedules import SCHEDULES

pytestmark = pytest.mark.django_db

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """The recipe docs/api.md gives receivers."""
    msg = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


# --- A local webhook endpoint ---------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Endpoint:
    port: int
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers in turn; then 204
    hang: threading.Event | None = None  # set: accept the request, never answer


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(self.path, headers, body))
            if state.hang is not None:
                state.hang.wait(5)
                return
            status = state.statuses.pop(0) if state.statuses else 204
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://hooks.test:{state.port}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    if state.hang is not None:
        state.hang.set()
    server.shutdown()
    server.server_close()


def _policy(
    *,
    names: dict[str, list[str]],
    allowed: Callable[[Any], bool],
    port: int,
    timeout_s: float = 5.0,
) -> Callable[[], FetchPolicy]:
    def policy() -> FetchPolicy:
        return FetchPolicy(
            max_bytes=0,
            timeout_s=timeout_s,
            max_redirects=0,
            resolver=lambda host, _port: names.get(host, []),
            address_allowed=allowed,
            allowed_ports=frozenset({port}),
        )

    return policy


@pytest.fixture
def hook_url(monkeypatch: pytest.MonkeyPatch, endpoint: Endpoint, settings: Any) -> str:
    """Test-only: `hooks.test` is the local endpoint, and only its address counts as public."""
    settings.PUBLIC_BASE_URL = "http://testserver"
    monkeypatch.setattr(
        webhook_urls,
        "webhook_policy",
        _policy(
            names={"hooks.test": ["127.0.0.1"]},
            allowed=lambda addr: addr == LOOPBACK,
            port=endpoint.port,
        ),
    )
    return f"http://hooks.test:{endpoint.port}/hook?token=t0ps3cret"


def _noise_png() -> bytes:
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def failing_job(submit: Any, photo: Any) -> Callable[..., Any]:
    """POST (JSON) a job that fails quickly (no face in the target), with extra fields."""

    def post(**fields: Any) -> Any:
        data = {
            "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
            "target_image": base64.b64encode(_noise_png()).decode(),
            **fields,
        }
        return submit(data, fmt="json")

    return post


def _delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def _retry_when_due() -> int:
    """Travel to the delivery's next attempt and run the every-minute schedule."""
    due = _delivery().next_attempt_at
    with time_machine.travel(due + timedelta(seconds=1)):
        return webhooks.deliver_due()


# --- Delivery -------------------------------------------------------------------------------


def test_a_completed_job_posts_its_signed_job_object(
    submit, upload, api_client, client, account, endpoint, hook_url
):
    response = submit(
        {
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "client_reference": "order-7",
            "webhook_url": hook_url,
        }
    )

    assert response.status_code == 202, response.json()
    [call] = endpoint.received
    assert call.path == "/hook?token=t0ps3cret"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["user-agent"].startswith("FaceSwap-Webhooks/")
    assert call.headers["host"] == f"hooks.test:{endpoint.port}"
    assert verify(account.webhook_secret, call.headers, call.body)
    assert abs(int(call.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert call.headers["webhook-id"] == str(_delivery().webhook_id)

    sent, shown = call.json(), api_client.get(f"/api/v1/swaps/{response.json()['id']}").json()
    assert sent["status"] == "completed" and sent["client_reference"] == "order-7"
    # result_url is signed with a timestamp, so it may differ by a second; all else is equal.
    assert {k: v for k, v in sent.items() if k != "result_url"} == {
        k: v for k, v in shown.items() if k != "result_url"
    }
    assert sent["result_url"].startswith("http://testserver/swaps/result/")
    assert client.get(sent["result_url"]).status_code == 200

    delivery = _delivery()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 204)
    assert delivery.next_attempt_at is None


def test_a_failed_job_notifies_too(failing_job, account, api_client, endpoint, hook_url):
    job_id = failing_job(webhook_url=hook_url, client_reference="c-1").json()["id"]

    [call] = endpoint.received
    body = call.json()
    assert (body["id"], body["status"], body["error"]["code"]) == (
        job_id,
        "failed",
        "no_face_detected",
    )
    assert body["client_reference"] == "c-1" and body["result_url"] is None
    assert body == api_client.get(f"/api/v1/swaps/{job_id}").json()
    assert verify(account.webhook_secret, call.headers, call.body)


def test_the_documented_recipe_verifies_a_real_call(failing_job, account, endpoint, hook_url):
    docs = (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    section = docs.split("\n## Webhooks", 1)[1]
    recipe = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(recipe.strip().splitlines()) <= 10  # short enough to copy
    namespace: dict[str, Any] = {}
    exec(recipe, namespace)  # our own docs' code

    failing_job(webhook_url=hook_url)

    [call] = endpoint.received
    assert namespace["verify"](account.webhook_secret, call.headers, call.body)
    assert not namespace["verify"](account.webhook_secret, call.headers, call.body + b" ")
    assert not namespace["verify"]("whsec_other", call.headers, call.body)


def test_a_job_without_webhook_url_calls_nothing(failing_job, endpoint, hook_url):
    assert failing_job().status_code == 202
    assert endpoint.received == [] and not WebhookDelivery.objects.exists()


def test_the_signature_uses_the_secret_at_sending_time(failing_job, account, endpoint, hook_url):
    endpoint.statuses = [500]
    failing_job(webhook_url=hook_url)
    old = account.webhook_secret
    Account.objects.filter(pk=account.pk).update(webhook_secret="whsec_rotated")

    _retry_when_due()

    first, second = endpoint.received
    assert verify(old, first.headers, first.body)
    assert verify("whsec_rotated", second.headers, second.body)
    assert not verify(old, second.headers, second.body)


# --- Retries --------------------------------------------------------------------------------


def test_retries_keep_the_webhook_id_and_back_off(failing_job, account, endpoint, hook_url):
    endpoint.statuses = [500, 503]
    failing_job(webhook_url=hook_url)
    first = _delivery()
    assert (first.status, first.attempts, first.last_status) == ("pending", 1, 500)
    assert first.next_attempt_at - first.last_attempt_at == timedelta(seconds=30)

    assert webhooks.deliver_due() == 0  # not due yet: nothing is sent
    assert len(endpoint.received) == 1

    assert _retry_when_due() == 1
    second = _delivery()
    assert (second.attempts, second.last_status) == (2, 503)
    assert second.next_attempt_at - second.last_attempt_at == timedelta(minutes=2)

    _retry_when_due()
    assert (_delivery().status, _delivery().attempts) == ("delivered", 3)
    ids = {call.headers["webhook-id"] for call in endpoint.received}
    assert ids == {str(first.webhook_id)}
    assert all(verify(account.webhook_secret, c.headers, c.body) for c in endpoint.received)
    stamps = [int(c.headers["webhook-timestamp"]) for c in endpoint.received]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]


def test_the_backoff_schedule():
    delays = [webhooks.retry_delay(n) for n in range(1, 9)]
    assert (
        delays
        == [
            timedelta(seconds=30),
            timedelta(minutes=2),
            timedelta(minutes=8),
            timedelta(minutes=32),
            timedelta(minutes=128),
        ]
        + [timedelta(hours=3)] * 3
    )


def test_it_gives_up_after_24_hours(failing_job, endpoint, hook_url):
    endpoint.statuses = [500] * 100
    failing_job(webhook_url=hook_url)

    while _delivery().status == DeliveryStatus.PENDING:
        _retry_when_due()

    delivery = _delivery()
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.attempts == len(endpoint.received) == 13
    assert delivery.last_attempt_at - delivery.first_attempt_at <= timedelta(hours=24)
    assert delivery.last_attempt_at - delivery.first_attempt_at > timedelta(hours=23)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert webhooks.deliver_due() == 0
    assert len(endpoint.received) == 13


@pytest.mark.parametrize("status", [301, 302, 400, 404, 410, 500])
def test_any_answer_but_2xx_is_a_failed_attempt_and_redirects_are_not_followed(
    failing_job, endpoint, hook_url, status
):
    endpoint.statuses = [status]
    failing_job(webhook_url=hook_url)

    delivery = _delivery()
    assert (delivery.status, delivery.last_status, delivery.last_error) == (
        "pending",
        status,
        "http_status",
    )
    assert [call.path for call in endpoint.received] == ["/hook?token=t0ps3cret"]


def test_an_endpoint_that_never_answers_times_out(failing_job, endpoint, hook_url, monkeypatch):
    endpoint.hang = threading.Event()
    monkeypatch.setattr(
        webhook_urls,
        "webhook_policy",
        _policy(
            names={"hooks.test": ["127.0.0.1"]},
            allowed=lambda addr: addr == LOOPBACK,
            port=endpoint.port,
            timeout_s=0.5,
        ),
    )
    failing_job(webhook_url=hook_url)

    delivery = _delivery()
    assert (delivery.status, delivery.last_status, delivery.last_error) == (
        "pending",
        None,
        "timeout",
    )


def test_a_refused_connection_is_retried(failing_job, hook_url, monkeypatch):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setattr(
        webhook_urls,
        "webhook_policy",
        _policy(
            names={"hooks.test": ["127.0.0.1"]}, allowed=lambda addr: addr == LOOPBACK, port=port
        ),
    )
    failing_job(webhook_url=f"http://hooks.test:{port}/hook")

    delivery = _delivery()
    assert (delivery.status, delivery.last_error, delivery.attempts) == ("pending", "connect", 1)


# --- One attempt at a time ------------------------------------------------------------------


def test_an_attempt_in_flight_is_never_claimed_twice(failing_job, endpoint, hook_url, monkeypatch):
    endpoint.statuses = [500]
    failing_job(webhook_url=hook_url)
    real_post = webhooks.webhook_post.post_webhook
    nested: list[int] = []

    def post_while_another_worker_tries(*args: Any, **kwargs: Any) -> Any:
        nested.append(webhooks.deliver_due())  # a second worker, mid-attempt
        webhooks.deliver(delivery_id=_delivery().pk)
        return real_post(*args, **kwargs)

    monkeypatch.setattr(webhooks.webhook_post, "post_webhook", post_while_another_worker_tries)
    _retry_when_due()

    assert nested == [0]
    assert len(endpoint.received) == 2  # the first attempt and exactly one retry
    assert _delivery().attempts == 2


def test_a_schedule_run_stops_when_its_time_budget_is_spent(
    failing_job, endpoint, hook_url, monkeypatch
):
    endpoint.statuses = [500, 500]
    failing_job(webhook_url=hook_url)
    failing_job(webhook_url=hook_url)
    monkeypatch.setattr(webhooks, "DUE_BUDGET_S", 0.0)  # spent after the first attempt

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert webhooks.deliver_due() == 1
        assert webhooks.deliver_due() == 1
        assert webhooks.deliver_due() == 0
    assert len(endpoint.received) == 4
    assert {d.status for d in WebhookDelivery.objects.all()} == {"delivered"}


def test_an_attempt_whose_worker_died_is_retried_after_the_lease(
    failing_job, endpoint, hook_url, settings
):
    failing_job()  # a job, then a delivery whose worker claims it and dies
    job = SwapJob.objects.get()
    now = timezone.now()
    lease = timedelta(seconds=settings.Q_CLUSTER["retry"])
    # What a worker's claim leaves behind when the worker dies before it answers.
    delivery = WebhookDelivery.objects.create(
        job=job,
        url=hook_url,
        attempts=1,
        first_attempt_at=now,
        last_attempt_at=now,
        next_attempt_at=now + lease,
    )

    assert webhooks.deliver_due() == 0
    lease_over = timezone.now() + timedelta(seconds=settings.Q_CLUSTER["retry"] + 1)
    with time_machine.travel(lease_over):
        assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(endpoint.received)) == ("delivered", 2, 1)


def test_a_deleted_job_gets_no_more_attempts(failing_job, api_client, endpoint, hook_url):
    endpoint.statuses = [500]
    job_id = failing_job(webhook_url=hook_url).json()["id"]
    assert api_client.delete(f"/api/v1/swaps/{job_id}").status_code == 204

    _retry_when_due()

    delivery = _delivery()
    assert (delivery.status, delivery.last_error) == ("failed", "job_deleted")
    assert len(endpoint.received) == 1


def test_a_job_cancelled_by_delete_calls_no_webhook(
    api_client, upload, endpoint, hook_url, django_capture_on_commit_callbacks
):
    response = api_client.post(
        "/api/v1/swaps",
        {  # accepted; its task never runs
            "source_image": upload("grace_hopper.jpg"),
            "target_image": upload("astronaut.jpg"),
            "webhook_url": hook_url,
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        api_client.delete(f"/api/v1/swaps/{response.json()['id']}")

    assert not WebhookDelivery.objects.exists() and endpoint.received == []


def test_the_due_deliveries_schedule_runs_every_minute(settings):
    assert ("deliver-due-webhooks", "swaps.tasks.deliver_due_webhooks", 1) in SCHEDULES
    assert (
        settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"] > (settings.WEBHOOK_TIMEOUT_S)
    )


# --- Which URLs ------------------------------------------------------------------------------

NEVER_CALLABLE = [  # (url, reason); one test, so one account set-up, for them all
    ("http://127.0.0.1/hook", "address_not_public"),
    ("https://10.1.2.3/hook", "address_not_public"),
    ("http://169.254.169.254/latest/meta-data/", "address_not_public"),
    ("http://[::1]/hook", "address_not_public"),
    ("http://[::ffff:192.168.0.1]/hook", "address_not_public"),
    ("http://2130706433/hook", "numeric_host"),
    ("http://127.1/hook", "numeric_host"),
    ("http://example.com:8080/hook", "port"),
    ("https://user:pw@example.com/hook", "userinfo"),
    ("ftp://example.com/hook", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("example.com/hook", "scheme"),
]


def test_a_webhook_url_that_can_never_be_called_is_refused_at_once(failing_job, account):
    account.refresh_from_db()
    credits = account.credits
    for url, reason in NEVER_CALLABLE:
        response = failing_job(webhook_url=url)

        assert response.status_code == 400, url
        error = response.json()["error"]
        assert (error["code"], error["details"]) == (
            "url_not_allowed",
            {"field": "webhook_url", "reason": reason},
        ), url
    assert not SwapJob.objects.exists()
    account.refresh_from_db()
    assert account.credits == credits


def test_a_name_resolving_to_a_private_address_is_never_connected(
    failing_job, monkeypatch, no_network_listener
):
    # Production's address rule; the test widens only the port and names the listener.
    monkeypatch.setattr(
        webhook_urls,
        "webhook_policy",
        _policy(
            names={"evil.test": ["127.0.0.1"]},
            allowed=is_public_address,
            port=no_network_listener.port,
        ),
    )
    url = f"http://evil.test:{no_network_listener.port}/hook"

    assert failing_job(webhook_url=url).status_code == 202  # names resolve when calling
    delivery = _delivery()
    assert (delivery.status, delivery.last_status, delivery.last_error) == (
        "pending",
        None,
        "address_not_public",
    )
    _retry_when_due()
    assert _delivery().attempts == 2
    assert no_network_listener.accepted == []


BAD_VALUES = [
    5,
    0.5,
    True,
    [],
    ["http://a.example/"],
    {},
    {"url": "x"},
    None,
    "not a url",
    "http://[::1",
    "http://exa mple.com/",
    "http://ex\x00ample.com/",
    "https://%zz/",
    "http://a.example/\r\nX-Injected: 1",
    "https://" + "a" * 3000 + ".example/",
    "http://ａ.example:99999/",
    "//example.com/hook",
    "https://",
]


def test_bad_webhook_url_values_are_400s_never_500s(failing_job):
    for value in BAD_VALUES:
        response = failing_job(webhook_url=value)

        assert response.status_code == 400, (value, response.content)
        assert response.json()["error"]["code"] in {"invalid_parameter", "url_not_allowed"}
    assert not SwapJob.objects.exists()


def test_webhook_url_in_multipart(submit, upload, endpoint, hook_url):
    response = submit(
        {
            "source_image": upload("noise.png", _noise_png()),
            "target_image": upload("noise.png", _noise_png()),
            "webhook_url": hook_url,
        }
    )

    assert response.status_code == 202
    assert endpoint.received[0].json()["id"] == response.json()["id"]


def test_an_empty_webhook_url_means_none(failing_job, endpoint, hook_url):
    assert failing_job(webhook_url="").status_code == 202
    assert not WebhookDelivery.objects.exists()


# --- Logs, admin, dashboard ------------------------------------------------------------------


def test_logs_name_the_host_never_the_body_path_or_secret(
    failing_job, account, endpoint, hook_url, caplog
):
    endpoint.statuses = [500]
    with caplog.at_level(logging.DEBUG):
        failing_job(webhook_url=hook_url, client_reference="secret-order-ref")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "host=hooks.test" in logged and "status=500" in logged and "attempt=1" in logged
    for private in (
        account.webhook_secret,
        "t0ps3cret",
        "secret-order-ref",
        endpoint.received[0].headers["webhook-signature"],
    ):
        assert private not in logged


def test_admin_lists_deliveries_read_only_by_status(failing_job, endpoint, hook_url, admin_client):
    endpoint.statuses = [500]
    failing_job(webhook_url=hook_url)
    delivery = _delivery()
    base = "/admin/swaps/webhookdelivery/"

    pending = admin_client.get(base, {"status__exact": "pending"})
    assert pending.status_code == 200 and str(delivery.webhook_id) in pending.content.decode()
    delivered = admin_client.get(base, {"status__exact": "delivered"}).content.decode()
    assert str(delivery.webhook_id) not in delivered
    assert admin_client.get(base, {"q": str(delivery.job_id)[:8]}).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    change = admin_client.post(f"{base}{delivery.pk}/change/", {"status": "delivered"})
    assert change.status_code == 403
    assert _delivery().status == "pending"


def test_the_dashboard_shows_recent_calls_of_my_jobs_only(
    failing_job,
    endpoint,
    hook_url,
    client,
    account,
    other_api_client,
    django_capture_on_commit_callbacks,
    photo,
):
    endpoint.statuses = [502]
    failing_job(webhook_url=hook_url)
    with django_capture_on_commit_callbacks(execute=True):
        other_api_client.post(
            "/api/v1/swaps",
            {
                "source_image": base64.b64encode(photo("grace_hopper.jpg")).decode(),
                "target_image": base64.b64encode(_noise_png()).decode(),
                "webhook_url": hook_url.replace("hook?", "bobs-hook?"),
            },
            format="json",
        )
    assert WebhookDelivery.objects.count() == 2

    client.force_login(account.user)
    html = client.get("/dashboard/").content.decode()
    mine = WebhookDelivery.objects.get(job__account=account)
    assert "Recent webhook calls" in html and "HTTP 502" in html and "hooks.test" in html
    assert f"/swaps/{mine.job_id}/" in html
    theirs = WebhookDelivery.objects.exclude(pk=mine.pk).get()
    assert f"/swaps/{theirs.job_id}/" not in html
