"""C2PA Content Credentials on results, as the settings say (swaps.imaging.credentials signs).

C2PA_ENABLED (default on) turns them on; C2PA_CERT and C2PA_KEY name a certificate chain
and its key; without them the service signs with its own, made at first start in
VAR_DIR/c2pa (ca.pem there is what a verifier adds as a trust anchor).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from django.conf import settings

from swaps.imaging import credentials

logger = logging.getLogger(__name__)

GENERATOR = "FaceSwap"
GENERATOR_VERSION = "1.0"
_lock = threading.Lock()
_signers: dict[tuple[str, ...], credentials.ContentCredentials] = {}


def local_folder() -> Path:
    return Path(settings.VAR_DIR) / "c2pa"


def identity() -> credentials.SigningIdentity:
    if settings.C2PA_CERT:
        return credentials.load_identity(Path(settings.C2PA_CERT), Path(settings.C2PA_KEY))
    return credentials.local_identity(local_folder(), organisation=GENERATOR)


def signer() -> credentials.ContentCredentials:
    """This process's signer, made once for the settings in force (tests change them)."""
    key = (settings.C2PA_CERT, settings.C2PA_KEY, str(local_folder()), settings.OUTPUT_NOTE)
    with _lock:
        if key not in _signers:
            _signers[key] = credentials.ContentCredentials(
                identity(),
                generator=GENERATOR,
                version=GENERATOR_VERSION,
                note=settings.OUTPUT_NOTE,
            )
        return _signers[key]


def sign_result(data: bytes, fmt: str) -> bytes:
    """The result with its Content Credentials, or as it was if they are off or fail.

    A failure is logged, not the job's end: the result still carries the provenance
    note and XMP of swaps.imaging.provenance, and the start-up check (swaps.checks)
    has already tried this signer once.
    """
    if not settings.C2PA_ENABLED or fmt not in credentials.MIME_TYPES:
        return data
    try:
        return signer().sign(data, fmt)
    except Exception:
        logger.exception("content credentials: the %s result could not be signed", fmt)
        return data
