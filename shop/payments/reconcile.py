"""Staff hold the bank's statement against the market's bank credits.

``import_statement``: a CSV export (shop/payments/statement_csv.py) is read whole first, so a file that cannot
be read changes nothing; then each credit line is kept once (``statement_lines.line_key`` UNIQUE: the same file
twice, or two exports of overlapping days, add nothing the second time; the file's own digest is kept too, so
the same file again says so at once) and matched to a credit of the market (a ``bank_transfers`` row without a
parent, not matched to another line):

1. by the bank's reference: the line's reference is the transfer's transaction id (staff typed the bank's
   transaction number, or recorded it from a statement before), or the bank reference the notification service
   reported for it (SePay's ``referenceCode``, Casso's ``reference``, read from the stored notification);
2. else by amount, day (the bank's day, or one day either side: a credit late in the evening may be booked the
   next day) and content: the two contents, without diacritics, spaces or punctuation, one inside the other, or
   naming the same order reference. When several credits fit, the one of the same day is taken, then the
   oldest; a credit is matched to one line only.

``statement`` gives the three lists staff work from: matched, on the statement but not in the market (with
``record_line``: the line becomes a transfer, as a notification would make it, which finds its order by the
reference in its content or stays unmatched for staff), and in the market but not on the statement (credits
of the days the statement covers that no line matched: a notification for money that never came, or a line the
export left out)."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.time import local_to_utc, to_local
from shop.payment_models import BankNotification, BankTransfer
from shop.payments.outcome import DuplicateTransfer, PaymentError
from shop.payments.reference import find_references
from shop.payments.statement_csv import LAYOUTS, Credit, StatementError, parse_statement
from shop.payments.transfers import record_bank_transfer
from shop.statement_models import StatementImport, StatementLine

__all__ = ["StatementError", "import_statement", "record_line", "statement", "LAYOUTS"]


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKD", (text or "").replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum()).upper()


def contents_agree(a: str, b: str) -> bool:
    """Two transfer contents are the same transfer's: one inside the other once squashed (at least 6
    characters), or the same order reference in both."""
    left, right = _squash(a), _squash(b)
    if min(len(left), len(right)) >= 6 and (left in right or right in left):
        return True
    ours = {entry.order_id for entry in find_references(a)}
    return bool(ours & {entry.order_id for entry in find_references(b)})


def _line_key(credit: Credit, seen: dict) -> str:
    if credit.reference:
        return f"ref:{credit.reference}"[:160]
    base = f"{credit.booked_on.isoformat()}|{credit.amount_vnd}|{_squash(credit.content)}"
    seen[base] = seen.get(base, 0) + 1
    return "sum:" + hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest()


def import_statement(raw: bytes, filename: str, staff, now: datetime) -> tuple[StatementImport, bool]:
    """Read and keep a statement file; returns its import and whether it was new (the same file imported before
    returns that import, and nothing is added). Raises ``StatementError`` (nothing changed) for a bad file."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = db.session.scalar(select(StatementImport).where(StatementImport.digest == digest))
    if existing is not None:
        return existing, False
    parsed = parse_statement(raw)
    seen: dict = {}
    keyed = [(_line_key(credit, seen), credit) for credit in parsed.credits]
    known = set(db.session.scalars(select(StatementLine.line_key).where(
        StatementLine.line_key.in_([key for key, _credit in keyed])))) if keyed else set()
    fresh, kept_keys = [], set()
    for key, credit in keyed:
        if key in known or key in kept_keys:
            continue
        kept_keys.add(key)
        fresh.append(StatementLine(line_key=key, booked_on=credit.booked_on, booked_at=credit.booked_at,
                                   amount_vnd=credit.amount_vnd, content=credit.content,
                                   bank_reference=credit.reference))
    days = [credit.booked_on for credit in parsed.credits]
    entry = StatementImport(digest=digest, filename=(filename or "")[:255], layout=parsed.layout,
                            first_day=min(days) if days else None, last_day=max(days) if days else None,
                            credits=len(fresh), skipped=parsed.debits + len(keyed) - len(fresh), imported_at=now,
                            imported_by_id=staff.id if staff else None)
    db.session.add(entry)
    db.session.flush()
    for line in fresh:
        line.import_id = entry.id
        db.session.add(line)
    db.session.flush()
    matched = match_lines(fresh)
    audit.record("statement.imported", "statement_import", entry.id, actor=staff,
                 details={"layout": parsed.layout, "filename": entry.filename, "new_lines": len(fresh),
                          "matched": matched, "skipped": entry.skipped})
    return entry, True


def _notified_reference(raw_body: str) -> str | None:
    """The bank's reference that a notification service reported (SePay ``referenceCode``, Casso ``reference``)."""
    try:
        body = json.loads(raw_body)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    if not isinstance(body, dict):
        return None
    value = body.get("referenceCode") or body.get("reference")
    return str(value).strip() if value else None


def func_coalesce():
    """The time a credit counts at: the bank's, else when it was recorded."""
    return func.coalesce(BankTransfer.transferred_at, BankTransfer.received_at)


def _credit_day(transfer: BankTransfer) -> date:
    return to_local(transfer.transferred_at or transfer.received_at).date()


