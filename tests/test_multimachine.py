"""The service on three "machines" sharing only PostgreSQL, Redis and an S3 server.

One web machine (`manage.py serve --no-worker`, two web processes) and two worker
machines (`manage.py worker`), each with its own VAR_DIR and no shared folder. Jobs of
every kind go in through the API and come out completed, downloadable from the web
machine (which wrote none of them), then deleted with their objects; webhooks reach a
local receiver. Skipped unless `make test-multimachine` (run by `.ci/run`) gives:

    DATABASE_URL=postgres://...  REDIS_URL=redis://...
    MULTIMACHINE_S3_ENDPOINT=http://127.0.0.1:PORT   (a moto server: `moto_server -p PORT`)
"""

from __future__ import annotations

import io
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.machines import Services, WebMachine, WorkerMachine, postgres_database

S3_ENDPOINT = os.environ.get("MULTIMACHINE_S3_ENDPOINT", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.multimachine,
    pytest.mark.skipif(
        not (S3_ENDPOINT and DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="needs MULTIMACHINE_S3_ENDPOINT, DATABASE_URL=postgres://... and REDIS_URL",
    ),
]

FIXTURES = Path(__file__).parent / "fixtures"
JOB_TIMEOUT_S = 240
AWS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
METRICS_TOKEN = secrets.token_urlsafe(24)


# --- A webhook receiver --------------------------------------------------------------------


@dataclass
class Receiver:
    port: int
    bodies: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("webhook-signature", "").startswith("v1,"):
                got.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Receiver(server.server_address[1], got)
    server.shutdown()
    server.server_close()


# --- The machines --------------------------------------------------------------------------


@dataclass
class Cluster:
    web: WebMachine
    workers: list[WorkerMachine]
    api_key: str
    bucket: str
    s3: Any

    def keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Api-Key": self.api_key, **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.web.url}{path}", headers=headers, timeout=60, **kwargs
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("machines")
    bucket = f"faceswap-{secrets.token_hex(4)}"
    s3 = boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name="us-east-1", **_aws_keys())
    s3.create_bucket(Bucket=bucket)
    database_url, drop_database = postgres_database(
        DATABASE_URL, f"faceswap_mm_{secrets.token_hex(4)}"
    )
    services = Services(
        database_url=database_url,
        redis_url=REDIS_URL,
        storage_url=f"s3://{bucket}/media?endpoint_url={S3_ENDPOINT}&region_name=us-east-1",
        extra_env={
            **AWS,
            "DJANGO_SETTINGS_MODULE": "tests.multimachine_settings",
            "MULTIMACHINE_HOOK_PORT": str(receiver.port),
            "METRICS_TOKEN": METRICS_TOKEN,
        },
    )
    web = WebMachine(root / "web", services)
    services.extra_env["PUBLIC_BASE_URL"] = web.url
    workers = [WorkerMachine(f"worker-{n}", root / f"worker-{n}", services) for n in (1, 2)]
    machines = [*workers, web]  # workers first: they must wait for the database
    try:
        for machine in workers:
            machine.start()
        web.run("manage.py", "migrate", "--noinput", "--verbosity", "0")
        web.start()
        web.wait_ready()
        api_key = web.seed_api_key(credits=500, hourly=500, daily=5000)
        yield Cluster(web, workers, api_key, bucket, s3)
    except BaseException:
        for machine in machines:
            print(machine.log_tail())
        raise
    finally:
        for machine in machines:
            machine.stop()
        drop_database()


