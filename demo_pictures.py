"""Pictures for the demo: every product, farm and visit gets its own, drawn here with Pillow.

Flat drawings, not photographs (the project ships no photos of real people or farms): pineapples on a table or
in a basket, a bag of dried rings, a jar of jam, a bottle of juice, seedlings in red soil, the Huong Son hill
with its rows of plants, a farmer in a conical hat in front of the hill. Each picture is drawn from a seed (the
listing's slug), so colours, counts and places differ between listings and stay the same between runs. Each
is a WebP of about 10–25 KB, and is stored through the market's normal photo pipeline (checked, re-encoded,
two sizes: core/images.py), as a farmer's upload would be.
"""
from __future__ import annotations

import io
import math
import random
import zlib

from PIL import Image, ImageChops, ImageDraw

WIDTH, HEIGHT = 800, 600
QUALITY = 72

SKIES = [(168, 212, 236), (196, 224, 240), (250, 214, 165), (236, 200, 180), (186, 220, 214)]
CLOTHS = [(205, 92, 72), (70, 110, 160), (232, 220, 196), (120, 150, 90), (196, 160, 110), (150, 90, 120)]
HILLS = [(96, 140, 60), (70, 120, 56), (120, 150, 70), (84, 128, 80)]
SOILS = [(150, 70, 40), (170, 90, 50), (130, 62, 38)]
SHIRTS = [(40, 90, 160), (170, 50, 50), (60, 120, 80), (120, 70, 140), (200, 130, 40), (70, 70, 70)]


def _rng(seed: str) -> random.Random:
    return random.Random(zlib.crc32(seed.encode("utf-8")))


def _mix(a, b, t: float):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _jitter(colour, rng: random.Random, amount: int = 18):
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)


def _gradient(img: Image.Image, top, bottom, start: int = 0, end: int | None = None) -> None:
    draw = ImageDraw.Draw(img)
    end = img.height if end is None else end
    for y in range(start, end, 4):
        draw.rectangle((0, y, img.width, y + 4), fill=_mix(top, bottom, (y - start) / max(end - start, 1)))


def pineapple(draw: ImageDraw.ImageDraw, cx: float, cy: float, size: float, rng: random.Random,
              ripe: float = 0.7) -> None:
    """A pineapple standing at (cx, cy) (its body's centre), ``size`` its body's height."""
    w, h = size * 0.68, size
    body = _mix((150, 170, 50), (232, 170, 40), ripe)
    dark = _mix(body, (90, 60, 10), 0.45)
    leaf, leaf_dark = _jitter((60, 130, 60), rng, 14), _jitter((36, 96, 48), rng, 10)
    # The crown: long leaves fanning out from the top.
    top = cy - h / 2
    for i in range(9):
        angle = math.radians(-90 + (i - 4) * rng.uniform(13, 18))
        length = size * rng.uniform(0.45, 0.75) * (1 - abs(i - 4) * 0.08)
        tip = (cx + math.cos(angle) * length, top + math.sin(angle) * length)
        base = size * 0.07
        draw.polygon([(cx - base, top + 4), tip, (cx + base, top + 4)], fill=leaf if i % 2 else leaf_dark)
    draw.ellipse((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), fill=body, outline=dark, width=2)
    # The eyes: a diamond lattice clipped to the body.
    step = max(size / 7, 6)
    lattice = Image.new("L", draw.im.size, 0)
    mask = ImageDraw.Draw(lattice)
    mask.ellipse((cx - w / 2 + 3, cy - h / 2 + 3, cx + w / 2 - 3, cy + h / 2 - 3), fill=255)
    lines = Image.new("L", draw.im.size, 0)
    ld = ImageDraw.Draw(lines)
    for k in range(-12, 13):
        x0 = cx + k * step
        ld.line((x0 - h, cy - h, x0 + h, cy + h), fill=255, width=2)
        ld.line((x0 + h, cy - h, x0 - h, cy + h), fill=255, width=2)
    clipped = ImageChops.multiply(lattice, lines)
    draw.bitmap((0, 0), clipped, fill=dark)


