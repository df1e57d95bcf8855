from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms

from core.images import HEIF_SUPPORTED, PhotoRejected, ProcessedPhoto, process_photo

RED = (220, 30, 30)
BLUE = (30, 30, 220)


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def two_halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 2, height))
    return img


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 45.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (106.0, 40.0, 3.0)
    return exif


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP"
    img.load()
    return img


def assert_no_metadata(data: bytes) -> None:
    img = decode(data)
    assert not img.getexif()
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile"):
        assert key not in img.info
    # RIFF chunk names of WebP metadata; the GPS reference must not survive anywhere.
    for marker in (b"EXIF", b"XMP ", b"ICCP", b"PhoneCo"):
        assert marker not in data


def assert_close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected)), (actual, expected)


def png_header(width: int, height: int) -> bytes:
    """A 1-bit PNG that only declares its size: enough for Pillow's size checks, tiny in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def rejected(data: bytes, **kwargs: int) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as info:
        process_photo(io.BytesIO(data), **kwargs)
    return info.value


NOT_A_PHOTO = "This file is not a photo. Please choose a JPEG, PNG, WebP or HEIC picture."
TOO_MANY_PIXELS = "This picture is too large in pixels. Please choose a smaller photo."


# --- accepted photos ---------------------------------------------------------


def test_jpeg_exif_orientation_applied_and_all_metadata_removed() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>10,45N</exif:GPSLatitude></x:xmpmeta>'
    exif = exif_with_gps(orientation=6)
    data = encode(two_halves(600, 300), "JPEG", exif=exif, xmp=xmp, icc_profile=srgb)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries GPS

    photo = process_photo(io.BytesIO(data))

    assert isinstance(photo, ProcessedPhoto)
    assert (photo.width, photo.height) == (300, 600)  # orientation 6 = turned 90° clockwise
    large = decode(photo.large)
    assert large.size == (300, 600)
    assert large.mode == "RGB"
    assert_close(large.getpixel((150, 20)), RED)  # the left edge is now on top
    assert_close(large.getpixel((150, 580)), BLUE)
    assert decode(photo.small).size == (200, 400)
    assert_no_metadata(photo.large)
    assert_no_metadata(photo.small)


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_png_transparency_is_kept(mode: str) -> None:
    params: dict[str, object] = {}
    if mode == "P":  # palette PNG whose entry 0 is transparent (tRNS chunk)
        img = Image.new("P", (200, 100), 0)
        img.putpalette([0, 0, 0, 40, 160, 40])
        img.paste(1, (100, 0, 200, 100))
        params["transparency"] = 0
    else:
        img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
        img.paste((40, 160, 40, 255), (100, 0, 200, 100))
    photo = process_photo(io.BytesIO(encode(img, "PNG", **params)))

    large = decode(photo.large)
    assert large.mode == "RGBA"
    assert large.getpixel((20, 50))[3] == 0
    assert large.getpixel((180, 50))[3] == 255
    assert_no_metadata(photo.large)


def test_webp_input() -> None:
    data = encode(two_halves(800, 600), "WEBP", exif=exif_with_gps())
    photo = process_photo(io.BytesIO(data))
    assert (photo.width, photo.height) == (800, 600)
    assert decode(photo.small).size == (400, 300)
    assert_no_metadata(photo.large)


def test_animated_webp_uses_first_frame() -> None:
    frames = [Image.new("RGB", (100, 100), RED), Image.new("RGB", (100, 100), BLUE)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2

    large = decode(process_photo(io.BytesIO(data)).large)
    assert getattr(large, "n_frames", 1) == 1
    assert_close(large.getpixel((50, 50)), RED)


def test_multi_picture_jpeg_from_phone_camera() -> None:
    data = encode(two_halves(300, 200), "MPO", save_all=True, append_images=[Image.new("RGB", (30, 20))])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    photo = process_photo(io.BytesIO(data))
    assert (photo.width, photo.height) == (300, 200)


def test_big_photo_is_resized() -> None:
    data = encode(two_halves(4000, 3000), "JPEG", quality=70)
    photo = process_photo(io.BytesIO(data))
    assert (photo.width, photo.height) == (1200, 900)
    assert decode(photo.large).size == (1200, 900)
    assert decode(photo.small).size == (400, 300)


def test_small_photo_is_not_upscaled() -> None:
    photo = process_photo(io.BytesIO(encode(two_halves(300, 200), "JPEG")))
    assert (photo.width, photo.height) == (300, 200)
    assert decode(photo.small).size == (300, 200)


@pytest.mark.skipif(not HEIF_SUPPORTED, reason="pillow_heif is not installed")
def test_heic_round_trip() -> None:
    try:
        data = encode(two_halves(640, 480), "HEIF", exif=exif_with_gps(), quality=80)
    except (KeyError, OSError, ValueError) as exc:
        pytest.skip(f"pillow_heif cannot encode HEIC here (no HEVC encoder?): {exc}")
    assert Image.open(io.BytesIO(data)).format == "HEIF"

    photo = process_photo(io.BytesIO(data))
    assert (photo.width, photo.height) == (640, 480)
    assert_close(decode(photo.large).getpixel((10, 240)), RED)
    assert_no_metadata(photo.large)


# --- rejected files ----------------------------------------------------------


def test_pdf_named_jpg_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dua.jpg"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    with path.open("rb") as f, pytest.raises(PhotoRejected) as info:
        process_photo(f)
    assert str(info.value.message) == NOT_A_PHOTO
    assert isinstance(info.value, ValueError)


def test_random_bytes_are_rejected() -> None:
    assert str(rejected(random.Random(1).randbytes(4096)).message) == NOT_A_PHOTO


def test_truncated_jpeg_is_rejected() -> None:
    noise = Image.effect_noise((256, 256), 60).convert("RGB")
    data = encode(noise, "JPEG")
    assert str(rejected(data[: len(data) // 2]).message) == NOT_A_PHOTO


def test_format_outside_allow_list_is_rejected() -> None:
    bmp = encode(Image.new("RGB", (20, 20), RED), "BMP")  # Pillow reads it; we do not accept it
    assert str(rejected(bmp).message) == NOT_A_PHOTO


def test_empty_file_is_rejected() -> None:
    assert str(rejected(b"").message) == "The file is empty. Please choose a photo."


def test_file_over_byte_limit_is_rejected_without_reading_it_all() -> None:
    data = encode(Image.effect_noise((128, 128), 60).convert("RGB"), "PNG")
    stream = io.BytesIO(data)
    with pytest.raises(PhotoRejected) as info:
        process_photo(stream, max_bytes=1000)
    assert str(info.value.message) == "This photo is larger than 1 MB."
    assert stream.tell() == 1001


def test_default_limit_message_mentions_15_mb() -> None:
    too_big = b"\xff\xd8" + b"\0" * (15 * 1024 * 1024)
    assert str(rejected(too_big).message) == "This photo is larger than 15 MB."


@pytest.mark.parametrize(
    ("size", "cause"),
    [
        ((8000, 6000), None),  # 48 MP: over our 40 MP limit, under Pillow's own
        ((10000, 10000), Image.DecompressionBombWarning),  # Pillow warns, we make it an error
        ((20000, 20000), Image.DecompressionBombError),  # over twice Pillow's limit
    ],
)
def test_decompression_bomb_is_rejected(size: tuple[int, int], cause: type[Exception] | None) -> None:
    exc = rejected(png_header(*size))
    assert str(exc.message) == TOO_MANY_PIXELS
    assert type(exc.__cause__) is (cause or type(None))


def test_real_compressed_bomb_is_rejected() -> None:
    data = encode(Image.new("1", (10000, 10000)), "PNG")  # ~12 KB file, 100 megapixels
    assert len(data) < 100_000
    assert str(rejected(data).message) == TOO_MANY_PIXELS


def test_a_truncated_jpeg_is_still_rejected_once_the_pdf_maker_was_used() -> None:
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES when it is imported; the statement PDF puts it back."""
    from farmers.statement_pdf import render

    assert render("<p>Chợ Dứa Kép</p>").startswith(b"%PDF")
    noise = Image.effect_noise((256, 256), 60).convert("RGB")
    data = encode(noise, "JPEG")
    assert str(rejected(data[: len(data) // 2]).message) == NOT_A_PHOTO
