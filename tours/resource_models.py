"""A farm's shared resources for visits: its guides and its vehicles (tours/resources.py has the rules)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.time import utcnow

RESOURCE_KINDS = ("guide", "vehicle")
MAX_COUNT = 500  # guides or seats of one resource
MAX_PER_GUIDE = 100


class FarmResource(db.Model):
    """Guides (``count`` people, each leading up to ``visitors_per_guide`` visitors) or a vehicle (``count``
    seats: the farm's electric cart, the commune's minibus). Every tour ticked for it shares it: visitors of
    slots that overlap in time count together against ``visitors``."""
    __tablename__ = "farm_resources"
    __table_args__ = (
        CheckConstraint("kind IN ('guide', 'vehicle')", name="kind"),
        CheckConstraint(f"count >= 1 AND count <= {MAX_COUNT}", name="count"),
        CheckConstraint(f"(kind = 'guide' AND visitors_per_guide >= 1 AND visitors_per_guide <= {MAX_PER_GUIDE})"
                        " OR (kind = 'vehicle' AND visitors_per_guide IS NULL)", name="visitors_per_guide"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    visitors_per_guide: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    farm = relationship("Farm")

    @property
    def visitors(self) -> int:
        """How many visitors it can take at one time."""
        return self.count * (self.visitors_per_guide or 1) if self.kind == "guide" else self.count


class TourResource(db.Model):
    """A tour uses a resource: each of its slots needs it for the whole visit."""
    __tablename__ = "tour_resources"

    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id", ondelete="CASCADE"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("farm_resources.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
