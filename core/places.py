"""Vietnam's provinces and communes as they are since 1 July 2025, read from the ``vietnam-provinces`` package
(pinned in requirements.txt; version 2025.10.1 carries the data of 2025-10-18: 34 provinces and 3,321 communes,
wards and special zones, with Bắc Giang merged into Bắc Ninh and Kép a commune of Bắc Ninh).

The package's API, as read in the installed package: ``Province.iter_all()``, ``Province.from_code(int)``,
``Ward.iter_by_province(int)``, ``Ward.from_code(int)``; codes are the General Statistics Office's numbers
(Bắc Ninh 24, Xã Kép 7399). The package keeps no table of the old (pre-merger) provinces, districts or communes,
so old district-style input cannot be mapped through it. ``guess`` does what can be done without one: it
takes the old province names from the merger resolution (Nghị quyết 202/2025/QH15; the table below) to the
new province, and finds a commune by its name inside that province (a commune that kept its name, as Kép did).

Each province belongs to one delivery region (``REGIONS``, this module's own table, used for parcel fees):
Bắc Ninh itself, the North, the Centre (from Thanh Hóa to Lâm Đồng, the Central Highlands included) and the
South.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Province as _Province
from vietnam_provinces import Ward as _Ward

from core.text import fold

HOME_PROVINCE = 24  # Bắc Ninh
HOME_COMMUNE = 7399  # Xã Kép

REGION_CODES = ("bac_ninh", "north", "centre", "south")
_NORTH = (1, 4, 8, 11, 12, 14, 15, 19, 20, 22, 25, 31, 33, 37)
_CENTRE = (38, 40, 42, 44, 46, 48, 51, 52, 56, 66, 68)
_SOUTH = (75, 79, 80, 82, 86, 91, 92, 96)
REGIONS: dict[int, str] = {HOME_PROVINCE: "bac_ninh", **dict.fromkeys(_NORTH, "north"),
                           **dict.fromkeys(_CENTRE, "centre"), **dict.fromkeys(_SOUTH, "south")}

# Provinces merged on 1 July 2025 (Nghị quyết 202/2025/QH15): old name (folded) -> the new province's code.
OLD_PROVINCES: dict[str, int] = {
    "ha giang": 8, "yen bai": 15, "bac kan": 19, "vinh phuc": 25, "hoa binh": 25, "bac giang": 24,
    "hai duong": 31, "thai binh": 33, "ha nam": 37, "nam dinh": 37, "quang binh": 44, "thua thien hue": 46,
    "quang nam": 48, "kon tum": 51, "binh dinh": 52, "ninh thuan": 56, "dak nong": 68, "binh thuan": 68,
    "binh duong": 79, "ba ria vung tau": 79, "ba ria - vung tau": 79, "binh phuoc": 75, "long an": 80,
    "tien giang": 82, "ben tre": 86, "tra vinh": 86, "kien giang": 91, "soc trang": 92, "hau giang": 92,
    "bac lieu": 96, "phu yen": 66,
}


@dataclass(frozen=True)
class Place:
    code: int
    name: str
    province_code: int


@lru_cache(maxsize=1)
def _provinces() -> dict[int, Place]:
    return {int(p.code): Place(int(p.code), p.name, int(p.code)) for p in _Province.iter_all()}


@lru_cache(maxsize=1)
def _communes() -> dict[int, Place]:
    return {int(w.code): Place(int(w.code), w.name, int(w.province_code)) for w in _Ward.iter_all()}


@lru_cache(maxsize=64)
def _communes_of(province_code: int) -> tuple[Place, ...]:
    return tuple(sorted((c for c in _communes().values() if c.province_code == province_code),
                        key=lambda c: _key(c.name)))


def provinces() -> list[Place]:
    """The 34 provinces, Bắc Ninh first, then by name."""
    return sorted(_provinces().values(), key=lambda p: (p.code != HOME_PROVINCE, _key(p.name)))


def communes(province_code) -> list[Place]:
    """The communes and wards of a province, by name; empty for an unknown province."""
    code = _code(province_code)
    return list(_communes_of(code)) if code in _provinces() else []


def province(code) -> Place | None:
    return _provinces().get(_code(code))


def commune(code) -> Place | None:
    return _communes().get(_code(code))


def commune_in(province_code, commune_code) -> Place | None:
    """The commune if it belongs to that province, else None."""
    found = commune(commune_code)
    return found if found is not None and found.province_code == _code(province_code) else None


def region(province_code) -> str | None:
    return REGIONS.get(_code(province_code))


def _code(raw) -> int:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return -1


_PREFIX = re.compile(r"^(thanh pho|tinh|xa|phuong|dac khu|thi tran|thi xa|quan|huyen|tp\.?)\s+")


def _key(name: str) -> str:
    return _PREFIX.sub("", fold(name)).strip()


def guess(text: str) -> tuple[Place | None, Place | None]:
    """Province and commune read from an address written the old way ("xã Kép, huyện Lạng Giang, tỉnh Bắc
    Giang"): parts separated by commas, the province last. Either may be None when it cannot be told."""
    parts = [_key(part) for part in (text or "").split(",") if part.strip()]
    found_province = None
    for part in reversed(parts):
        by_name = {_key(p.name): p for p in _provinces().values()}
        if part in by_name:
            found_province = by_name[part]
        elif part in OLD_PROVINCES:
            found_province = _provinces()[OLD_PROVINCES[part]]
        if found_province is not None:
            break
    if found_province is None:
        return None, None
    names = {_key(c.name): c for c in _communes_of(found_province.code)}
    for part in parts:
        if part in names:
            return found_province, names[part]
    return found_province, None
