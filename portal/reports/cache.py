"""Built reports and dashboards, cached: the first look at a period aggregates its cases, later
looks within a few minutes are answered from the cache.

A cached figure is never older than the data it summarises:

- Every entry's key holds the *data generation*, a token replaced after each commit that changed
  a case, an escalation, a satisfaction rating or an account (ORM changes and ORM-enabled UPDATE /
  DELETE statements alike, caught by the session events below). A report built before the change
  is then simply never asked for again. The token is replaced only after the commit, and read
  before a report is built, so a report can only ever be stored under a generation at least as
  old as its data.
- Every key also holds the *window*, the current slice of `REPORT_CACHE_SECONDS`, and entries
  expire with it: SLA results depend on the clock (a target passes its due time with no write at
  all), so a report is at most one window old even when nothing changed. The page says "as of".

Permissions are checked before the cache is consulted, and the key is the scope (which accounts),
not the person: two people who may see the same scope see the same figures.

The cache is a convenience: when it is unreachable, reports are built as if nothing were cached.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from itertools import chain
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.auth.policy import require_reports
from portal.extensions import cache
from portal.models import Account, Case, Escalation, SatisfactionRating, User
from portal.reports import services
from portal.reports.periods import Period
from portal.reports.scope import Scope

log = logging.getLogger(__name__)

GENERATION_KEY = "reports:generation"
# The generation outlives any entry made under it; when it lapses a new one simply starts.
GENERATION_SECONDS = 24 * 3600
# What the reports read. (Users only lend their names: a renamed manager shows within a window.)
WATCHED = (Case, Escalation, SatisfactionRating, Account)
_CHANGED = "reports_data_changed"  # the flag in Session.info

T = TypeVar("T")


def report(user: User, scope: Scope, period: Period, *, now: datetime) -> services.Report:
    """`services.build_report`, from the cache when it holds this scope and period."""
    key = f"report:{_scope_key(scope)}:{period.start.isoformat()}:{period.end.isoformat()}"
    return _cached(key, now, lambda: services.build_report(user, scope, period, now=now), user)


def dashboard(user: User, scope: Scope, *, now: datetime) -> services.Dashboard:
    """`services.build_dashboard`, from the cache when it holds this scope."""
    return _cached(f"dashboard:{_scope_key(scope)}", now, lambda: services.build_dashboard(user, scope, now=now), user)


def _scope_key(scope: Scope) -> str:
    return f"{scope.kind}:{scope.manager_id or ''}:{scope.account_id or ''}"


def _cached(name: str, now: datetime, build: Callable[[], T], user: User) -> T:
    require_reports(user)  # never answer from the cache what the user may not see
    seconds = current_app.config["REPORT_CACHE_SECONDS"]
    try:
        key = f"{name}:{_generation()}:{int(now.timestamp()) // seconds}"
        found = cache.get(key)
    except Exception:  # an unreachable cache must not take the reports down
        log.warning("report cache unavailable; building without it", exc_info=True)
        return build()
    if found is not None:
        return found
    result = build()
    try:
        cache.set(key, result, timeout=seconds)
    except Exception:
        log.warning("report cache unavailable; not storing", exc_info=True)
    return result


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:  # first use, or evicted: start a new generation nobody has cached under
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=GENERATION_SECONDS)
        generation = cache.get(GENERATION_KEY)
    return str(generation)


def data_changed() -> None:
    """Start a new data generation: every cached report is out of date."""
    if not has_app_context():
        return
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=GENERATION_SECONDS)
    except Exception:
        log.warning("report cache unavailable; could not start a new generation", exc_info=True)


# --- noticing changes ----------------------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session, flush_context) -> None:
    if any(isinstance(instance, WATCHED) for instance in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    """UPDATE / DELETE / INSERT statements run through the session (the sweep's breach marks, for one)."""
    if (state.is_update or state.is_delete or state.is_insert) and any(
        mapper.class_ in WATCHED for mapper in state.all_mappers
    ):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _start_new_generation(session) -> None:
    if session.info.pop(_CHANGED, False):
        data_changed()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session) -> None:
    session.info.pop(_CHANGED, None)
