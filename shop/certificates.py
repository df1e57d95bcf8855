"""VietGAP and OCOP certificates: the farm uploads one (a photo of it, its number and expiry; OCOP: the stars and
the product they rate), commune staff verify or reject it with a reason, and the badge shows on the farm's and the
product's pages only while the certificate is verified and not expired (the day in Vietnam). A changed certificate
is a new upload: it waits for staff again, and the badge it replaces stays only while its own check holds.
``flask remind-certificate-expiry`` (daily) tells the farmer 30 and 7 days before the expiry, each once.

Staff check the paper against the issuing body's own register (VietGAP: the certifying organisation; OCOP: the
province's decision); the market does not query those registers, which publish no API it could rely on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, update

from accounts.farms import Farm
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.images import PhotoRejected, process_photo
from core.inputs import clean_text, parse_int
from core.media import store_file
from core.messages import Recipient, notify
from core.time import to_local, utcnow
from core.urls import public_url
from shop.certificate_models import KINDS, MAX_NUMBER, MAX_REASON, Certificate
from shop.models import Product

REMINDER_DAYS = (30, 7)
MAX_YEARS = 10  # a VietGAP certificate runs 2 to 3 years, an OCOP rating 3 (36 months)


class CertificateError(DomainError):
    pass


def today() -> date:
    return to_local(utcnow()).date()


def _text(value, limit: int, field: str, message, *, required: bool = True) -> str:
    text = " ".join(clean_text(str(value or "")).split())
    if required and not text:
        raise CertificateError(message, field)
    if len(text) > limit:
        raise CertificateError(_l("The text is too long (at most %(max)d characters).", max=limit), field)
    return text


def _expiry(raw, now: date) -> date:
    try:
        value = date.fromisoformat(str(raw or "").strip())
    except ValueError as error:
        raise CertificateError(_l("Give the expiry date printed on the certificate."), "expires_on") from error
    if value < now:
        raise CertificateError(_l("This certificate has already expired."), "expires_on")
    if value > now.replace(year=now.year + MAX_YEARS):
        raise CertificateError(_l("Check the expiry date: it is too far away."), "expires_on")
    return value


def submit(farm, user, *, kind, number, issuer, expires_on, stars=None, product_id=None, scan=None) -> Certificate:
    """Store a farm's certificate for staff to check, after every check of what was typed; nothing on refusal."""
    now = today()
    if kind not in KINDS:
        raise CertificateError(_l("Choose VietGAP or OCOP."), "kind")
    number_text = _text(number, MAX_NUMBER, "number", _l("Give the certificate's number."))
    issuer_text = _text(issuer, 120, "issuer", _l("Give who issued it."))
    expiry = _expiry(expires_on, now)
    stars_value = product = None
    if kind == "ocop":
        stars_value = parse_int(stars, low=3, high=5)
        if stars_value is None:
            raise CertificateError(_l("OCOP ratings have 3, 4 or 5 stars."), "stars")
        product = db.session.get(Product, parse_int(product_id, low=1, high=2**31 - 1) or 0)
        if product is None or product.farm_id != farm.id:
            raise CertificateError(_l("Choose the product the OCOP rating is for."), "product_id")
    if scan is None:
        raise CertificateError(_l("Add a clear photo of the certificate."), "scan")
    try:
        processed = process_photo(scan)
    except PhotoRejected as error:
        raise CertificateError(error.message, "scan") from error
    certificate = Certificate(farm_id=farm.id, kind=kind, number=number_text, issuer=issuer_text, expires_on=expiry,
                              stars=stars_value, product_id=product.id if product else None, status="submitted",
                              scan_large_key=store_file(processed.large), scan_small_key=store_file(processed.small),
                              scan_width=processed.width, scan_height=processed.height, submitted_at=utcnow())
    db.session.add(certificate)
    db.session.flush()
    audit.record("certificate.submit", "certificate", certificate.id, actor=user,
                 details={"kind": kind, "number": number_text, "expires_on": expiry.isoformat()})
    return certificate


def _decide(certificate: Certificate, staff, status: str, reason: str | None) -> None:
    changed = db.session.execute(
        update(Certificate).where(Certificate.id == certificate.id, Certificate.status == "submitted")
        .values(status=status, reviewed_at=utcnow(), reviewed_by_id=staff.id, reason=reason)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise CertificateError(_l("This certificate has already been checked."))
    db.session.refresh(certificate)
    audit.record(f"certificate.{status}", "certificate", certificate.id, actor=staff, from_state="submitted",
                 to_state=status, details={"reason": reason} if reason else None)
    notify("certificate_decided", Recipient.of_user(certificate.farm.owner), certificate=certificate,
           link=public_url("certificates.farmer_list"))


def verify(certificate: Certificate, staff) -> None:
    _decide(certificate, staff, "verified", None)
    if certificate.kind == "vietgap":  # the flag the catalogue's cards read (see end_lapsed_badges)
        certificate.farm.vietgap_certified = True
        certificate.farm.vietgap_certificate_no = certificate.number


def reject(certificate: Certificate, staff, reason) -> None:
    _decide(certificate, staff, "rejected", _text(reason, MAX_REASON, "reason", _l("Say why, for the farmer.")))


def of_farm(farm_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.farm_id == farm_id)
                                   .order_by(Certificate.submitted_at.desc(), Certificate.id.desc())))