def _table(img, rng) -> int:
    """A wall and a cloth-covered table; returns the table's top edge."""
    _gradient(img, _jitter(rng.choice(SKIES), rng), _jitter((245, 236, 214), rng))
    edge = rng.randint(330, 400)
    draw = ImageDraw.Draw(img)
    cloth = _jitter(rng.choice(CLOTHS), rng)
    draw.rectangle((0, edge, WIDTH, HEIGHT), fill=cloth)
    stripe = _mix(cloth, (255, 255, 255), 0.35)
    for x in range(rng.randint(-40, 0), WIDTH, rng.randint(70, 120)):
        draw.rectangle((x, edge, x + 16, HEIGHT), fill=stripe)
    return edge


def fresh(rng: random.Random, big: bool = False) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT))
    edge = _table(img, rng)
    draw = ImageDraw.Draw(img)
    count = 1 if big else rng.randint(2, 4)
    size = rng.randint(230, 250) if big else rng.randint(170, 210)
    xs = [WIDTH / 2 + rng.randint(-120, 120)] if big else [WIDTH * (i + 1) / (count + 1) + rng.randint(-30, 30)
                                                         for i in range(count)]
    for x in xs:
        cy = edge + 90 - size / 2 if big else edge + 30 - size / 2 + rng.randint(0, 40)
        pineapple(draw, x, cy, size, rng, ripe=rng.uniform(0.45, 1.0))
    if not big and rng.random() < 0.6:  # a cut half in front
        cx, cy = rng.randint(120, 680), HEIGHT - 90
        draw.ellipse((cx - 70, cy - 45, cx + 70, cy + 45), fill=(246, 206, 70), outline=(200, 150, 40), width=6)
        draw.ellipse((cx - 16, cy - 10, cx + 16, cy + 10), fill=(250, 230, 150))
    return img


def dried(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT))
    edge = _table(img, rng)
    draw = ImageDraw.Draw(img)
    cx, bw, bh = WIDTH / 2 + rng.randint(-80, 80), rng.randint(260, 320), rng.randint(340, 400)
    kraft = _jitter((196, 156, 104), rng)
    draw.rounded_rectangle((cx - bw / 2, edge + 60 - bh, cx + bw / 2, edge + 60), 18, fill=kraft)
    window = (cx - bw / 2 + 36, edge - bh + 150, cx + bw / 2 - 36, edge + 20)
    draw.rounded_rectangle(window, 12, fill=(250, 244, 220))
    for _ in range(rng.randint(6, 9)):  # rings of dried pineapple behind the window
        x, y = rng.uniform(window[0] + 30, window[2] - 30), rng.uniform(window[1] + 30, window[3] - 30)
        r = rng.randint(26, 38)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(236, 178, 48), outline=(196, 130, 30), width=4)
        draw.ellipse((x - r / 3, y - r / 3, x + r / 3, y + r / 3), fill=(250, 244, 220))
    draw.rectangle((cx - bw / 2 + 30, edge - bh + 90, cx + bw / 2 - 30, edge - bh + 130), fill=(40, 100, 50))
    for _ in range(rng.randint(3, 6)):  # loose rings on the table
        x, y, r = rng.randint(60, 740), rng.randint(edge + 90, HEIGHT - 40), rng.randint(28, 40)
        draw.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=(240, 184, 56), outline=(196, 130, 30), width=4)
    return img


def jam(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT))
    edge = _table(img, rng)
    draw = ImageDraw.Draw(img)
    for i in range(rng.randint(1, 3)):
        cx = WIDTH / 2 + (i - 1) * 210 + rng.randint(-20, 20)
        jw, jh = rng.randint(150, 180), rng.randint(190, 230)
        top, bottom = edge + 50 - jh, edge + 50
        draw.rounded_rectangle((cx - jw / 2, top, cx + jw / 2, bottom), 26, fill=_jitter((226, 140, 30), rng, 12),
                               outline=(170, 90, 20), width=3)
        draw.rectangle((cx - jw / 2 - 8, top - 40, cx + jw / 2 + 8, top + 4), fill=_jitter(rng.choice(CLOTHS), rng))
        draw.rectangle((cx - jw / 2 + 18, top + 60, cx + jw / 2 - 18, top + 130), fill=(250, 246, 232))
        pineapple(draw, cx, top + 100, 46, rng)
        draw.line((cx - jw / 2 + 16, top + 20, cx - jw / 2 + 16, bottom - 20), fill=(250, 200, 120), width=6)
    pineapple(draw, rng.choice([90, 710]), edge - 20, 180, rng)
    return img


