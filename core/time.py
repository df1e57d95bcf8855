"""Time helpers. The database stores naive UTC; pages show Asia/Ho_Chi_Minh."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """The current time as naive UTC, the form every DateTime column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    """A stored naive-UTC datetime as an aware Asia/Ho_Chi_Minh datetime."""
    return value.replace(tzinfo=UTC).astimezone(LOCAL_TZ)


def local_to_utc(value: datetime) -> datetime:
    """A naive local (Asia/Ho_Chi_Minh) datetime as the naive UTC to store."""
    return value.replace(tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)
