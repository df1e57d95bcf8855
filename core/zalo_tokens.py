"""The Zalo OA token pair, stored as one row and swapped atomically.

Zalo's access token lasts about 25 hours, and each refresh returns a new refresh token while the old one stops
working. Two workers refreshing at once would each spend the same refresh token: the second refresh fails and,
worse, whichever answer is stored last may hold a refresh token Zalo has already replaced. So a refresh first
takes the row's write lock (an UPDATE of the row: a row lock on PostgreSQL, the database's write lock on SQLite),
then looks again: if another worker refreshed while this one waited, its token is used and Zalo is not called.
The first refresh token comes from ZALO_REFRESH_TOKEN (staff get it by authorising the app on the OA once); after
that the database's pair is the truth.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core import transactions
from core.channels import zalo_api
from core.extensions import db
from core.time import utcnow

EARLY = timedelta(minutes=5)  # refresh this long before Zalo's expiry, so no message is sent with a dying token
ROW_ID = 1


class ZaloToken(db.Model):
    __tablename__ = "zalo_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime)
    app_id: Mapped[str] = mapped_column(String(40), default="")


def access_token(config) -> str:
    """A valid access token: the stored one, or a fresh one when it has expired (or there is none yet)."""
    token, expires_at = _read(config)
    if token and expires_at and expires_at - EARLY > utcnow():
        return token
    return refresh(config, stale=token)


def refresh(config, *, stale: str) -> str:
    """Replace the pair, unless another worker already replaced the access token ``stale``; the token to use.
    A lock conflict (SQLite's "database is locked" when another worker committed first) starts over, and then
    finds the other worker's token."""
    return transactions.run(lambda: _refresh(config, stale), what="refreshing the Zalo token")


def _refresh(config, stale: str) -> str:
    """One attempt of ``refresh``.
    Raises ZaloError when Zalo refuses (the stored pair is then left as it was). The row stays locked while Zalo
    answers (at most ZALO_TIMEOUT_SECONDS): on SQLite, a development database, that holds up every writer."""
    _read(config)  # the row exists
    locked = db.session.execute(update(ZaloToken).where(ZaloToken.id == ROW_ID)
                                .values(refreshed_at=ZaloToken.refreshed_at)
                                .execution_options(synchronize_session=False))
    assert locked.rowcount == 1
    row = db.session.get(ZaloToken, ROW_ID, populate_existing=True)
    if row.access_token and row.access_token != stale and row.expires_at and row.expires_at - EARLY > utcnow():
        db.session.commit()  # another worker refreshed while this one waited for the lock
        return row.access_token
    try:
        tokens = zalo_api.refresh(config["ZALO_OAUTH_URL"], config["ZALO_APP_ID"], config["ZALO_APP_SECRET"],
                                  row.refresh_token, timeout=config.get("ZALO_TIMEOUT_SECONDS", 10))
    except zalo_api.ZaloError:
        db.session.rollback()
        raise
    row.access_token, row.refresh_token = tokens.access_token, tokens.refresh_token
    row.expires_at, row.refreshed_at = utcnow() + timedelta(seconds=tokens.expires_in), utcnow()
    db.session.commit()
    return tokens.access_token


def _read(config) -> tuple[str, datetime | None]:
    """The stored access token and its expiry, the transaction ended (none stays open while Zalo is talked to).
    The row is made from ZALO_REFRESH_TOKEN the first time, and again when ZALO_APP_ID changes."""
    return transactions.run(lambda: _read_once(config), what="reading the Zalo token")


def _read_once(config) -> tuple[str, datetime | None]:
    row = db.session.scalar(select(ZaloToken).where(ZaloToken.id == ROW_ID))
    if row is None or row.app_id != config["ZALO_APP_ID"]:
        if row is None:
            row = ZaloToken(id=ROW_ID)
            db.session.add(row)
        row.app_id, row.refresh_token = config["ZALO_APP_ID"], config["ZALO_REFRESH_TOKEN"]
        row.access_token, row.expires_at = "", None
        try:
            db.session.commit()
        except IntegrityError:  # another worker made it at the same moment: theirs is as good
            db.session.rollback()
        return "", None
    token, expires_at = row.access_token, row.expires_at
    db.session.commit()
    return token, expires_at
