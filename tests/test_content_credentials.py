"""C2PA Content Credentials on results: present, valid, saying an AI face swap was made here."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from swaps.animated import encode_animation
from swaps.checks import content_credentials_sign
from swaps.imaging import credentials
from swaps.imaging.encoding import encode_image
from swaps.imaging.provenance import read_note
from swaps.models import SwapJob
from tests.animations import moving_face_frames, pillow_gif

ROOT = Path(__file__).resolve().parent.parent
NOTE = "Altered by FaceSwap: this image contains an AI face swap."


@pytest.fixture
def own_var(settings: Any, tmp_path: Path) -> Path:
    """A fresh VAR_DIR: the service makes its signing certificate there at first use."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "c2pa"


def _actions(found: dict[str, Any]) -> list[tuple[str, str | None]]:
    (actions,) = [
        a["data"]["actions"]
        for a in found["manifest"]["assertions"]
        if a["label"].startswith("c2pa.actions")
    ]
    return [(a["action"], a.get("digitalSourceType")) for a in actions]


def _result(job_id: str) -> tuple[SwapJob, bytes]:
    job = SwapJob.objects.get(pk=job_id)
    with job.result.open("rb") as handle:
        return job, handle.read()


def _picture() -> np.ndarray:
    rng = np.random.default_rng(5)
    return rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)


def _signer(identity: credentials.SigningIdentity) -> credentials.ContentCredentials:
    return credentials.ContentCredentials(identity, generator="FaceSwap", version="1", note=NOTE)


# --- Over HTTP: a swap's result -------------------------------------------------------------


@pytest.mark.django_db
def test_a_result_carries_valid_content_credentials(submit, upload, own_var, settings):
    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )
    job, data = _result(response.json()["id"])
    assert job.status == "completed"

    trusted = credentials.read_credentials(
        data, "jpeg", trust_pem=(own_var / "ca.pem").read_bytes()
    )
    plain = credentials.read_credentials(data, "jpeg")

    assert trusted["state"] == "Trusted"  # issued by the CA the service made for itself
    assert plain["state"] == "Valid"  # intact and correctly signed, CA not known to the reader
    assert ("c2pa.edited", credentials.AI_COMPOSITE) in _actions(plain)
    assert plain["manifest"]["claim_generator_info"][0]["name"] == "FaceSwap"
    assert read_note(data) == settings.OUTPUT_NOTE  # the older marks stay
    assert "credentials" in job.timings
    assert stat.S_IMODE((own_var / "key.pem").stat().st_mode) == 0o600


@pytest.mark.django_db
def test_an_animated_result_carries_them_too(submit, upload, own_var):
    clip = pillow_gif(moving_face_frames(count=3), [80, 80, 80], loop=0)
    response = submit(
        {"source_image": upload("astronaut.jpg"), "target_image": upload("c.gif", clip)}
    )

    job, data = _result(response.json()["id"])

    assert job.status == "completed", job.error_message
    found = credentials.read_credentials(data, "gif")
    assert found["state"] == "Valid" and ("c2pa.edited", credentials.AI_COMPOSITE) in _actions(
        found
    )


@pytest.mark.django_db
def test_turned_off_the_result_has_only_the_older_marks(submit, upload, own_var, settings):
    settings.C2PA_ENABLED = False
    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )

    _, data = _result(response.json()["id"])

    assert credentials.read_credentials(data, "jpeg") is None
    assert read_note(data) == settings.OUTPUT_NOTE
    assert not own_var.exists()  # nothing made when off


