"""Property-based tests of the whole API from its own served schema (schemathesis).

Every operation in /api/schema/ gets generated requests, valid and invalid, with a valid
key: no answer may be a 5xx, every answer must match the schema (status, headers, body),
and every error must be the JSON envelope. Left out: schemathesis's "schema-valid data is
accepted", since an image field is any string or file to a schema, and only a decodable
photo with a face in it is accepted. The number of generated cases is printed
(`pytest -s`) and recorded in the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from accounts.keys import create_api_key
from accounts.models import Account, Plan
from faceswap_site.wsgi import application
from tests.helpers import make_account

# 30 in the suite (18 operations: 540 cases, ~40 s); more for a long run by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "30"))
# The suite's cases are the same every run (CI stays repeatable); a long run explores anew.
REPEATABLE = "SCHEMA_FUZZ_EXAMPLES" not in os.environ
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}
# Routes of other services answer errors in those services' shapes (their own schemas).
FOREIGN_ERROR_SHAPES = ("/v1/", "/api/v6/")
# Segmind's answer for "not done within the wait" is its documented 504; no worker runs
# here, so every job it accepts (a 1x1 PNG is a valid image) ends that way.
TIMES_OUT_BY_DESIGN = "/v1/models/faceswap-v2"


# Generating the schema reads no table, so it can load at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def fuzz_key(db: None) -> str:
    """A key whose account neither runs out of credits nor hits a rate window."""
    plan = Plan.objects.create(
        slug="fuzz",
        name="Fuzz",
        hourly_limit=1_000_000,
        daily_limit=1_000_000,
        read_hourly_limit=1_000_000,
        monthly_credits=0,
    )
    account: Account = make_account("fuzz@example.com")
    Account.objects.filter(pk=account.pk).update(plan=plan, credits=1_000_000)
    return create_api_key(account=account, name="fuzz").raw


def assert_envelope(response: Any) -> None:
    body = response.json()
    assert body["success"] is False, body
    assert isinstance(body["error"]["code"], str) and body["error"]["message"], body


@pytest.fixture(autouse=True)
def _one_connection_for_the_test() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, whose request_finished signal would close
    the database connection the test's transaction lives on (on PostgreSQL). Django's own
    test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiting routes answer at once: no worker runs here, every job would wait it out."""
    from swaps import waiting
    from swaps.api import compat_modelslab, compat_segmind, compat_useapi

    monkeypatch.setattr(waiting, "MAX_WAIT_S", 0)  # Prefer: wait=N waits 0 s
    monkeypatch.setattr(compat_segmind, "SYNC_WAIT_S", 0)
    monkeypatch.setattr(compat_useapi, "SYNC_WAIT_S", 0)
    monkeypatch.setattr(compat_modelslab, "MODELSLAB_WAIT_S", 0)


def excluded_checks(case: Any) -> list[Any]:
    excluded = [positive_data_acceptance]
    if case.path == TIMES_OUT_BY_DESIGN:
        excluded.append(not_a_server_error)
    if case.media_type in FORM_TYPES:
        # A form carries text only: `enhance=0` is a valid boolean to it, not "an integer".
        excluded.append(negative_data_rejection)
    return excluded


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=REPEATABLE,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(
    case: Any, fuzz_key: str, settings: Any
) -> None:
    settings.UPLOAD_RATE = "1000000/m"
    # Both ways of sending the key, so a generated (invalid) value of either is replaced;
    # schemathesis then also probes each operation without a key and with a wrong one.
    response = case.call_and_validate(
        headers={"X-Api-Key": fuzz_key, "Authorization": f"Bearer {fuzz_key}"},
        excluded_checks=excluded_checks(case),
    )
    if response.status_code >= 400 and not case.path.startswith(FOREIGN_ERROR_SHAPES):
        assert_envelope(response)