def juice(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT))
    edge = _table(img, rng)
    draw = ImageDraw.Draw(img)
    for i in range(rng.randint(2, 3)):
        cx = 250 + i * 150 + rng.randint(-15, 15)
        bw, bh = 92, rng.randint(280, 320)
        top, bottom = edge + 60 - bh, edge + 60
        draw.rounded_rectangle((cx - bw / 2, top + 80, cx + bw / 2, bottom), 20, fill=(246, 204, 60),
                               outline=(200, 150, 40), width=3)
        neck = [(cx - bw / 2 + 4, top + 90), (cx - 18, top + 20), (cx + 18, top + 20), (cx + bw / 2 - 4, top + 90)]
        draw.polygon(neck, fill=(236, 236, 226))
        draw.rectangle((cx - 20, top, cx + 20, top + 24), fill=_jitter((40, 100, 50), rng))
        draw.rectangle((cx - bw / 2 + 10, top + 150, cx + bw / 2 - 10, top + 200), fill=(255, 255, 255))
    cx, cy = rng.choice([120, 680]), HEIGHT - 100
    draw.pieslice((cx - 90, cy - 90, cx + 90, cy + 90), 180, 360, fill=(246, 206, 70), outline=(120, 150, 50), width=8)
    return img


def seedlings(rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT))
    _gradient(img, _jitter(rng.choice(SKIES), rng), (240, 240, 230), 0, 200)
    draw = ImageDraw.Draw(img)
    soil = _jitter(rng.choice(SOILS), rng)
    draw.rectangle((0, 200, WIDTH, HEIGHT), fill=soil)
    rows = rng.randint(4, 6)
    for row in range(rows):
        y = 230 + row * (370 / rows)
        scale = 0.5 + row / rows
        for k in range(rng.randint(5, 8)):
            x = (k + 0.5) * WIDTH / 7 + rng.randint(-20, 20) + (row % 2) * 30
            for i in range(7):
                angle = math.radians(-90 + (i - 3) * 22)
                length = 46 * scale * rng.uniform(0.8, 1.1)
                tip = (x + math.cos(angle) * length, y + math.sin(angle) * length)
                draw.polygon([(x - 5 * scale, y), tip, (x + 5 * scale, y)], fill=_jitter((70, 140, 60), rng, 20))
    return img


def _hill(img: Image.Image, rng: random.Random) -> ImageDraw.ImageDraw:
    _gradient(img, _jitter(rng.choice(SKIES), rng), (250, 246, 236), 0, 340)
    draw = ImageDraw.Draw(img)
    sx, sy = rng.randint(80, 720), rng.randint(50, 120)
    draw.ellipse((sx - 34, sy - 34, sx + 34, sy + 34), fill=(250, 224, 120))
    for layer in range(3):
        base = 230 + layer * 70 + rng.randint(-20, 20)
        colour = _mix(_jitter(rng.choice(HILLS), rng), (40, 90, 40), layer * 0.25)
        phase, amp = rng.uniform(0, 6.3), rng.randint(30, 70)
        points = [(x, base - amp * math.sin(x / WIDTH * math.pi * rng.uniform(0.9, 1.3) + phase) ** 2)
                  for x in range(0, WIDTH + 40, 40)]
        draw.polygon([(0, HEIGHT), *points, (WIDTH, HEIGHT)], fill=colour)
        if layer == 2:  # rows of pineapple plants on the nearest slope
            for r in range(6):
                y0 = base + 30 + r * 45
                for x in range(rng.randint(0, 30), WIDTH, 34 + r * 6):
                    y = y0 + 8 * math.sin(x / 90 + r)
                    size = 8 + r * 4
                    draw.polygon([(x - size, y), (x, y - size * 1.6), (x + size, y)], fill=(46, 100, 50))
                    if rng.random() < 0.12:
                        draw.ellipse((x - size / 2, y - size * 1.2, x + size / 2, y - size * 0.2), fill=(230, 170, 40))
    return draw


