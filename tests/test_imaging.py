"""swaps.imaging: recognition, bomb refusal, hostile-input robustness, base64, encoding."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from swaps import imaging
from swaps.imaging import base64_input, decoding
from swaps.imaging.base64_input import decode_base64_image
from swaps.imaging.decoding import DecodedImage, ImageInfo, decode_image, probe_image
from swaps.imaging.encoding import encode_image
from swaps.imaging.errors import ImageInputError
from swaps.imaging.headers import sniff_format
from swaps.imaging.provenance import read_note

FIXTURES = Path(__file__).parent / "fixtures"
NOTE = "Altered by FaceSwap: AI face swap"
MAX_PIXELS = 40_000_000
ALL_FORMATS = frozenset({"jpeg", "png", "webp", "gif"})


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _pil_bytes(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="module")
def astronaut_pil() -> Image.Image:
    return Image.open(FIXTURES / "astronaut.jpg").convert("RGB")


@pytest.fixture(scope="module")
def samples(astronaut_pil: Image.Image) -> dict[str, bytes]:
    small = astronaut_pil.resize((96, 80))
    return {
        "jpeg": _pil_bytes(small, "JPEG", quality=85),
        "png": _pil_bytes(small, "PNG"),
        "webp": _pil_bytes(small, "WEBP", quality=80),
        "gif": _pil_bytes(small.convert("P"), "GIF"),
    }


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_bomb(width: int, height: int) -> bytes:
    """A valid-looking greyscale PNG declaring width x height; a few KB on disk."""
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(b"\0" * (width + 1)) for _ in range(64)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunks = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _jpeg_with_dims(data: bytes, width: int, height: int) -> bytes:
    pos = data.index(b"\xff\xc0")  # baseline SOF written by Pillow
    return data[: pos + 5] + struct.pack(">HH", height, width) + data[pos + 9 :]


def _webp_canvas(data: bytes, width: int, height: int) -> bytes:
    vp8x = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + vp8x + data[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture
def no_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any real decoder is reached (i.e. the refusal came too late)."""

    def boom(*args, **kwargs):
        raise AssertionError("decoder reached")

    monkeypatch.setattr(decoding.cv2, "imdecode", boom)
    monkeypatch.setattr(decoding.Image, "open", boom)


# --------------------------------------------------------------------------- recognition


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a....", "gif"),
        (b"GIF87a....", "gif"),
        (b"", None),
        (b"<html><body>hi</body></html>", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"\xff\xd8", None),
        (b"BM\x00\x00", None),
    ],
)
def test_sniff_format(data: bytes, expected: str | None) -> None:
    assert sniff_format(data) == expected


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_probe_reads_header(samples: dict[str, bytes], fmt: str) -> None:
    info = probe_image(samples[fmt], image="source", max_bytes=10**6, max_pixels=MAX_PIXELS)
    assert info == ImageInfo(fmt, 96, 80)


def test_probe_gif_only_when_allowed(samples: dict[str, bytes]) -> None:
    with pytest.raises(ImageInputError) as exc:
        probe_image(samples["gif"], image="source", max_bytes=10**6, max_pixels=MAX_PIXELS)
    assert exc.value.code == "invalid_image_format"
    info = probe_image(
        samples["gif"], image="source", max_bytes=10**6, max_pixels=MAX_PIXELS,
        allowed_formats=ALL_FORMATS,
    )  # fmt: skip
    assert info == ImageInfo("gif", 96, 80)


def test_probe_refuses_too_many_bytes(samples: dict[str, bytes]) -> None:
    data = samples["png"]
    with pytest.raises(ImageInputError) as exc:
        probe_image(data, image="target", max_bytes=len(data) - 1, max_pixels=MAX_PIXELS)
    assert exc.value.code == "image_too_large"
    assert exc.value.details == {"image": "target", "max_bytes": len(data) - 1}


