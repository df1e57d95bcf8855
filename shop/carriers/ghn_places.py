"""Our communes (core.places, the 2-level list since 1 July 2025) in GHN's own address codes, by name.

GHN addresses a parcel by ``to_district_id`` and ``to_ward_code`` from its master data
(``/master-data/province``, ``/district``, ``/ward``), a 3-level list of province, district and ward. What GHN
does with the 2025 reform is not settled in the documents found: its API reference still describes the
3-level master data and says nothing of the new communes (no conversion endpoint is documented; some clients
report GHN adding new-style wards under the old districts). So the mapping is made by name, and only where
it is unambiguous:

- a GHN province is searched when its name (or one of its ``NameExtension`` spellings) is our province's, or
  one of the old provinces merged into it (core.places.OLD_PROVINCES: Bắc Giang for Bắc Ninh);
- in those, a GHN ward maps to our commune when its name, without "Xã"/"Phường"/"Thị trấn", is the name of
  exactly one commune of our province, and no other GHN ward of those provinces has that name.

A commune that kept its name (Kép) is found; a new merged commune whose name GHN does not know is not, and
its parcels are priced by the farm's table (shop/delivery.py), which is the default anyway. ``flask
ghn-places`` walks the master data once (a few hundred calls for the whole country) and keeps the result in
the ``carrier_places`` table; checkout only reads the table, so it never waits on the master data.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, select

from core import places
from core.extensions import db
from core.text import fold
from core.time import utcnow
from shop.carriers import ghn_api
from shop.shipment_models import CarrierPlace

CARRIER = "ghn"
_PREFIXES = ("thanh pho ", "tinh ", "xa ", "phuong ", "thi tran ", "thi xa ", "dac khu ", "tp. ", "tp ")


def key(name: str) -> str:
    """A place name as compared: folded, without its kind ("Xã Kép" -> "kep")."""
    folded = fold(name or "")
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):].strip()
    return folded


def lookup(commune_code: int) -> CarrierPlace | None:
    return db.session.get(CarrierPlace, (CARRIER, commune_code))


def _names(item: dict, field: str) -> set[str]:
    names = {key(item.get(field) or "")}
    names.update(key(extra) for extra in item.get("NameExtension") or () if isinstance(extra, str))
    return names - {""}


def _ghn_provinces_for(province, ghn_provinces: list[dict]) -> list[dict]:
    wanted = {key(province.name)} | {old for old, code in places.OLD_PROVINCES.items() if code == province.code}
    return [item for item in ghn_provinces if _names(item, "ProvinceName") & wanted]


def match_province(province, ghn_provinces: list[dict]) -> dict[int, tuple[int, int, str, str]]:
    """Our communes of ``province`` found in GHN's wards: commune code -> (ProvinceID, DistrictID, WardCode,
    WardName)."""
    ours: dict[str, list[int]] = {}
    for commune in places.communes(province.code):
        ours.setdefault(key(commune.name), []).append(commune.code)
    found: dict[str, list[tuple[int, int, str, str]]] = {}
    for ghn_province in _ghn_provinces_for(province, ghn_provinces):
        province_id = int(ghn_province["ProvinceID"])
        for district in ghn_api.call("/master-data/district", {"province_id": province_id}, shop=False) or ():
            district_id = int(district["DistrictID"])
            for ward in ghn_api.call("/master-data/ward", {"district_id": district_id}, shop=False) or ():
                name = key(ward.get("WardName") or "")
                if name in ours:
                    found.setdefault(name, []).append((province_id, district_id, str(ward["WardCode"]),
                                                       ward.get("WardName") or ""))
    return {ours[name][0]: hits[0] for name, hits in found.items() if len(hits) == 1 and len(ours[name]) == 1}


def refresh(province_codes=None) -> int:
    """Rebuild the mapping of these provinces (all when None) from GHN's master data; the communes mapped."""
    ghn_provinces = ghn_api.call("/master-data/province", method="GET", shop=False) or []
    mapped = 0
    for province in places.provinces():
        if province_codes and province.code not in province_codes:
            continue
        matches = match_province(province, ghn_provinces)
        codes = [commune.code for commune in places.communes(province.code)]
        db.session.execute(delete(CarrierPlace).where(CarrierPlace.carrier == CARRIER,
                                                      CarrierPlace.commune_code.in_(codes)))
        now = utcnow()
        for commune_code, (province_id, district_id, ward_code, ward_name) in matches.items():
            db.session.add(CarrierPlace(carrier=CARRIER, commune_code=commune_code, province_id=province_id,
                                        district_id=district_id, ward_code=ward_code, ward_name=ward_name[:120],
                                        fetched_at=now))
        mapped += len(matches)
    db.session.commit()
    return mapped


def mapped_count() -> int:
    return len(db.session.scalars(select(CarrierPlace.commune_code).where(CarrierPlace.carrier == CARRIER)).all())


@click.command("ghn-places")
@click.option("--province", "province_codes", multiple=True, type=int, help="Only this province (core.places code).")
@with_appcontext
def ghn_places_command(province_codes):
    """Map our communes to GHN's address codes from GHN's master data (run once, then now and then)."""
    if not ghn_api.configured(current_app.config):
        raise click.ClickException("GHN_TOKEN and GHN_SHOP_ID are not set.")
    try:
        mapped = refresh(set(province_codes) or None)
    except ghn_api.GhnError as error:
        raise click.ClickException(f"GHN: {error.message}") from None
    click.echo(f"{mapped} communes mapped to GHN's wards ({mapped_count()} in all).")
