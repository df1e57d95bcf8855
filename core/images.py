"""Product photo pipeline: validate an uploaded photo and re-encode it as WebP.

Farmers upload straight from their phones, so we accept JPEG, PNG, WebP and
(when pillow_heif is installed) HEIC/HEIF. The file type is decided only by
decoding it with Pillow, never by its name. Every output is a fresh encode
without EXIF/XMP/GPS metadata, so no location ever leaves the farm.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from PIL import Image, ImageCms, ImageOps

try:
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_SUPPORTED = False
else:
    register_heif_opener()
    HEIF_SUPPORTED = True

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000
LARGE_SIDE = 1200
SMALL_SIDE = 400
WEBP_QUALITY = 80

# Pillow decoders we let loose on uploads. "MPO" (the multi-picture JPEG many phone
# cameras write) has no decoder of its own: the JPEG one returns it, so it is only
# in the allow-list of resulting formats.
DECODERS = ("JPEG", "PNG", "WEBP") + (("HEIF",) if HEIF_SUPPORTED else ())
ALLOWED_FORMATS = frozenset(DECODERS) | {"MPO"}

_SRGB = ImageCms.createProfile("sRGB")


class PhotoRejected(ValueError):
    """The upload is not an acceptable photo. ``message`` is safe to show to the user."""

    def __init__(self, message: str | LazyString) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProcessedPhoto:
    large: bytes  # WebP, longest side <= LARGE_SIDE
    small: bytes  # WebP, longest side <= SMALL_SIDE
    width: int  # of ``large``
    height: int


def _not_a_photo() -> PhotoRejected:
    return PhotoRejected(_l("This file is not a photo. Please choose a JPEG, PNG, WebP or HEIC picture."))


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected(_l("This picture is too large in pixels. Please choose a smaller photo."))


def process_photo(stream: IO[bytes], max_bytes: int = MAX_BYTES) -> ProcessedPhoto:
    """Validate ``stream`` and return large and small WebP versions, without metadata.

    Raises PhotoRejected for anything that is not a usable photo.
    """
    data = stream.read(max_bytes + 1)
    if not data:
        raise PhotoRejected(_l("The file is empty. Please choose a photo."))
    if len(data) > max_bytes:
        megabytes = max(1, round(max_bytes / (1024 * 1024)))
        raise PhotoRejected(_l("This photo is larger than %(mb)d MB.", mb=megabytes))

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = _decode(data)
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels() from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            # Unknown format, truncated or corrupt data.
            raise _not_a_photo() from exc

    large = _fit(img, LARGE_SIDE)
    small = _fit(large, SMALL_SIDE)
    return ProcessedPhoto(large=_webp(large), small=_webp(small), width=large.width, height=large.height)


def _decode(data: bytes) -> Image.Image:
    """Decode the first frame, upright, in RGB/RGBA (sRGB), with no metadata left."""
    img = Image.open(io.BytesIO(data), formats=DECODERS)
    if img.format not in ALLOWED_FORMATS:
        raise _not_a_photo()
    if img.width * img.height > MAX_PIXELS:
        raise _too_many_pixels()
    img.draft("RGB", (LARGE_SIDE, LARGE_SIDE))  # JPEG only: decode at a reduced scale, much faster
    img.load()

    icc = img.info.get("icc_profile")
    img = ImageOps.exif_transpose(img)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    img = img.convert("RGBA" if has_alpha else "RGB")
    if icc:
        img = _to_srgb(img, icc)
    img.info = {}
    return img


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert from an embedded RGB profile (e.g. iPhone Display P3) to sRGB; keep pixels as they are otherwise."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return img
        converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode=img.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img
    return converted if converted is not None else img


def _fit(img: Image.Image, side: int) -> Image.Image:
    """Shrink so the longest side is at most ``side``; never upscale."""
    if max(img.size) <= side:
        return img
    scale = side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _webp(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()