def test_probe_refuses_too_many_pixels(samples: dict[str, bytes]) -> None:
    with pytest.raises(ImageInputError) as exc:
        probe_image(samples["jpeg"], image="source", max_bytes=10**6, max_pixels=96 * 80 - 1)
    assert exc.value.code == "image_too_large"
    assert exc.value.details == {
        "image": "source", "width": 96, "height": 80, "max_pixels": 96 * 80 - 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world",
        b"<!DOCTYPE html><html><head><title>404</title></head></html>",
        b'{"error": "not found"}',
        b"\xff\xd8\xff",  # bare JPEG magic
        b"\x89PNG\r\n\x1a\n",  # bare PNG signature
        b"RIFF\x10\x00\x00\x00WEBPVP8 ",  # bare WebP header
        b"%PDF-1.7\n",
    ],
)
def test_non_images_are_invalid_format(data: bytes) -> None:
    for call in (
        lambda: probe_image(data, image="source", max_bytes=10**6, max_pixels=MAX_PIXELS),
        lambda: decode_image(data, image="source", max_pixels=MAX_PIXELS),
    ):
        with pytest.raises(ImageInputError) as exc:
            call()
        assert exc.value.code == "invalid_image_format"
        assert exc.value.details == {"image": "source"}


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("name", ["astronaut.jpg", "grace_hopper.jpg"])
def test_decode_fixture_matches_pillow(name: str) -> None:
    data = _fixture(name)
    decoded = decode_image(data, image="source", max_pixels=MAX_PIXELS)
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[:, :, ::-1]
    assert isinstance(decoded, DecodedImage)
    assert decoded.format == "jpeg"
    assert decoded.array.dtype == np.uint8
    assert decoded.array.shape == reference.shape == (decoded.height, decoded.width, 3)
    # Both use libjpeg-turbo but may pick different IDCT/upsampling paths.
    assert np.abs(decoded.array.astype(int) - reference).mean() < 2


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg"])
def test_round_trip_through_encoder(fmt: str) -> None:
    source = decode_image(_fixture("grace_hopper.jpg"), image="source", max_pixels=MAX_PIXELS)
    data = encode_image(source.array, fmt, note=NOTE)
    again = decode_image(data, image="source", max_pixels=MAX_PIXELS)
    assert again.format == fmt
    assert again.array.shape == source.array.shape
    error = np.abs(again.array.astype(int) - source.array).mean()
    assert error == 0 if fmt == "png" else error < 4


def _oriented_source(fmt: str) -> tuple[bytes, np.ndarray]:
    """A 40x20 image with a red top-left block, stored with EXIF Orientation=6."""
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:8, :8] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = Image.fromarray(rgb)
    kwargs = {"quality": 95} if fmt != "PNG" else {}
    data = _pil_bytes(stored, fmt, exif=exif.tobytes(), **kwargs)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    return data, expected[:, :, ::-1]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("path", ["opencv", "pillow"])