def match_lines(lines: list[StatementLine]) -> int:
    """Match each unmatched line to a market credit no line has; returns how many were matched. Four queries."""
    lines = [line for line in lines if line.bank_transfer_id is None]
    if not lines:
        return 0
    first, last = min(line.booked_on for line in lines), max(line.booked_on for line in lines)
    start = local_to_utc(datetime.combine(first - timedelta(days=1), datetime.min.time()))
    end = local_to_utc(datetime.combine(last + timedelta(days=2), datetime.min.time()))
    taken = select(StatementLine.bank_transfer_id).where(StatementLine.bank_transfer_id.is_not(None))
    candidates = db.session.scalars(select(BankTransfer).where(
        BankTransfer.parent_id.is_(None), BankTransfer.id.not_in(taken),
        func_coalesce() >= start, func_coalesce() < end).order_by(BankTransfer.id)).all()
    references: dict[str, BankTransfer] = {c.transaction_id: c for c in candidates}
    by_id = {c.id: c for c in candidates}
    for transfer_id, raw_body in db.session.execute(select(BankNotification.bank_transfer_id,
                                                           BankNotification.raw_body).where(
            BankNotification.bank_transfer_id.in_(list(by_id)))) if by_id else ():
        reference = _notified_reference(raw_body)
        if reference:
            references.setdefault(reference, by_id[transfer_id])
    used: set[int] = set()
    matched = 0
    for line in lines:  # by reference first, for every line
        found = references.get(line.bank_reference or "")
        if found is not None and found.id not in used and found.amount_vnd == line.amount_vnd:
            _link(line, found, "reference", used)
            matched += 1
    for line in lines:
        if line.bank_transfer_id is not None:
            continue
        fits = [c for c in candidates if c.id not in used and c.amount_vnd == line.amount_vnd
                and abs((_credit_day(c) - line.booked_on).days) <= 1 and contents_agree(c.content, line.content)]
        if fits:
            fits.sort(key=lambda c: (_credit_day(c) != line.booked_on, c.id))
            _link(line, fits[0], "content", used)
            matched += 1
    db.session.flush()
    return matched


def _link(line: StatementLine, transfer: BankTransfer, how: str, used: set) -> None:
    line.bank_transfer_id = transfer.id
    line.matched_by = how
    used.add(transfer.id)


@dataclass
class Reconciliation:
    statement_import: StatementImport
    matched: list[StatementLine]
    statement_only: list[StatementLine]
    market_only: list[BankTransfer]


def statement(entry: StatementImport) -> Reconciliation:
    """The three lists of one import (its lines, and the market's credits of the days it covers that no line of
    any statement matched). Three queries."""
    lines = db.session.scalars(select(StatementLine).where(StatementLine.import_id == entry.id)
                               .order_by(StatementLine.booked_on, StatementLine.id)).all()
    market: list[BankTransfer] = []
    if entry.first_day is not None:
        start = local_to_utc(datetime.combine(entry.first_day, datetime.min.time()))
        end = local_to_utc(datetime.combine(entry.last_day + timedelta(days=1), datetime.min.time()))
        taken = select(StatementLine.bank_transfer_id).where(StatementLine.bank_transfer_id.is_not(None))
        market = db.session.scalars(select(BankTransfer).where(
            BankTransfer.parent_id.is_(None), BankTransfer.id.not_in(taken), func_coalesce() >= start,
            func_coalesce() < end).order_by(BankTransfer.id)).all()
    transfers = {t.id: t for t in db.session.scalars(select(BankTransfer).where(
        BankTransfer.id.in_([line.bank_transfer_id for line in lines if line.bank_transfer_id])))} if lines else {}
    for line in lines:
        if line.bank_transfer_id:
            line.transfer = transfers.get(line.bank_transfer_id)
    return Reconciliation(entry, [line for line in lines if line.bank_transfer_id],
                          [line for line in lines if not line.bank_transfer_id], list(market))


def record_line(line: StatementLine, staff, now: datetime) -> BankTransfer:
    """A statement credit the market has not taken in becomes a bank transfer, as a notification would make
    it: it finds its order by the reference in its content (and pays it, or waits as a part), or stays
    unmatched for staff. Twice is once: the line then has its transfer."""
    locked = db.session.scalar(select(StatementLine).where(StatementLine.id == line.id).with_for_update()
                               .execution_options(populate_existing=True))
    if locked is None or locked.bank_transfer_id is not None:
        raise PaymentError(_l("This statement line is already in the market."))
    transaction_id = locked.bank_reference or f"statement:{locked.line_key[4:44]}"
    try:
        transfer = record_bank_transfer(transaction_id=transaction_id, amount_vnd=locked.amount_vnd,
                                        content=locked.content, transferred_at=locked.booked_at,
                                        source="statement", now=now, actor=staff)
        how = "recorded"
    except DuplicateTransfer:  # recorded by hand (or by a notification) meanwhile, under the bank's reference
        transfer = db.session.scalar(select(BankTransfer).where(BankTransfer.transaction_id == transaction_id))
        if transfer is None or transfer.amount_vnd != locked.amount_vnd:
            raise PaymentError(_l("A transfer with this bank reference and another amount is already recorded: "
                                  "look at it on the transfers page.")) from None
        how = "reference"
    locked.bank_transfer_id, locked.matched_by = transfer.id, how
    audit.record("statement.line_recorded", "statement_line", locked.id, actor=staff,
                 details={"transfer_id": transfer.id, "status": transfer.status})
    db.session.flush()
    return transfer
