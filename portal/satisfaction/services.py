"""Rating a case: one rating per case, 1–5 with an optional comment, changeable for 7 days.

The score is mirrored on `Case.satisfaction_score` in the same transaction, so the reports need
only the cases table. Services flush; the route commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.auth.policy import can_rate_case
from portal.cases import timeline
from portal.extensions import db
from portal.models import Case, EventType, Status, User
from portal.models.satisfaction import SatisfactionRating
from portal.services import ConflictError, ServiceError

RATING_WINDOW = timedelta(days=7)
RATEABLE_STATUSES = (Status.RESOLVED, Status.CLOSED)
SCORES = range(1, 6)
MAX_COMMENT = 2000


def fetch_rating(case: Case) -> SatisfactionRating | None:
    return db.session.scalar(sa.select(SatisfactionRating).where(SatisfactionRating.case_id == case.id))


def is_rateable(case: Case) -> bool:
    return case.status in RATEABLE_STATUSES


def is_changeable(rating: SatisfactionRating | None, *, now: datetime) -> bool:
    """A new rating may always be given; an existing one may be changed until 7 days after it was first given."""
    return rating is None or now < rating.rated_at + RATING_WINDOW


def rate_case(case: Case, *, score: int, comment: str | None, actor: User, now: datetime) -> SatisfactionRating:
    """Record `actor`'s rating of `case`, or change it within the window.

    Refused: anyone but the case's customers (403); a case not yet resolved or closed (409);
    a rating older than 7 days (409, it is final); a score outside 1–5 (400). A comment of only
    blanks is no comment. Two customers of the account share the one rating: the latest wins
    while the window is open. Each rating (and change) is on the case's timeline, comment included.
    """
    if not can_rate_case(actor, case):
        raise Forbidden()
    if not is_rateable(case):
        raise ConflictError("You can rate a case once it has been resolved.")
    if score not in SCORES:
        raise ServiceError("Choose a score from 1 to 5.", field="score")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ServiceError(f"Keep the comment under {MAX_COMMENT} characters.", field="comment")
    rating = fetch_rating(case)
    if not is_changeable(rating, now=now):
        raise ConflictError("This rating is final: ratings can be changed for 7 days after they are given.")
    changed = rating is not None
    if rating is None:
        rating = SatisfactionRating(case=case, rated_at=now)
        db.session.add(rating)
    rating.score = score
    rating.comment = comment
    rating.rated_by = actor
    rating.updated_at = now
    case.satisfaction_score = score
    timeline.record_event(
        case, EventType.RATED, actor=actor, body=comment, data={"score": score, "changed": changed}, at=now
    )
    db.session.flush()
    return rating
