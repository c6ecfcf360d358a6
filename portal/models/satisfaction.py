"""Satisfaction ratings: a customer's 1–5 score (and optional comment) on a resolved or closed case.

One rating per case (a unique constraint). `Case.satisfaction_score` mirrors the score, so the
reports aggregate over the cases table alone; the rating service keeps both in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.cases import Case
    from portal.models.users import User


class SatisfactionRating(db.Model):
    __tablename__ = "satisfaction_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int] = mapped_column()
    comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The first rating: the 7-day window to change it runs from here.
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    rated_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    def __repr__(self) -> str:
        return f"<SatisfactionRating case {self.case_id} {self.score}>"
