"""Links that credit the farmer: ``?ref=CODE`` on a shared link, remembered in the visitor's session.

Each farm has a short referral code (``Farm.referral_code``). The farmer's share kit (farmers/share_views.py)
builds every link and QR code with it. Here:

* **Arrival.** A GET of any page with ``?ref=`` naming an approved farm's code is an arrival from that farm's share.
  The session remembers, per farm, when the visitor first came through that farm's link. First touch wins: a
  later link of the same farm does not move that time forward, so the credit lasts ``REMEMBER_DAYS`` from the first
  arrival. Links of other farms never overwrite it: each farm is remembered separately (at most ``MAX_FARMS``,
  the oldest forgotten first), because a farm's credit only ever concerns that farm's own farm order of the
  visitor's order, so two farms' shares cannot compete for the same sale. An unknown or malformed code is ignored
  (no message, no session change): a link cut short still opens the page.
* **Counting.** An arrival adds one to ``share_visits`` (farm, local day): one row per farm per day, bumped by one
  upsert. The same session counts once per farm per local day however often it comes back; robots (link-preview
  fetchers of Facebook and Zalo, search crawlers: their User-Agent says so) and the farm's own owner are not counted.
  A robot that sends no cookie would otherwise count at every fetch.
* **Orders.** When the visitor places an order, ``credited(farm_id)`` tells checkout whether that farm's farm order
  came from its share (``FarmOrder.from_share``). The ledger (shop/ledger.py) may then charge the lower fee staff
  set for such sales (``shop.ledger.share_fee_bp``), and the farmer's dashboard counts them (``figures``).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import has_request_context, request, session
from flask_login import current_user
from sqlalchemy import BigInteger, Date, ForeignKey, PrimaryKeyConstraint, and_, func, select
from sqlalchemy.orm import Mapped, mapped_column

from accounts.farms import REFERRAL_ALPHABET, REFERRAL_LENGTH, Farm, new_referral_code
from core.extensions import db
from core.time import to_local, utcnow
from shop.ledger import LedgerEntry
from shop.order_models import FarmOrder

SESSION_KEY = "shares"
REMEMBER_DAYS = 7
MAX_FARMS = 10
_CODE = re.compile(f"[{REFERRAL_ALPHABET}]{{{REFERRAL_LENGTH}}}")
# Link-preview fetchers and crawlers. Facebook documents its crawler's User-Agent as "facebookexternalhit/1.1"
# (and "Facebot"); Zalo documents none for its link previews, so "zalo" is not matched (Zalo's in-app browser, a
# real reader, says "Zalo" too): a preview from Zalo may count as one visit. "HeadlessChrome" is not matched either:
# it is what some in-app and test browsers report, and it keeps a cookie, so it counts once a day like anyone.
_ROBOT = re.compile(r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebot|preview|curl|wget|"
                    r"python-requests|httpx|okhttp", re.IGNORECASE)


class ShareVisit(db.Model):
    """Arrivals through a farm's shared links, per local day."""
    __tablename__ = "share_visits"
    __table_args__ = (PrimaryKeyConstraint("farm_id", "day", name="pk_share_visits"),)

    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    visits: Mapped[int] = mapped_column(BigInteger, default=0)


def clean_code(raw: str | None) -> str | None:
    """A well-formed code (upper-cased) or None."""
    code = (raw or "").strip().upper()
    return code if _CODE.fullmatch(code) else None


def farm_for_code(code: str | None) -> Farm | None:
    code = clean_code(code)
    if code is None:
        return None
    return db.session.scalar(select(Farm).where(Farm.referral_code == code, Farm.status == "approved"))


def is_robot(user_agent: str | None) -> bool:
    return not user_agent or bool(_ROBOT.search(user_agent))


