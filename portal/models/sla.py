"""SLA settings an admin edits: targets per tier × severity, and the business calendar with its holidays.

When a table is empty the code's defaults apply (`portal.sla.services.DEFAULT_TARGETS` and
`portal.sla.clock.DEFAULT_CALENDAR`); a row overrides them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.accounts import Tier
from portal.models.base import UTCDateTime, enum_column, utcnow
from portal.models.cases import Severity

if TYPE_CHECKING:
    from portal.models.users import User


class SlaPolicy(db.Model):
    """The targets for one tier × severity, in business minutes of the business calendar."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[Tier] = mapped_column(enum_column(Tier))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    first_response_minutes: Mapped[int] = mapped_column()
    resolution_minutes: Mapped[int] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("tier", "severity", name="uq_sla_policies_tier_severity"),
        sa.CheckConstraint("first_response_minutes > 0", name="first_response_positive"),
        sa.CheckConstraint("resolution_minutes > 0", name="resolution_positive"),
    )

    def __repr__(self) -> str:
        return f"<SlaPolicy {self.tier}/{self.severity} {self.first_response_minutes}/{self.resolution_minutes}>"


class BusinessCalendar(db.Model):
    """When the SLA clock runs. The portal uses one calendar (the first row); holidays hang off it.

    `workdays` is a comma-separated list of weekday numbers, Monday=0 … Sunday=6 (e.g. "0,1,2,3,4");
    `start_time`/`end_time` are local wall-clock times in `timezone`.
    """

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    workdays: Mapped[str] = mapped_column(sa.String(13))
    start_time: Mapped[dt.time] = mapped_column(sa.Time)
    end_time: Mapped[dt.time] = mapped_column(sa.Time)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()
    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="calendar", order_by="Holiday.date", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("start_time < end_time", name="hours_in_order"),)

    @property
    def workday_numbers(self) -> frozenset[int]:
        return frozenset(int(day) for day in self.workdays.split(",") if day)

    def __repr__(self) -> str:
        return f"<BusinessCalendar {self.id} {self.name}>"


class Holiday(db.Model):
    """A local date on which the calendar does not work at all."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(sa.ForeignKey("business_calendars.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    name: Mapped[str] = mapped_column(sa.String(100))

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")

    # The unique index also serves "this calendar's holidays in date order".
    __table_args__ = (sa.UniqueConstraint("calendar_id", "date", name="uq_holidays_calendar_id_date"),)

    def __repr__(self) -> str:
        return f"<Holiday {self.date} {self.name}>"
