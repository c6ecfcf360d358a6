"""The staff work queues: Triage, My cases, Team and All, with their filters, sorting and counts.

Every queue is `visible_cases(user)` plus conditions, so a queue can never show a case its
viewer may not see. Sorting by SLA time left uses `Case.next_due_at` (the due time of the target
that applies now; NULL when no clock runs), which the SLA services keep current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import defer, selectinload

from portal.auth import policy
from portal.extensions import db
from portal.models import OPEN_STATUSES, Account, Case, Kind, Role, Severity, Status, User
from portal.models.cases import SEARCH_DOCUMENT
from portal.pagination import Ordering, Page, keyset_page

QUEUES = {
    "triage": "Triage",
    "mine": "My cases",
    "team": "Team",
    "all": "All cases",
}
SORTS = {
    "sla": Ordering(Case, "next_due_at", nullable=True),
    "age": Ordering(Case, "created_at"),
    "newest": Ordering(Case, "created_at", descending=True),
    "updated": Ordering(Case, "updated_at", descending=True),
}
# A case is "due soon" when its current target falls due within this much wall-clock time.
DUE_SOON = timedelta(hours=4)


@dataclass(frozen=True)
class CaseFilters:
    """Already-validated filter values from the queue form ("" means no filter)."""

    status: str = ""
    kind: str = ""
    severity: str = ""
    category: str = ""
    account_id: int | None = None
    assignee_id: int | None = None
    due: str = ""  # "", "due_soon" or "breached"
    q: str = ""
    sort: str = "sla"


def queues_for(user: User) -> list[str]:
    """The queues `user` works from. Team view is for team leads."""
    if user.role == Role.TEAM_LEAD:
        return ["triage", "mine", "team", "all"]
    if user.role == Role.ACCOUNT_MANAGER:
        return ["triage", "mine", "all"]
    return ["all"]


def _queue_query(user: User, queue: str) -> sa.Select:
    query = policy.visible_cases(user)
    if queue == "triage":
        return query.where(Case.status == Status.NEW, Case.assignee_id.is_(None))
    if queue == "mine":
        return query.where(Case.assignee_id == user.id, Case.status.in_(OPEN_STATUSES))
    if queue == "team":
        return query.where(Case.status.in_(OPEN_STATUSES))
    return query


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern escaped with a backslash: its %, _ and backslashes match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(query: sa.Select, text: str) -> sa.Select:
    """Match a reference (CB-123 or 123) exactly, or words in the subject or description.

    PostgreSQL matches the words with full-text search (stemmed, so "invoices" finds "invoice";
    quotes, "or" and "-word" as in a web search) through the GIN index `ix_cases_search`;
    SQLite, the development database, falls back to a substring match.
    """
    text = text.strip()
    reference = text.upper().removeprefix("CB-")
    if reference.isdigit():
        return query.where(Case.id == int(reference))
    if db.session.get_bind().dialect.name == "postgresql":
        document = sa.literal_column(SEARCH_DOCUMENT)
        return query.where(document.bool_op("@@")(sa.func.websearch_to_tsquery("english", text)))
    pattern = f"%{escape_like(text)}%"
    return query.where(sa.or_(Case.subject.ilike(pattern, escape="\\"), Case.description.ilike(pattern, escape="\\")))


def filtered_query(user: User, queue: str, filters: CaseFilters, *, now: datetime) -> sa.Select:
    query = _queue_query(user, queue)
    if filters.status == "active":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Case.status == Status(filters.status))
    if filters.kind:
        query = query.where(Case.kind == Kind(filters.kind))
    if filters.severity:
        query = query.where(Case.severity == Severity(filters.severity))
    if filters.category:
        query = query.where(Case.category == filters.category)
    if filters.account_id:
        query = query.where(Case.account_id == filters.account_id)
    if filters.assignee_id:
        query = query.where(Case.assignee_id == filters.assignee_id)
    if filters.due == "breached":
        query = query.where(Case.next_due_at < now)
    elif filters.due == "due_soon":
        query = query.where(Case.next_due_at >= now, Case.next_due_at < now + DUE_SOON)
    if filters.q:
        query = _search(query, filters.q)
    return query


def fetch_queue_page(
    user: User, queue: str, filters: CaseFilters, *, cursor: str | None, per_page: int, now: datetime
) -> Page:
    # Only what a queue row shows: the description (often long) stays in the database, and the
    # related account and people bring only their names. raiseload turns any other use into an
    # error in the tests instead of a query per row.
    query = filtered_query(user, queue, filters, now=now).options(
        defer(Case.description, raiseload=True),
        selectinload(Case.account).load_only(Account.name, Account.tier, raiseload=True),
        selectinload(Case.assignee).load_only(User.name, raiseload=True),
        selectinload(Case.requester).load_only(User.name, raiseload=True),
    )
    return keyset_page(query, SORTS.get(filters.sort, SORTS["sla"]), cursor=cursor, per_page=per_page)


def count_queues(user: User) -> dict[str, int]:
    """How many cases wait in the triage queue and in `user`'s own queue, for the navigation."""
    counts = {}
    for queue in ("triage", "mine"):
        if queue in queues_for(user):
            # COUNT(*), not COUNT(id): the id is not in ix_cases_assignee_status, so an index-only scan can answer it.
            query = _queue_query(user, queue).with_only_columns(sa.func.count()).order_by(None)
            counts[queue] = db.session.scalar(query)
    return counts


def fetch_visible_cases_by_id(user: User, case_ids: list[int]) -> list[Case]:
    """The cases with these ids that `user` may see; any other id is silently absent."""
    if not case_ids:
        return []
    return list(db.session.scalars(policy.visible_cases(user).where(Case.id.in_(case_ids)).order_by(Case.id)))