def _aws_keys() -> dict[str, str]:
    return {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


# --- Jobs ----------------------------------------------------------------------------------


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _two_faces() -> bytes:
    import cv2

    from tests.images import TWO_FACES, tiled_faces

    image, _ = tiled_faces(TWO_FACES)
    return cv2.imencode(".png", image)[1].tobytes()


def _small_gif() -> bytes:
    import cv2

    from tests.animations import moving_face_frames, pillow_gif

    frames = [cv2.resize(f, (320, 240)) for f in moving_face_frames(count=3)]
    return pillow_gif(frames, [80, 80, 80])


def _submit(cluster: Cluster, files: dict[str, Any], data: dict[str, str]) -> str:
    response = cluster.api("POST", "/api/v1/swaps", files=files, data=data)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _final(cluster: Cluster, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    jobs: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        jobs = {job_id: cluster.api("GET", f"/api/v1/swaps/{job_id}").json() for job_id in job_ids}
        if all(job["status"] in ("completed", "failed") for job in jobs.values()):
            return jobs
        time.sleep(0.5)
    raise AssertionError(f"jobs still running after {JOB_TIMEOUT_S}s: {jobs}")


def _worker_names(cluster: Cluster, job_ids: list[str]) -> set[str]:
    """Which worker process ran each job, from the shared database."""
    out = cluster.web.run(
        "manage.py",
        "shell",
        "-c",
        "import json; from swaps.models import SwapJob; "
        f"print(json.dumps(list(SwapJob.objects.filter(pk__in={job_ids!r})"
        ".values_list('worker', flat=True))))",
    )
    return set(json.loads(out.strip().splitlines()[-1]))


def test_jobs_of_every_kind_run_across_machines(cluster: Cluster, receiver: Receiver):
    grace, astronaut, two = _fixture("grace_hopper.jpg"), _fixture("astronaut.jpg"), _two_faces()
    face = cluster.api(
        "POST", "/api/v1/faces", files={"image": ("g.jpg", grace)}, data={"name": "g"}
    )
    assert face.status_code == 201, face.text
    hook = f"http://hooks.test:{receiver.port}/hook"
    kinds = {
        "single": ({"source_image": grace, "target_image": astronaut}, {"webhook_url": hook}),
        "multi-face": (
            {"source_image": two, "target_image": two},
            {"source_faces_index": "0,1", "target_faces_index": "1,0"},
        ),
        "reference": (
            {"source_image": grace, "target_image": two, "reference_image": astronaut},
            {},
        ),
        "gif": ({"source_image": grace, "target_image": _small_gif()}, {"webhook_url": hook}),
        "saved-face": ({"target_image": astronaut}, {"source_face_id": face.json()["id"]}),
        "base64": ({"source_image": grace, "target_image": astronaut}, {"return_base64": "true"}),
    }
    ids = {
        kind: _submit(cluster, {k: (k, v) for k, v in files.items()}, data)
        for kind, (files, data) in kinds.items()
    }
    jobs = _final(cluster, list(ids.values()))

    results = {}
    for kind, job_id in ids.items():
        job = jobs[job_id]
        assert job["status"] == "completed", (kind, job["error"])
        download = requests.get(job["result_url"], timeout=30)  # no key: the signed URL
        assert download.status_code == 200 and len(download.content) > 1000, kind
        results[kind] = download.content
    assert results["gif"].startswith(b"GIF89a") and jobs[ids["gif"]]["faces"]["frames"] == 3
    assert jobs[ids["multi-face"]]["faces"]["swapped"] == [[0, 1], [1, 0]]
    assert jobs[ids["base64"]]["result_base64"]
    # Only results are left in the bucket (inputs erased), and no machine kept a file.
    keys = cluster.keys()
    assert len(keys) == len(ids) and all(k.startswith("media/results/") for k in keys)
    for machine in [cluster.web, *cluster.workers]:
        assert machine.local_media() == [], machine.name
    # Both worker machines took jobs.
    assert len(_worker_names(cluster, list(ids.values()))) == 2

    _webhooks_arrive(receiver, {ids["single"], ids["gif"]})
    _metrics_count(cluster, completed=len(ids))

    for job_id in ids.values():
        assert cluster.api("DELETE", f"/api/v1/swaps/{job_id}").status_code == 204
    assert cluster.keys() == []
    for job_id in ids.values():
        assert requests.get(jobs[job_id]["result_url"], timeout=30).status_code == 404


def _webhooks_arrive(receiver: Receiver, job_ids: set[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = {body["id"]: body for body in receiver.bodies}
        if job_ids <= delivered.keys():
            for job_id in job_ids:
                body = delivered[job_id]
                assert body["status"] == "completed"
                result = requests.get(body["result_url"], timeout=30)  # PUBLIC_BASE_URL
                assert result.status_code == 200
            return
        time.sleep(0.3)
    raise AssertionError(f"webhooks not delivered: {job_ids - set(delivered)}")


def _metrics_count(cluster: Cluster, *, completed: int) -> None:
    assert cluster.api("GET", "/metrics").status_code == 401  # the API key is not the token
    response = requests.get(
        f"{cluster.web.url}/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200
    text = response.text
    assert f'faceswap_jobs{{status="completed"}} {float(completed)}' in text
    assert 'faceswap_http_requests_total{method="POST",route="api:swap-list",status="202"}' in text


def test_ready_names_database_broker_and_storage(cluster: Cluster):
    body = requests.get(f"{cluster.web.url}/readyz", timeout=10).json()
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


def test_a_result_written_by_a_worker_is_served_by_the_web_machine(cluster: Cluster):
    job_id = _submit(
        cluster,
        {
            "source_image": ("s.jpg", _fixture("grace_hopper.jpg")),
            "target_image": ("t.jpg", _fixture("astronaut.jpg")),
        },
        {"output_format": "png"},
    )
    job = _final(cluster, [job_id])[job_id]
    result = cluster.api("GET", f"/api/v1/swaps/{job_id}/result")
    assert result.status_code == 200 and result.headers["Content-Type"] == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(result.content)).size == (512, 512)
    assert job["processing_ms"] > 0


def test_schedules_run_through_the_redis_broker(cluster: Cluster):
    """Every maintenance schedule (in the database) is run by one of the worker machines."""
    query = (
        "import json; from django_q.models import Schedule, Success; "
        "print(json.dumps([sorted(Schedule.objects.filter(task__isnull=True)"
        ".values_list('name', flat=True)), sorted(set(Success.objects.filter("
        "func__in=Schedule.objects.values('func')).values_list('func', flat=True)))]))"
    )
    from swaps.schedules import SCHEDULES

    expected = {func for _name, func, _minutes in SCHEDULES}
    deadline = time.monotonic() + 150  # the scheduler looks every 30 s
    while True:
        out = cluster.web.run("manage.py", "shell", "-c", query)
        not_run, succeeded = json.loads(out.strip().splitlines()[-1])
        if not not_run and set(succeeded) == expected:
            break
        assert time.monotonic() < deadline, f"schedules not run: {not_run}, ok: {succeeded}"
        time.sleep(3)
