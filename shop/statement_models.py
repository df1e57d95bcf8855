"""Bank statements that staff import (shop/payments/reconcile.py): each file once, each credit line once."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow


class StatementImport(db.Model):
    """One statement file as staff uploaded it; ``digest`` (SHA-256 of its bytes) keeps a second upload of the
    same file from adding anything."""
    __tablename__ = "statement_imports"
    __table_args__ = (CheckConstraint("credits >= 0 AND skipped >= 0", name="counts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    layout: Mapped[str] = mapped_column(String(20))  # the export it was read as (statement_csv.LAYOUTS)
    first_day: Mapped[date | None] = mapped_column(Date)  # the local days its lines cover
    last_day: Mapped[date | None] = mapped_column(Date)
    credits: Mapped[int] = mapped_column(Integer, default=0)  # credit lines new in this file
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # debits, and credits imported before
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    lines = relationship("StatementLine", back_populates="statement_import", order_by="StatementLine.id")


class StatementLine(db.Model):
    """One credit of an imported statement. ``line_key`` is the bank's reference (``ref:...``), else a digest of
    day, amount, content and its place among equal lines: UNIQUE, so a line is kept once whatever the files that
    show it. ``bank_transfer_id``: the market's credit it matched, or the one recorded from it."""
    __tablename__ = "statement_lines"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="amount_vnd"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("statement_imports.id"), index=True)
    line_key: Mapped[str] = mapped_column(String(160), unique=True)
    booked_on: Mapped[date] = mapped_column(Date, index=True)  # the bank's day (Vietnam)
    booked_at: Mapped[datetime | None] = mapped_column(DateTime)  # the bank's time, naive UTC, when it gives one
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[str] = mapped_column(Text, default="")
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    bank_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transfers.id"), index=True)
    matched_by: Mapped[str | None] = mapped_column(String(10))  # "reference", "content" or "recorded"

    statement_import = relationship("StatementImport", back_populates="lines")
    bank_transfer = relationship("BankTransfer")
