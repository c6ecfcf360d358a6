"""Keyset pagination over (created_at, id), newest first: every page costs the same, however deep."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None
    is_first: bool


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor points after, or None for a missing or malformed cursor."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            return None
        return created_at, int(row_id)
    except (ValueError, UnicodeDecodeError):
        return None


def keyset_page(query: sa.Select, model, *, cursor: str | None, per_page: int) -> Page:
    """One page of `query` ordered by `model.created_at, model.id` descending, after `cursor`."""
    position = decode_cursor(cursor)
    if position is not None:
        created_at, row_id = position
        query = query.where(
            sa.or_(
                model.created_at < created_at,
                sa.and_(model.created_at == created_at, model.id < row_id),
            )
        )
    query = query.order_by(model.created_at.desc(), model.id.desc()).limit(per_page + 1)
    rows = list(db.session.scalars(query))
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return Page(items=rows, next_cursor=next_cursor, is_first=position is None)