def _person(draw: ImageDraw.ImageDraw, x: float, ground: float, height: float, shirt, rng) -> None:
    """A person in a conical hat (nón lá), seen from the front."""
    head = height * 0.13
    body_top = ground - height * 0.72
    draw.polygon([(x - height * 0.17, ground - height * 0.05), (x - height * 0.12, body_top),
                  (x + height * 0.12, body_top), (x + height * 0.17, ground - height * 0.05)], fill=shirt)
    draw.rectangle((x - height * 0.12, ground - height * 0.3, x + height * 0.12, ground),
                   fill=_jitter((50, 50, 60), rng, 10))
    hy = body_top - head * 0.9
    draw.ellipse((x - head * 0.8, hy - head, x + head * 0.8, hy + head), fill=_jitter((200, 150, 110), rng, 14))
    draw.polygon([(x - height * 0.26, hy - head * 0.2), (x, hy - head * 2.6), (x + height * 0.26, hy - head * 0.2)],
                 fill=(236, 220, 170), outline=(190, 170, 120))


def hill(rng: random.Random) -> Image.Image:
    """A visit: the hill, with a small group walking up it."""
    img = Image.new("RGB", (WIDTH, HEIGHT))
    draw = _hill(img, rng)
    for i in range(rng.randint(2, 5)):
        _person(draw, 120 + i * rng.randint(70, 110), HEIGHT - rng.randint(40, 120), rng.randint(110, 160),
                _jitter(rng.choice(SHIRTS), rng), rng)
    return img


def farmer(rng: random.Random) -> Image.Image:
    """A farm: its farmer in front of the hill, holding a pineapple."""
    img = Image.new("RGB", (WIDTH, HEIGHT))
    draw = _hill(img, rng)
    x = rng.randint(300, 500)
    _person(draw, x, HEIGHT + 20, 520, _jitter(rng.choice(SHIRTS), rng), rng)
    pineapple(draw, x + rng.choice([-1, 1]) * 120, HEIGHT - 170, 120, rng, ripe=0.9)
    return img


PRODUCT_DRAWINGS = {"kg": fresh, "fruit": lambda rng: fresh(rng, big=True), "bag": dried, "jar": jam,
                    "bottle": juice, "plant": seedlings}


def webp(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "WEBP", quality=QUALITY, method=6)
    return out.getvalue()


def product_picture(unit: str, seed: str) -> bytes:
    return webp(PRODUCT_DRAWINGS.get(unit, fresh)(_rng(seed)))


def tour_picture(seed: str) -> bytes:
    return webp(hill(_rng(seed)))


def farm_picture(seed: str) -> bytes:
    return webp(farmer(_rng(seed)))


def add_demo_pictures() -> int:
    """Give every demo product, visit and farm without a picture its own; returns how many were added."""
    from sqlalchemy import select

    from accounts.farms import Farm, set_farm_photo
    from core.extensions import db
    from core.gallery import Upload
    from shop import services
    from shop.models import Product
    from tours import manage
    from tours.models import Tour

    added = 0
    for farm in db.session.scalars(select(Farm).where(Farm.photo_small_key.is_(None)).order_by(Farm.id)):
        set_farm_photo(farm, io.BytesIO(farm_picture(farm.slug)))
        added += 1
    for product in db.session.scalars(select(Product).order_by(Product.id)):
        if not product.photos:
            upload = Upload(f"{product.slug}.webp", io.BytesIO(product_picture(product.unit, product.slug)))
            services.add_photos(product.farm.owner, product.farm, product, [upload])
            added += 1
    for tour in db.session.scalars(select(Tour).order_by(Tour.id)):
        if not tour.photos:
            manage.add_photos(tour.farm.owner, tour.farm, tour, [Upload(f"{tour.slug}.webp",
                                                                        io.BytesIO(tour_picture(tour.slug)))])
            added += 1
    return added