def waiting(limit: int = 200) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.status == "submitted")
                                   .order_by(Certificate.submitted_at, Certificate.id).limit(limit)))


def verified(farm_id: int, kind: str, number: str | None, on: date) -> Certificate | None:
    """The farm's verified, unexpired certificate of ``kind`` (with ``number``, if given)."""
    conditions = [Certificate.farm_id == farm_id, Certificate.kind == kind, Certificate.status == "verified",
                  Certificate.expires_on >= on]
    if number:
        conditions.append(Certificate.number == number)
    return db.session.scalars(select(Certificate).where(*conditions).order_by(Certificate.expires_on.desc())).first()


# -- the badges, folded into the pages' own query --------------------------------------------------------------

@dataclass(frozen=True)
class Badges:
    vietgap: bool
    ocop_stars: int | None

    def __bool__(self) -> bool:
        return self.vietgap or bool(self.ocop_stars)


def _shown(on: date):
    return and_(Certificate.status == "verified", Certificate.expires_on >= on)


def farm_badge_columns(farm_id, on: date):
    """Two scalar subqueries to select with the farm (or the product's farm): a VietGAP badge, OCOP stars."""
    vietgap = exists().where(Certificate.farm_id == farm_id, Certificate.kind == "vietgap", _shown(on))
    return vietgap, select(func.max(Certificate.stars)).where(Certificate.farm_id == farm_id, Certificate.kind ==
                                                              "ocop", _shown(on)).scalar_subquery()


def product_badge_columns(product_id, farm_id, on: date):
    vietgap = exists().where(Certificate.farm_id == farm_id, Certificate.kind == "vietgap", _shown(on))
    return vietgap, select(func.max(Certificate.stars)).where(Certificate.product_id == product_id,
                                                              Certificate.kind == "ocop", _shown(on)).scalar_subquery()


def badges_of(vietgap, stars) -> Badges:
    return Badges(bool(vietgap), int(stars) if stars else None)


# -- the expiry reminders ----------------------------------------------------------------------------------------

def send_reminders(now: datetime) -> int:
    """Tell farmers of verified certificates expiring within 30 and within 7 days, each reminder once."""
    on = to_local(now).date()
    sent = 0
    for days, column in zip(REMINDER_DAYS, ("reminded_30_at", "reminded_7_at")):
        due = db.session.scalars(select(Certificate).where(
            Certificate.status == "verified", Certificate.expires_on >= on,
            Certificate.expires_on <= on + timedelta(days=days), getattr(Certificate, column).is_(None))).all()
        for certificate in due:
            taken = db.session.execute(update(Certificate).where(Certificate.id == certificate.id,
                                                                 getattr(Certificate, column).is_(None))
                                       .values({column: now}).execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                continue
            if days == 30 and certificate.expires_on <= on + timedelta(days=REMINDER_DAYS[1]):
                certificate.reminded_7_at = now  # a late first reminder already says it is a week or less
            notify("certificate_expiring", Recipient.of_user(certificate.farm.owner), certificate=certificate,
                   days_left=(certificate.expires_on - on).days, link=public_url("certificates.farmer_list"))
            sent += 1
        db.session.flush()
    return sent


def end_lapsed_badges(now: datetime) -> int:
    """Farms whose VietGAP flag (read by the catalogue's cards, the farm card and the share posters) no longer has
    a verified, unexpired certificate behind it lose it; the farm and product pages read the certificates
    themselves, so they are exact to the day. A VietGAP ticked on the farm's application counts only once staff
    have verified an uploaded certificate."""
    on = to_local(now).date()
    backed = exists().where(Certificate.farm_id == Farm.id, Certificate.kind == "vietgap", _shown(on))
    farms = db.session.scalars(select(Farm).where(Farm.vietgap_certified.is_(True), ~backed)).all()
    for farm in farms:
        farm.vietgap_certified = False
        audit.record("farm.vietgap_lapsed", "farm", farm.id, actor_label="system", from_state="shown",
                     to_state="hidden")
    db.session.flush()
    return len(farms)


@click.command("remind-certificate-expiry")
@with_appcontext
def remind_certificate_expiry() -> None:
    """Remind farmers 30 and 7 days before a verified certificate expires, and end the VietGAP badge of farms
    without a verified, unexpired one (run daily; safe to run twice)."""
    now = utcnow()
    sent, lapsed = send_reminders(now), end_lapsed_badges(now)
    db.session.commit()
    click.echo(f"Sent {sent} certificate expiry reminders; {lapsed} farms' VietGAP badges ended.")