@pytest.mark.django_db
def test_a_configured_certificate_signs_instead(submit, upload, own_var, settings, tmp_path):
    identity, _ = credentials.make_identity(organisation="Example Studio")
    (tmp_path / "chain.pem").write_bytes(identity.chain_pem)
    (tmp_path / "key.pem").write_bytes(identity.key_pem)
    settings.C2PA_CERT, settings.C2PA_KEY = str(tmp_path / "chain.pem"), str(tmp_path / "key.pem")
    response = submit(
        {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
    )

    _, data = _result(response.json()["id"])

    found = credentials.read_credentials(data, "jpeg")
    assert (
        found["manifest"]["signature_info"]["common_name"] == "Example Studio content credentials"
    )
    assert not own_var.exists()


@pytest.mark.django_db
def test_a_signing_failure_still_delivers_the_marked_result(
    submit, upload, own_var, settings, tmp_path, caplog
):
    identity, _ = credentials.make_identity(organisation="Expired")
    other, _ = credentials.make_identity(organisation="Other")
    (tmp_path / "chain.pem").write_bytes(identity.chain_pem)
    (tmp_path / "key.pem").write_bytes(other.key_pem)  # not the certificate's key
    settings.C2PA_CERT, settings.C2PA_KEY = str(tmp_path / "chain.pem"), str(tmp_path / "key.pem")

    with caplog.at_level(logging.ERROR, logger="swaps.content_credentials"):
        response = submit(
            {"source_image": upload("grace_hopper.jpg"), "target_image": upload("astronaut.jpg")}
        )

    job, data = _result(response.json()["id"])
    assert job.status == "completed"
    assert credentials.read_credentials(data, "jpeg") is None
    assert read_note(data) == settings.OUTPUT_NOTE
    assert "could not be signed" in caplog.text
    assert content_credentials_sign()[0].id == "swaps.E002"  # and the start-up check says so


# --- The signing itself ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_every_output_format_is_signed_and_reads_back_valid(fmt):
    identity, ca_pem = credentials.make_identity(organisation="FaceSwap")
    if fmt == "gif":
        data = encode_animation([_picture(), _picture()[::-1]], [50, 50], loop=0, note=NOTE)
    else:
        data = encode_image(_picture(), fmt, note=NOTE)

    signed = _signer(identity).sign(data, fmt)

    found = credentials.read_credentials(signed, fmt, trust_pem=ca_pem)
    assert found["state"] == "Trusted"
    assert _actions(found) == [
        ("c2pa.created", credentials.AI_COMPOSITE),
        ("c2pa.edited", credentials.AI_COMPOSITE),
    ]
    assert "thumbnail" not in found["manifest"]  # no second copy of the picture
    assert read_note(signed) == NOTE


def test_changed_pixels_break_the_credentials():
    identity, _ = credentials.make_identity(organisation="FaceSwap")
    signed = bytearray(_signer(identity).sign(encode_image(_picture(), "png", note=NOTE), "png"))
    idat = signed.index(b"IDAT")
    signed[idat + 20] ^= 0xFF

    assert credentials.read_credentials(bytes(signed), "png")["state"] == "Invalid"


def test_the_own_certificate_is_made_once_and_kept(tmp_path):
    first = credentials.local_identity(tmp_path / "c2pa", organisation="FaceSwap")
    again = credentials.local_identity(tmp_path / "c2pa", organisation="FaceSwap")

    assert first == again
    assert sorted(p.name for p in (tmp_path / "c2pa").iterdir()) == [
        "ca.pem",
        "chain.pem",
        "key.pem",
    ]
    assert stat.S_IMODE((tmp_path / "c2pa").stat().st_mode) == 0o700


def test_a_process_losing_the_race_signs_with_the_winners_key(tmp_path):
    folder = tmp_path / "c2pa"
    winner = credentials.local_identity(folder, organisation="FaceSwap")

    credentials._make_local_identity(folder, "FaceSwap")  # a second process, a moment late

    assert credentials.local_identity(folder, organisation="FaceSwap") == winner
    assert [p.name for p in tmp_path.iterdir()] == ["c2pa"]  # no staging folder left


def test_only_keys_c2pa_can_sign_with_are_accepted():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert credentials.algorithm_for(p384) == "es384"
    secp256k1 = ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError):
        credentials.algorithm_for(secp256k1)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"C2PA_CERT": "/nonexistent/chain.pem"}, "C2PA_CERT and C2PA_KEY go together"),
        (
            {"C2PA_CERT": "/nonexistent/chain.pem", "C2PA_KEY": "/nonexistent/key.pem"},
            "C2PA_CERT names no readable file",
        ),
        ({"C2PA_ENABLED": "perhaps"}, "C2PA_ENABLED must be a boolean"),
    ],
)
def test_bad_settings_stop_the_start(env, message, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import faceswap_site.settings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "VAR_DIR": str(tmp_path), **env},
    )
    assert done.returncode != 0 and message in done.stderr
