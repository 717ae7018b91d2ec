"""Error codes in people's words, for the pages."""

from __future__ import annotations

import pytest

from swaps.plain_words import in_plain_words, photo_name


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("source_image", "source photo"),
        ("target", "target photo"),
        ("source_2", "second source photo"),
        ("reference", "reference photo"),
        (None, "photo"),
    ],
)
def test_images_are_named_as_people_say_them(image, name):
    assert photo_name(image) == name


@pytest.mark.parametrize(
    ("code", "details", "text"),
    [
        (
            "image_too_large",
            {"image": "source_image", "max_bytes": 15 * 2**20},
            "The source photo is larger than 15 MB.",
        ),
        (
            "image_too_large",
            {"image": "target", "max_pixels": 100_000_000},
            "The target photo has too many pixels: at most 100 million.",
        ),
        (
            "face_index_out_of_range",
            {"image": "target", "index": 3, "faces": 2},
            "The target photo shows 2 faces; there is no face number 4. Face 1 is the largest.",
        ),
        (
            "face_not_swappable",
            {"image": "source", "reason": "turned_away"},
            "The face in the source photo is turned too far from the camera: use a photo where it "
            "faces the camera.",
        ),
    ],
)
def test_details_become_sentences(code, details, text):
    assert in_plain_words(code, details, "fallback") == text


def test_an_unknown_code_keeps_the_message_given():
    assert in_plain_words("something_new", {}, "The original message.") == "The original message."
