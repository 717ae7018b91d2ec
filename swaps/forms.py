"""The browser's swap form; the images themselves are checked by swaps.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from swaps.engine import DEFAULT_LIKENESS
from swaps.plain_words import in_plain_words
from swaps.specs import MAX_FACE_INDEX, OUTPUT_FORMATS, NamedImage, SwapOptions, SwapSpec

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/gif,.jpg,.jpeg,.png,.webp,.gif"
IMAGE_FIELDS = ("source_image", "target_image")
FORMAT_LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF"}


def max_image_mb() -> str:
    """The per-image limit for people: '15', '7.5'."""
    return f"{settings.MAX_IMAGE_BYTES / (1024 * 1024):.1f}".removesuffix(".0")


def _image_field(label: str, hint: str) -> forms.FileField:
    # A plain FileField: format, size and pixel checks live in one place (the service),
    # so the browser and the API refuse the same files with the same words.
    return forms.FileField(
        label=label,
        help_text=f"{hint} JPEG, PNG, WebP or GIF, up to {max_image_mb()} MB.",
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
    )


def _face_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        initial=0,
        min_value=0,
        max_value=MAX_FACE_INDEX,
        help_text="0 is the largest face, 1 the next largest, and so on.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class NewSwapForm(forms.Form):
    source_image = _image_field("Source photo", "The face to use.")
    target_image = _image_field("Target photo", "The photo to change.")
    source_face = _face_field("Face in the source photo")
    target_face = _face_field("Face in the target photo")
    output_format = forms.ChoiceField(
        label="Output format",
        required=False,
        initial="",
        choices=[("", "Same as the target photo")]
        + [(f, FORMAT_LABELS.get(f, f.upper())) for f in OUTPUT_FORMATS],
    )
    likeness = forms.FloatField(
        label="Likeness to the source face",
        required=False,
        initial=DEFAULT_LIKENESS,
        min_value=0.0,
        max_value=1.0,
        help_text=f"0 fits the target photo most closely, 1 looks most like the source "
        f"face. Default {DEFAULT_LIKENESS:g}.",
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    enhance = forms.BooleanField(
        label="Enhance the swapped face",
        required=False,
        help_text="Sharpen and restore its detail.",
    )

    def to_spec(self) -> SwapSpec:
        data = self.cleaned_data
        options = SwapOptions(
            source_faces=(data.get("source_face") or 0,),
            target_faces=(data.get("target_face") or 0,),
            output_format=data.get("output_format") or None,
            likeness=data.get("likeness"),
            enhance=bool(data.get("enhance")),
        )
        return SwapSpec(
            target=NamedImage("target_image", data["target_image"]),
            sources=(NamedImage("source_image", data["source_image"]),),
            options=options,
        )

    def add_input_error(self, error: Any) -> None:
        """Show a typed input error (imaging, fetch, credits) in people's words, on the
        image it is about."""
        details = getattr(error, "details", None) or {}
        field = details.get("image")
        fallback = getattr(error, "message", None) or str(error)
        message = in_plain_words(getattr(error, "code", None), details, fallback)
        self.add_error(field if field in IMAGE_FIELDS else None, message)
