"""Share posters drawn with Pillow: a photo, a name, a price, a farm, a VietGAP badge and a QR code to the page.

Two sizes: 1080×1080 (a square post on Facebook or Zalo) and 1200×630 (Facebook's and Zalo's link preview, the
page's ``og:image``). The poster is a JPEG (quality 88): a few hundred kilobytes instead of the megabytes of a PNG
photo, which matters on 3G; the QR code's modules are at least 6 pixels wide and black on white, so JPEG keeps it
readable (tests decode it).

Text needs a font with Vietnamese letters: DejaVu Sans (Debian's ``fonts-dejavu-core``), looked up in
``POSTER_FONT_DIRS``; without it Pillow's own font is used (Vietnamese tone marks may then be missing).
Nothing here knows products or tours: callers pass a ``PosterContent``.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

SIZES = {"1080x1080": (1080, 1080), "1200x630": (1200, 630)}
POSTER_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
MIMETYPE = "image/jpeg"

_INK = (33, 37, 41)
_GREEN = (46, 125, 50)
_PINEAPPLE = (255, 193, 7)
_WHITE = (255, 255, 255)
_PANEL = (255, 250, 235)


@dataclass(frozen=True)
class PosterContent:
    title: str
    price: str          # already formatted, e.g. "35.000 ₫ / kg"
    farm: str           # e.g. "Vườn dứa Anh An · Kép 2"
    link: str           # what the QR code opens
    photo: bytes | None = None
    vietgap: bool = False
    site: str = "Chợ Dứa Kép"
    scan_hint: str = ""  # under the QR code, e.g. "Quét để đặt mua"


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in POSTER_FONT_DIRS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def qr_image(data: str, side: int) -> Image.Image:
    """A QR code (error correction M, 4-module quiet zone) as big as fits in ``side`` with whole-pixel modules."""
    qr = segno.make_qr(data, error="m", boost_error=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    scale = max(1, side // modules)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _photo(content: PosterContent, box: tuple[int, int]) -> Image.Image:
    if content.photo:
        try:
            with Image.open(io.BytesIO(content.photo)) as img:
                return ImageOps.fit(img.convert("RGB"), box, Image.Resampling.LANCZOS)
        except (OSError, ValueError, Image.DecompressionBombError):
            pass  # an unreadable photo: the plain background below
    plain = Image.new("RGB", box, _PINEAPPLE)
    draw = ImageDraw.Draw(plain)
    font = _font(max(24, box[1] // 10), bold=True)
    draw.text((box[0] // 2, box[1] // 2), content.site, font=font, fill=_INK, anchor="mm")
    return plain


def _lines(draw: ImageDraw.ImageDraw, text: str, font, width: int, most: int) -> list[str]:
    """``text`` wrapped to ``width`` pixels, at most ``most`` lines, the last cut with an ellipsis."""
    words, lines, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > most:
        lines = lines[:most]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _badge(draw: ImageDraw.ImageDraw, xy: tuple[int, int], height: int) -> None:
    font = _font(int(height * 0.55), bold=True)
    label = "✓ VietGAP"
    width = int(draw.textlength(label, font=font)) + height
    x, y = xy
    draw.rounded_rectangle((x, y, x + width, y + height), radius=height // 2, fill=_GREEN)
    draw.text((x + width // 2, y + height // 2), label, font=font, fill=_WHITE, anchor="mm")


def _text_block(draw, content: PosterContent, x: int, y: int, width: int, scale: float) -> None:
    title_font = _font(int(54 * scale), bold=True)
    for line in _lines(draw, content.title, title_font, width, 2):
        draw.text((x, y), line, font=title_font, fill=_INK)
        y += int(66 * scale)
    y += int(8 * scale)
    draw.text((x, y), content.price, font=_font(int(48 * scale), bold=True), fill=_GREEN)
    y += int(70 * scale)
    for line in _lines(draw, content.farm, _font(int(32 * scale)), width, 2):
        draw.text((x, y), line, font=_font(int(32 * scale)), fill=_INK)
        y += int(42 * scale)
    draw.text((x, y + int(6 * scale)), content.site, font=_font(int(28 * scale)), fill=(110, 110, 110))


def draw(content: PosterContent, size: str) -> bytes:
    """The poster as JPEG bytes; ``size`` is a key of SIZES (KeyError otherwise)."""
    width, height = SIZES[size]
    poster = Image.new("RGB", (width, height), _PANEL)
    pen = ImageDraw.Draw(poster)
    if width == height:  # square: photo above, text and QR code below
        photo_h = 640
        poster.paste(_photo(content, (width, photo_h)), (0, 0))
        qr_side = 360
        qr = qr_image(content.link, qr_side)
        poster.paste(qr, (width - qr.width - 24, height - qr.height - 24))
        _text_block(pen, content, 48, photo_h + 36, width - qr.width - 110, 0.9)
        if content.vietgap:
            _badge(pen, (36, 36), 72)
        hint_y = height - 24
    else:  # wide: photo on the left, text and QR code on the right
        photo_w = 600
        poster.paste(_photo(content, (photo_w, height)), (0, 0))
        qr = qr_image(content.link, 230)
        poster.paste(qr, (width - qr.width - 16, height - qr.height - 16))
        _text_block(pen, content, photo_w + 40, 40, width - photo_w - 80, 0.8)
        if content.vietgap:
            _badge(pen, (24, 24), 60)
        hint_y = height - 16
    if content.scan_hint:
        hint_font = _font(24)
        hint_x = width - qr.width // 2 - (24 if width == height else 16)
        pen.text((hint_x, hint_y - qr.height - 8), content.scan_hint, font=hint_font, fill=_INK, anchor="md")
    out = io.BytesIO()
    poster.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()
