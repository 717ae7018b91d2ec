"""Workflows of the face routes: detect and saved faces. Synchronous, no job, no credits.

Engine errors keep their codes (`no_face_detected`, `face_count_mismatch`, ...), which
the API answers with 400; any other engine failure is `processing_failed` (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from accounts import idempotency
from accounts.models import Account
from faceswap_site.codes import STATUS_BY_CODE
from faceswap_site.errors import ApiError
from swaps import decode_gate, engine
from swaps.imaging import INPUT_FORMATS
from swaps.imaging.decoding import decode_image, decode_reduced, reduction
from swaps.inputs import read_image_input
from swaps.models import SavedFace
from swaps.specs import ImageValue

MAX_SAVED_FACES = 1000  # per account: identities are small, but not free


# Detection never looks at more than a few megapixels of a photo (its finest pass
# is 1.5 MP), so a big JPEG is decoded at a reduced scale for it: a 29 MP photo
# takes a quarter of the memory and time.
DETECT_PIXELS = 6_000_000


def detect_faces_in(*, image: ImageValue) -> dict[str, Any]:
    """Faces of a photo, largest first: index, box [x, y, w, h] and detector score."""
    checked = read_image_input(image, field="image")
    info = checked.info
    denominator = reduction(info.format, info.width, info.height, DETECT_PIXELS)
    with decode_gate.decode_slot(info.width * info.height // denominator**2):
        decoded, scale = decode_reduced(
            checked.data,
            image="image",
            max_pixels=settings.MAX_IMAGE_PIXELS,
            keep_pixels=DETECT_PIXELS,
            allowed_formats=INPUT_FORMATS,
        )
    found = _engine_call(lambda: engine.detect_faces(decoded.array))
    height, width = (round(side / scale) for side in decoded.array.shape[:2])
    return {
        "width": width,
        "height": height,
        "faces": [
            {
                "index": index,
                "box": [round(v / scale) for v in face.box],
                "score": round(float(face.score), 3),
            }
            for index, face in enumerate(found)
        ],
    }


def create_saved_face(*, account: Account, name: str, image: ImageValue) -> SavedFace:
    """Keep what a later swap needs of the one face in `image` (not the photo itself)."""
    if SavedFace.objects.owned_by(account).count() >= MAX_SAVED_FACES:
        raise _too_many_faces()
    array = _decoded(image, field="image")
    identity = _engine_call(lambda: engine.face_identity(array))
    with transaction.atomic():
        face = SavedFace.objects.create(account=account, name=name, identity=identity.to_bytes())
        idempotency.record_created([face.pk])
    return face


def replace_saved_face(
    *, account: Account, name: str, image: ImageValue, field: str = "image"
) -> SavedFace:
    """A saved face under `name` that replaces the account's earlier ones of that name."""
    array = _decoded(image, field=field)
    identity = _engine_call(lambda: engine.face_identity(array))
    with transaction.atomic():
        SavedFace.objects.owned_by(account).filter(name=name).delete()
        if SavedFace.objects.owned_by(account).count() >= MAX_SAVED_FACES:
            raise _too_many_faces()
        return SavedFace.objects.create(account=account, name=name, identity=identity.to_bytes())


def _too_many_faces() -> ApiError:
    return ApiError(
        "invalid_parameter",
        f"You can keep at most {MAX_SAVED_FACES} saved faces: delete some first.",
        {"max_faces": MAX_SAVED_FACES},
    )


def delete_saved_face(*, face: SavedFace) -> None:
    """The identity lives in the row alone: deleting the row erases it."""
    face.delete()


def _decoded(value: ImageValue, *, field: str) -> np.ndarray:
    image = read_image_input(value, field=field)
    with decode_gate.decode_slot(image.info.width * image.info.height):
        return decode_image(
            image.data,
            image=field,
            max_pixels=settings.MAX_IMAGE_PIXELS,
            allowed_formats=INPUT_FORMATS,
        ).array  # a GIF: its first frame


def _engine_call(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except engine.EngineError as exc:
        if exc.code in STATUS_BY_CODE:
            raise
        raise ApiError("processing_failed", exc.message, {"reason": exc.code}) from exc
