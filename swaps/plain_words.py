"""Errors in people's words, for the browser pages (the API keeps its codes and messages).

"The source photo is larger than 15 MB" rather than "source_image is 17208468 bytes";
advice where there is some to give.
"""

from __future__ import annotations

from typing import Any

NOT_SWAPPABLE = {
    "cut_off": "is cut off by the edge of the picture: use a photo showing the whole face",
    "turned_away": "is turned too far from the camera: use a photo where it faces the camera",
    "too_small": "is too small to swap well: use a larger or closer photo of the face",
}
_PHRASES = {
    "invalid_image_format": "The {photo} is not a JPEG, PNG, WebP or GIF image we can read.",
    "no_face_detected": "We could not find a face in the {photo}: use a photo where the face "
    "is clearly visible and facing the camera.",
    "url_fetch_failed": "We could not download the {photo} from that address.",
    "url_not_allowed": "That address for the {photo} is not allowed: use a public web address.",
    "insufficient_credits": "You have no credits left for this swap. Credits come back each "
    "month with your plan.",
    "processing_failed": "Something went wrong while swapping these photos. Please try again, "
    "or with other photos.",
}


def photo_name(image: str | None) -> str:
    """ "source_image", "source_2", "target" -> "source photo", "second source photo"..."""
    base, _, number = (image or "").removesuffix("_image").partition("_")
    if base not in ("source", "target", "reference"):
        return "photo"
    ordinal = {"1": "first", "2": "second", "3": "third", "4": "fourth"}.get(number)
    return f"{ordinal} {base} photo" if ordinal else f"{base} photo"


def in_plain_words(code: str | None, details: dict[str, Any] | None, fallback: str) -> str:
    """The sentence a person reads for an error ``code`` with its ``details``."""
    details = details or {}
    photo = photo_name(details.get("image"))
    special = _SPECIAL.get(code or "")
    if special is not None:
        return special(photo, details)
    phrase = _PHRASES.get(code or "")
    return phrase.format(photo=photo) if phrase else fallback


def _too_large(photo: str, details: dict[str, Any]) -> str:
    if "max_bytes" in details:
        return f"The {photo} is larger than {_size(details['max_bytes'])}."
    if "max_pixels" in details:
        return f"The {photo} has too many pixels: at most {details['max_pixels'] / 1e6:g} million."
    return f"The {photo} is too large."


def _size(count: int) -> str:
    if count >= 2**20:
        return f"{round(count / 2**20, 1):g} MB"
    return f"{max(1, round(count / 1024))} KB"


def _index_out_of_range(photo: str, details: dict[str, Any]) -> str:
    faces = details.get("faces", 0)
    shown = f"{faces} face" + ("" if faces == 1 else "s")
    return (
        f"The {photo} shows {shown}; there is no face number "
        f"{int(details.get('index', 0)) + 1}. Face 1 is the largest."
    )


def _count_mismatch(photo: str, details: dict[str, Any]) -> str:
    return (
        "The faces you chose cannot be paired: choose one source face, or one for each target face."
    )


def _not_swappable(photo: str, details: dict[str, Any]) -> str:
    reason = NOT_SWAPPABLE.get(details.get("reason", ""), "cannot be swapped well")
    return f"The face in the {photo} {reason}."


_SPECIAL = {
    "image_too_large": _too_large,
    "face_index_out_of_range": _index_out_of_range,
    "face_count_mismatch": _count_mismatch,
    "face_not_swappable": _not_swappable,
}
