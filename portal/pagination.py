"""Keyset pagination: every page costs the same, however deep, because it seeks instead of skipping.

A page is ordered by one sort column plus the row id as a tie-breaker. The cursor carries the
last row's (sort value, id); the next page starts strictly after it, written as a row comparison
`(column, id) > (value, id)` that both databases answer from an index on (column, id). A sort column
may hold NULLs when its ordering says so; they always come last (for example cases with no SLA
clock running, when sorting by time left).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.extensions import db

MAX_ID = 2**31 - 1  # ids are INTEGER columns; a larger one in a URL can only be a probe


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None
    is_first: bool


@dataclass(frozen=True)
class Ordering:
    """Sort by `attribute` of `model` (a datetime column), then by id; NULLs last when `nullable`."""

    model: type
    attribute: str
    descending: bool = False
    nullable: bool = False

    @property
    def column(self):
        return getattr(self.model, self.attribute)


def newest_first(model) -> Ordering:
    return Ordering(model, "created_at", descending=True)


def encode_cursor(value: datetime | None, row_id: int) -> str:
    raw = json.dumps([value.isoformat() if value else None, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime | None, int] | None:
    """The (sort value, id) a cursor points after, or None for a missing or malformed cursor."""
    if not cursor:
        return None
    try:
        stamp, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = datetime.fromisoformat(stamp) if stamp is not None else None
        if value is not None:
            if value.tzinfo is None:
                return None
            value = value.astimezone(UTC)  # an out-of-range time raises OverflowError here
        if not isinstance(row_id, int) or not 0 < row_id <= MAX_ID:
            return None
        return value, row_id
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None


def _after(ordering: Ordering, value: datetime | None, row_id: int):
    """The rows strictly after (value, row_id) in `ordering`."""
    column, row = ordering.column, ordering.model.id
    if value is None:  # already in the NULL tail
        if not ordering.nullable:
            return sa.false()
        return sa.and_(column.is_(None), row < row_id if ordering.descending else row > row_id)
    key = sa.tuple_(column, row)
    beyond = key < sa.tuple_(value, row_id) if ordering.descending else key > sa.tuple_(value, row_id)
    return sa.or_(beyond, column.is_(None)) if ordering.nullable else beyond


def keyset_page(query: sa.Select, ordering: Ordering, *, cursor: str | None, per_page: int) -> Page:
    """One page of `query` in `ordering`, starting after `cursor` (the first page when None)."""
    position = decode_cursor(cursor)
    if position is not None:
        query = query.where(_after(ordering, *position))
    column, row = ordering.column, ordering.model.id
    # A plain DESC / ASC is what an index on (column, id) gives when read backwards / forwards;
    # NULLS LAST is spelt out only where NULLs can occur (ASC puts them last anyway on PostgreSQL).
    if ordering.descending:
        query = query.order_by(column.desc().nulls_last() if ordering.nullable else column.desc(), row.desc())
    else:
        query = query.order_by(column.asc().nulls_last() if ordering.nullable else column.asc(), row.asc())
    rows = list(db.session.scalars(query.limit(per_page + 1)))
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, ordering.attribute), last.id)
    return Page(items=rows, next_cursor=next_cursor, is_first=position is None)