def note_arrival() -> None:
    """``before_app_request``: remember and count an arrival through a farm's shared link (see the module notes).
    Costs nothing on requests without ``?ref=``; one query for the code and one upsert on a counted arrival."""
    if request.method != "GET" or "ref" not in request.args:
        return
    farm = farm_for_code(request.args.get("ref"))
    if farm is None:
        return
    user_agent = request.headers.get("User-Agent")
    if is_robot(user_agent) or (current_user.is_authenticated and current_user.id == farm.owner_id):
        return
    now = utcnow()
    shares = _remembered(now)
    key = str(farm.id)
    entry = shares.get(key) or {"at": now.isoformat(timespec="seconds"), "seen": ""}
    today = to_local(now).date()
    counted = entry.get("seen") == today.isoformat()
    entry["seen"] = today.isoformat()
    shares[key] = entry
    if len(shares) > MAX_FARMS:
        for oldest in sorted(shares, key=lambda k: shares[k]["at"])[:len(shares) - MAX_FARMS]:
            del shares[oldest]
    session[SESSION_KEY] = shares
    if not counted:
        count_visit(farm.id, today)


def _remembered(now: datetime) -> dict:
    """The session's farms still within REMEMBER_DAYS of their first arrival (malformed entries dropped)."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return {}
    limit = now - timedelta(days=REMEMBER_DAYS)
    kept = {}
    for key, entry in raw.items():
        try:
            if datetime.fromisoformat(entry["at"]) > limit:
                kept[str(key)] = {"at": entry["at"], "seen": str(entry.get("seen", ""))}
        except (KeyError, TypeError, ValueError):
            continue
    return kept


def count_visit(farm_id: int, day: date) -> None:
    """One more visit for (farm, day): a single INSERT ... ON CONFLICT DO UPDATE, safe under concurrency."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(ShareVisit).values(farm_id=farm_id, day=day, visits=1)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["farm_id", "day"], set_={"visits": ShareVisit.visits + 1}))


def credited(farm_id: int, now: datetime | None = None) -> bool:
    """Whether this request's visitor came through ``farm_id``'s shared link within REMEMBER_DAYS. Read by
    checkout when it creates the farm's farm order; False outside a request (demo data, tools)."""
    if not has_request_context():
        return False
    return str(farm_id) in _remembered(now or utcnow())


def figures(farm_id: int, start: date, end: date, start_utc: datetime, end_utc: datetime) -> dict:
    """Scalar subqueries for the dashboard's one balance row (farmers/dashboard.py): visits through the farm's
    shares on the local days start..end, and of the farm orders that came from them and were paid (their sale
    entries fall in the period): how many, and their sales of produce and visits less refunds (not delivery fees,
    not platform fees)."""
    visits = (select(func.coalesce(func.sum(ShareVisit.visits), 0))
              .where(ShareVisit.farm_id == farm_id, ShareVisit.day >= start, ShareVisit.day <= end))
    shared = and_(LedgerEntry.farm_id == farm_id, LedgerEntry.occurred_at >= start_utc,
                  LedgerEntry.occurred_at < end_utc, LedgerEntry.source != "delivery",
                  FarmOrder.id == LedgerEntry.farm_order_id, FarmOrder.from_share.is_(True))
    orders = (select(func.count(func.distinct(LedgerEntry.farm_order_id))).select_from(LedgerEntry)
              .join(FarmOrder, FarmOrder.id == LedgerEntry.farm_order_id)
              .where(shared, LedgerEntry.kind == "sale"))
    amount = (select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).select_from(LedgerEntry)
              .join(FarmOrder, FarmOrder.id == LedgerEntry.farm_order_id)
              .where(shared, LedgerEntry.kind.in_(("sale", "refund"))))
    return {"share_visits": visits.scalar_subquery(), "share_orders": orders.scalar_subquery(),
            "share_vnd": amount.scalar_subquery()}


def ensure_code(farm: Farm) -> str:
    """The farm's referral code, given one now if it has none yet (farms made before codes existed)."""
    if not farm.referral_code:
        farm.referral_code = new_referral_code()
        db.session.flush()
    return farm.referral_code
