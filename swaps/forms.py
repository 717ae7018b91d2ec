"""The browser's swap form; the images themselves are checked by swaps.services.

Everything the API can ask for is here: several source photos (or saved faces), a
reference photo, every face ("all"), face lists, and the consent the page requires.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from accounts.models import Account
from swaps.engine import DEFAULT_LIKENESS
from swaps.models import SavedFace
from swaps.plain_words import in_plain_words
from swaps.specs import (
    MAX_FACE_INDEX,
    MAX_SOURCES,
    OUTPUT_FORMATS,
    FaceIndices,
    NamedImage,
    SwapOptions,
    SwapSpec,
)

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp,image/gif,.jpg,.jpeg,.png,.webp,.gif"
IMAGE_FIELDS = ("source_image", "target_image", "reference_image")
FORMAT_LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF"}
CONSENT_LABEL = "I have the right to use these photos and the consent of the people in them"


def max_image_mb() -> str:
    """The per-image limit for people: '15', '7.5'."""
    return f"{settings.MAX_IMAGE_BYTES / (1024 * 1024):.1f}".removesuffix(".0")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Up to `max_files` files in one field (the API's repeated `source_image`)."""

    def __init__(self, *, max_files: int, **kwargs: Any) -> None:
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_TYPES}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(items) > self.max_files:
            raise forms.ValidationError(f"Choose at most {self.max_files} photos.")
        if not items and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def _image_field(label: str, hint: str, *, required: bool = True) -> forms.FileField:
    # A plain FileField: format, size and pixel checks live in one place (the service),
    # so the browser and the API refuse the same files with the same words.
    return forms.FileField(
        label=label,
        required=required,
        help_text=f"{hint} JPEG, PNG, WebP or GIF, up to {max_image_mb()} MB.",
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
    )


def parse_faces(text: str, *, allow_all: bool) -> FaceIndices | str | None:
    """'0', '1,0' or (targets) 'all', as the API's *_faces_index; '' is the default."""
    text = text.strip().lower()
    if not text:
        return None
    if text == "all":
        if not allow_all:
            raise forms.ValidationError("'All' is only for faces in the target photo.")
        return "all"
    try:
        indices = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise forms.ValidationError("Face numbers separated by commas, like 0 or 1,0.") from None
    if any(not 0 <= index <= MAX_FACE_INDEX for index in indices):
        raise forms.ValidationError(f"Face numbers go from 0 to {MAX_FACE_INDEX}.")
    return indices


def _faces_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        initial="0",
        max_length=200,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off"}),
    )


class NewSwapForm(forms.Form):
    source_image = MultipleFileField(
        label="Source photos",
        required=False,
        max_files=MAX_SOURCES,
        help_text=f"The face to use (up to {MAX_SOURCES} photos for several faces). JPEG, "
        f"PNG, WebP or GIF, up to {max_image_mb()} MB each.",
    )
    target_image = _image_field("Target photo", "The photo to change.")
    saved_faces = forms.ModelMultipleChoiceField(
        label="Or use saved faces",
        queryset=SavedFace.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Instead of source photos.",
    )
    within_target = forms.BooleanField(
        label="No source: swap faces within the target photo",
        required=False,
        help_text="The two largest faces of the target photo trade places (or the faces "
        "you choose: source faces and target faces, both from the target photo).",
    )
    reference_image = _image_field(
        "Reference photo (optional)",
        "Changes the target face that looks most like the face in this photo.",
        required=False,
    )
    source_face = _faces_field(
        "Faces to use from the source photos",
        "0 is the largest face, 1 the next; several: 0,1. Faces of several photos are "
        "numbered together, photo by photo.",
    )
    target_face = _faces_field(
        "Faces to change in the target photo",
        "0 is the largest face; several: 1,0 (source face k goes into target face k); "
        "all: every face.",
    )
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
    keep_hands = forms.BooleanField(
        label="Keep hands in front of the face",
        required=False,
        help_text="A hand over the target's face stays over the new one (slower).",
    )
    consent = forms.BooleanField(
        label=CONSENT_LABEL,
        required=True,
        error_messages={"required": "Please confirm you may use these photos."},
    )

    def __init__(self, *args: Any, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if account is not None:
            self.fields["saved_faces"].queryset = SavedFace.objects.owned_by(account).defer(
                "identity"
            )

    def clean_source_face(self) -> FaceIndices | str | None:
        return parse_faces(self.cleaned_data.get("source_face") or "", allow_all=False)

    def clean_target_face(self) -> FaceIndices | str | None:
        return parse_faces(self.cleaned_data.get("target_face") or "", allow_all=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        sources, faces = data.get("source_image"), data.get("saved_faces")
        within = data.get("within_target")
        if within and (sources or faces):
            self.add_error("within_target", "Leave the source photos and saved faces empty.")
        if "source_image" in data and not sources and not faces and not within:
            self.add_error("source_image", "Choose a source photo, or a saved face.")
        if sources and faces:
            self.add_error("saved_faces", "Use source photos or saved faces, not both.")
        if faces is not None and len(faces) > MAX_SOURCES:
            self.add_error("saved_faces", f"Choose at most {MAX_SOURCES} saved faces.")
        src, dst = data.get("source_face"), data.get("target_face")
        if isinstance(src, tuple) and isinstance(dst, tuple) and 1 < len(src) != len(dst):
            self.add_error(
                "target_face",
                "Source face k goes into target face k: give as many target faces as "
                "source faces, or one source face.",
            )
        return data

    def to_spec(self) -> SwapSpec:
        data = self.cleaned_data
        reference = data.get("reference_image")
        source_faces, target_faces = data.get("source_face"), data.get("target_face")
        if data.get("within_target") and source_faces == target_faces == (0,):
            # Face 0 into face 0 of one photo changes nothing: the API's default instead.
            source_faces = target_faces = None
        default = None if data.get("within_target") else (0,)
        options = SwapOptions(
            source_faces=source_faces or default,
            # A reference photo chooses the target face itself (as in the API).
            target_faces=None if reference else (target_faces or default),
            output_format=data.get("output_format") or None,
            likeness=data.get("likeness"),
            enhance=bool(data.get("enhance")),
            keep_hands=bool(data.get("keep_hands")),
            consent=bool(data.get("consent")),
        )
        return SwapSpec(
            target=NamedImage("target_image", data["target_image"]),
            sources=tuple(NamedImage("source_image", file) for file in data["source_image"]),
            reference=NamedImage("reference_image", reference) if reference else None,
            face_ids=tuple(face.pk for face in data.get("saved_faces") or ()),
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