def test_exif_orientation_applied(fmt: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data, expected = _oriented_source(fmt)
    if path == "pillow":  # force the fallback decoder
        monkeypatch.setattr(decoding.cv2, "imdecode", lambda *a: None)
    decoded = decode_image(data, image="source", max_pixels=MAX_PIXELS)
    assert (decoded.width, decoded.height) == (20, 40)  # rotated 90 degrees clockwise
    assert decoded.array[2, 17, 2] > 200  # red block moved to the top-right corner
    assert decoded.array[2, 2, 2] < 60
    assert np.abs(decoded.array.astype(int) - expected).mean() < 6


# --------------------------------------------------------------------------- bombs


def _bombs(samples: dict[str, bytes]) -> dict[str, tuple[bytes, int, int]]:
    return {
        "png-30000": (_png_bomb(30000, 30000), 30000, 30000),
        "png-8000": (_png_bomb(8000, 8000), 8000, 8000),
        "jpeg-60000": (_jpeg_with_dims(samples["jpeg"], 60000, 60000), 60000, 60000),
        "jpeg-7000": (_jpeg_with_dims(samples["jpeg"], 7000, 7000), 7000, 7000),
        "webp-16383": (_webp_canvas(samples["webp"], 16383, 16383), 16383, 16383),
        "gif-65535": (samples["gif"][:6] + struct.pack("<HH", 65535, 65535) + samples["gif"][10:],
                      65535, 65535),
    }  # fmt: skip


@pytest.mark.parametrize(
    "name", ["png-30000", "png-8000", "jpeg-60000", "jpeg-7000", "webp-16383", "gif-65535"]
)
@pytest.mark.parametrize("call", ["probe", "decode"])
def test_decompression_bomb_refused_before_decoding(
    samples: dict[str, bytes], name: str, call: str, no_decoder: None
) -> None:
    data, width, height = _bombs(samples)[name]
    assert len(data) < 100_000
    with pytest.raises(ImageInputError) as exc:
        if call == "probe":
            probe_image(
                data, image="source", max_bytes=10**6, max_pixels=MAX_PIXELS,
                allowed_formats=ALL_FORMATS,
            )  # fmt: skip
        else:
            decode_image(data, image="source", max_pixels=MAX_PIXELS, allowed_formats=ALL_FORMATS)
    assert exc.value.code == "image_too_large"
    assert exc.value.details == {
        "image": "source", "width": width, "height": height, "max_pixels": MAX_PIXELS,
    }  # fmt: skip


def test_hard_ceiling_applies_even_with_generous_limit(no_decoder: None) -> None:
    with pytest.raises(ImageInputError) as exc:
        decode_image(_png_bomb(30000, 30000), image="source", max_pixels=10**12)
    assert exc.value.code == "image_too_large"
    assert exc.value.details["max_pixels"] == imaging.HARD_MAX_PIXELS


def test_pillow_bomb_guard_maps_to_too_large(
    samples: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Second line of defence: if our header parse were ever fooled, Pillow's guard still
    # has to surface as image_too_large, not as a crash or invalid_image_format.
    monkeypatch.setattr(decoding, "header_size", lambda data, fmt: (10, 10))
    monkeypatch.setattr(decoding.cv2, "imdecode", lambda *a: None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageInputError) as exc:
        decode_image(samples["png"], image="source", max_pixels=MAX_PIXELS)
    assert exc.value.code == "image_too_large"


# --------------------------------------------------------------------------- fuzzing


def _mutants(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    out = []
    for i in range(count):
        buf = bytearray(data)
        kind = i % 4
        if kind == 0:  # scattered byte flips, header included
            for _ in range(rng.randint(1, 12)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif kind == 1:  # truncation
            del buf[rng.randrange(1, len(buf)) :]
        elif kind == 2:  # flips concentrated in the first 64 bytes (headers, dims, lengths)
            for _ in range(rng.randint(1, 4)):
                buf[rng.randrange(min(64, len(buf)))] = rng.randrange(256)
        else:  # splice: duplicate or drop a random span
            a, b = sorted(rng.randrange(len(buf)) for _ in range(2))
            buf[a:a] = buf[a:b] if rng.random() < 0.5 else b""
            if rng.random() < 0.5:
                del buf[a : a + rng.randint(1, 32)]
        out.append(bytes(buf))
    return out


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_fuzzed_inputs_decode_or_raise_image_input_error(
    samples: dict[str, bytes], fmt: str
) -> None:
    rng = random.Random(f"fuzz-{fmt}")
    outcomes = {"decoded": 0, "refused": 0}
    for data in _mutants(samples[fmt], rng, 150):
        for call in (
            lambda d: probe_image(
                d, image="x", max_bytes=10**6, max_pixels=MAX_PIXELS, allowed_formats=ALL_FORMATS
            ),
            lambda d: decode_image(
                d, image="x", max_pixels=MAX_PIXELS, allowed_formats=ALL_FORMATS
            ),
        ):
            try:
                call(data)
                outcomes["decoded"] += 1
            except ImageInputError as exc:
                assert exc.code in {"invalid_image_format", "image_too_large"}
                outcomes["refused"] += 1
        assert read_note(data) is None or isinstance(read_note(data), str)
    assert outcomes["decoded"] and outcomes["refused"]  # the corpus exercises both paths


@pytest.mark.parametrize(
    "error", [OSError("broken"), SyntaxError("bad"), struct.error("short"), IndexError(),
              zlib.error("inflate"), cv2.error("cv"), MemoryError(), ValueError("x")]
)  # fmt: skip
def test_any_decoder_exception_becomes_invalid_format(
    samples: dict[str, bytes], error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    def raiser(*args, **kwargs):
        raise error

    monkeypatch.setattr(decoding.cv2, "imdecode", raiser)
    with pytest.raises(ImageInputError) as exc:
        decode_image(samples["png"], image="source", max_pixels=MAX_PIXELS)
    assert exc.value.code == "invalid_image_format"


# --------------------------------------------------------------------------- base64


def test_base64_data_uri(samples: dict[str, bytes]) -> None:
    uri = "data:image/png;base64," + base64.b64encode(samples["png"]).decode()
    assert decode_base64_image(uri, image="source", max_bytes=10**6) == samples["png"]


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
@pytest.mark.parametrize(
    "variant",
    [
        lambda d: base64.b64encode(d).decode(),
        lambda d: base64.urlsafe_b64encode(d).decode(),
        lambda d: base64.encodebytes(d).decode(),  # MIME: newline every 76 chars
        lambda d: base64.b64encode(d).decode().rstrip("="),  # padding dropped
        lambda d: "  \n" + base64.urlsafe_b64encode(d).decode().rstrip("=") + "\r\n",
        lambda d: "DATA:Image/JPEG;Base64, " + base64.b64encode(d).decode(),
    ],
    ids=["std", "urlsafe", "mime", "unpadded", "urlsafe-ws", "datauri-case"],
)
def test_base64_variants(samples: dict[str, bytes], fmt: str, variant) -> None:
    value = variant(samples[fmt])
    assert decode_base64_image(value, image="source", max_bytes=10**6) == samples[fmt]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!",
        "aGVsbG8gd29ybGQ=",  # valid base64 of "hello world": not an image
        "iVBORw0KGgo=====",  # junk padding
        "iVBORw0KGgo==",  # padding that does not fit the length
        "iVBO=Rw0KGgoAAAA",  # padding in the middle
        "iVBORw0KGgoA" + "A",  # length % 4 == 1 can never be base64
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png,%89PNG",  # not base64-encoded
        "data:image/png;base64,",
        "data:image/png;base64,@@@@",
    ],
)
def test_base64_garbage_is_invalid_format(value: str) -> None:
    with pytest.raises(ImageInputError) as exc:
        decode_base64_image(value, image="source", max_bytes=10**6)
    assert exc.value.code == "invalid_image_format"


def test_base64_size_limit_is_exact(samples: dict[str, bytes]) -> None:
    data = samples["png"]
    encoded = base64.b64encode(data).decode()
    assert decode_base64_image(encoded, image="source", max_bytes=len(data)) == data
    with pytest.raises(ImageInputError) as exc:
        decode_base64_image(encoded, image="source", max_bytes=len(data) - 1)
    assert exc.value.code == "image_too_large"
    assert exc.value.details == {"image": "source", "max_bytes": len(data) - 1}


def test_base64_oversize_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("decoded an oversize payload")

    monkeypatch.setattr(base64_input.base64, "b64decode", boom)
    for value in ("A" * 4_000_000, "data:image/png;base64," + "A" * 2_000, " \n" * 3_000_000):
        with pytest.raises(ImageInputError) as exc:
            decode_base64_image(value, image="source", max_bytes=1_000)
        assert exc.value.code == "image_too_large"


# --------------------------------------------------------------------------- encoding


@pytest.fixture(scope="module")
def exif_source(astronaut_pil: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    data = _pil_bytes(astronaut_pil, "JPEG", exif=exif, quality=90)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the source really has GPS
    return data


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_encode_strips_exif_and_carries_note(exif_source: bytes, fmt: str) -> None:
    pixels = decode_image(exif_source, image="source", max_pixels=MAX_PIXELS).array
    data = encode_image(pixels, fmt, note=NOTE)
    assert sniff_format(data) == fmt
    assert b"Exif\x00\x00" not in data and b"SecretCam" not in data
    opened = Image.open(io.BytesIO(data))
    opened.load()
    assert not opened.getexif()
    assert "exif" not in opened.info
    assert read_note(data) == NOTE
    # Standard tools see the mark too, not just our reader.
    seen = {"jpeg": "comment", "png": "Comment", "webp": "xmp"}[fmt]
    assert NOTE.encode() in (opened.info[seen] if fmt != "png" else opened.info[seen].encode())
    assert b"compositeWithTrainedAlgorithmicMedia" in data  # IPTC digital source type (XMP)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_note_survives_unicode_and_markup(fmt: str) -> None:
    note = "Altered by FaceSwap — “AI” <face> & swap ✓"
    data = encode_image(np.full((16, 24, 3), 127, np.uint8), fmt, note=note)
    assert read_note(data) == note
    assert decode_image(data, image="x", max_pixels=MAX_PIXELS).array.shape == (16, 24, 3)


def test_encode_accepts_greyscale() -> None:
    data = encode_image(np.zeros((10, 12), np.uint8), "webp", note=NOTE)
    assert decode_image(data, image="x", max_pixels=MAX_PIXELS).array.shape == (10, 12, 3)


@pytest.mark.parametrize(
    ("array", "fmt"),
    [
        (np.zeros((8, 8, 3), np.float32), "jpeg"),
        (np.zeros((8, 8, 4), np.uint8), "png"),
        (np.zeros((8, 8, 3), np.uint8), "bmp"),
        (np.zeros((8, 8, 3), np.uint8), "gif"),
    ],
)
def test_encode_rejects_bad_input(array: np.ndarray, fmt: str) -> None:
    with pytest.raises(ValueError):
        encode_image(array, fmt, note=NOTE)


def test_read_note_without_mark() -> None:
    assert read_note(_fixture("astronaut.jpg")) is None
    assert read_note(b"not an image") is None
    assert read_note(b"") is None


def test_source_comment_is_not_carried_over() -> None:
    # grace_hopper.jpg carries its own JPEG comment; output must only carry ours.
    source = _fixture("grace_hopper.jpg")
    assert read_note(source).startswith("File source:")
    pixels = decode_image(source, image="source", max_pixels=MAX_PIXELS).array
    for fmt in ("jpeg", "png", "webp"):
        data = encode_image(pixels, fmt, note=NOTE)
        assert read_note(data) == NOTE
        assert b"File source" not in data


def test_image_input_error_shape() -> None:
    err = ImageInputError("invalid_image_format", "msg", {"image": "source"})
    assert (err.code, err.message, err.details, str(err)) == (
        "invalid_image_format", "msg", {"image": "source"}, "msg",
    )  # fmt: skip
    assert ImageInputError("image_too_large", "m").details == {}


@pytest.mark.parametrize("size", [(1000, 2000), (400, 500)])
def test_a_preview_of_pixels_matches_the_preview_of_their_encoded_file(size):
    from swaps.imaging.previews import make_preview, preview_of_pixels

    height, width = size
    ramp = np.linspace(0, 255, width, dtype=np.float32)
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 2] = ramp  # red rises left to right: a swapped channel order would show
    image[: height // 2, :, 0] = 200  # the top half blue too

    from_pixels = Image.open(io.BytesIO(preview_of_pixels(image, max_side=1600)))
    from_file = Image.open(
        io.BytesIO(make_preview(encode_image(image, "png", note="x"), max_side=1600))
    )

    assert from_pixels.format == "JPEG" and from_pixels.size == from_file.size
    assert from_pixels.size == ((1600, 800) if width > 1600 else (width, height))
    difference = np.abs(np.asarray(from_pixels, np.int16) - np.asarray(from_file, np.int16))
    assert difference.mean() < 2
