"""/metrics: Prometheus text behind a bearer token; jobs and credits from the database."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


def _noise_png() -> bytes:
    rng = np.random.default_rng(3)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def scrape(settings: Any, client: Any) -> Any:
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return get


def test_without_a_token_setting_there_are_no_metrics(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_a_wrong_or_missing_token_is_refused(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")


def test_requests_are_counted_by_route_and_status(scrape, api_client):
    before = scrape()
    api_client.get("/api/v1/swaps/00000000-0000-0000-0000-000000000000")
    api_client.get("/no/such/page")
    after = scrape()

    job_route = (("method", "GET"), ("route", "api:swap-detail"), ("status", "404"))
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    for labels in (job_route, unmatched):
        key = ("faceswap_http_requests_total", labels)
        assert after[key] == before.get(key, 0) + 1


def test_jobs_waits_durations_and_credits_come_from_the_database(
    scrape, submit, upload, api_client, pending_job
):
    done = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )
    faceless = upload("noise.png", _noise_png())
    failed = submit({"source_image": faceless, "target_image": upload("astronaut.jpg")})
    assert api_client.get(f"/api/v1/swaps/{done.json()['id']}").json()["status"] == "completed"
    assert api_client.get(f"/api/v1/swaps/{failed.json()['id']}").json()["status"] == "failed"

    metrics = scrape()

    def value(name: str, **labels: str) -> float:
        return metrics[(name, tuple(sorted(labels.items())))]

    assert value("faceswap_jobs", status="completed") == 1
    assert value("faceswap_jobs", status="failed") == 1
    assert value("faceswap_jobs", status="pending") == 1
    assert value("faceswap_queue_depth") == 1
    assert value("faceswap_credits_charged_total") == 3
    assert value("faceswap_credits_refunded_total") == 1
    assert value("faceswap_job_duration_seconds_count") == 1  # the failed one has no time
    assert value("faceswap_job_duration_seconds_bucket", le="+Inf") == 1
    assert value("faceswap_job_duration_seconds_sum") > 0
    assert value("faceswap_job_wait_seconds_count") == 2  # the two that started
    assert value("faceswap_job_wait_seconds_bucket", le="300.0") == 2
    assert "faceswap_broker_queue_size" in {name for name, _ in metrics}
