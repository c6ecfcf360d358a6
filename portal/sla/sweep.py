"""The SLA sweep behind `flask sla sweep`: one pass over the clocks, safe to repeat and to run on
several machines at once.

A pass, case by case, each case its own unit of work (the caller commits after each):
1. breaches: a first-response or resolution due that has passed on a running clock is marked once
   (a conditional UPDATE of `first_response_breached_at` / `resolution_breached_at` … WHERE it IS
   NULL), recorded once as an internal `sla_breached` event, mailed to the case's owner, and
   escalated as `escalations.rules.on_breach` says; a target overrun by more than half its length is
   marked once more (`severe_breach_at`) and raised to level 2;
2. a critical case's level-1 escalation still unacknowledged after ESCALATION_ACK_MINUTES → level 2;
3. due-soon mail for running clocks near their due (the notifications dedupe it);
4. resolved cases quiet for AUTO_CLOSE_DAYS are closed (`cases.services.auto_close_case`).

Each case is taken with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL: a second sweep skips the
cases the first is working on, and one arriving later finds the marks set and does nothing. The
marks, the one-open-escalation index and the outbox's dedupe keys make every step idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal.cases import services as case_services
from portal.cases import timeline
from portal.escalations import rules
from portal.escalations import services as escalations
from portal.extensions import db
from portal.models import Case, Escalation, EventType, Severity, Visibility
from portal.models.cases import CLOCK_RUNNING_STATUSES
from portal.notifications import messages as notifications
from portal.sla import clock
from portal.sla import services as sla

# Due-soon warnings start at most a quarter of the longest target (60 business days) ahead.
DUE_SOON_HORIZON = timedelta(days=21)


@dataclass
class SweepReport:
    breaches: int = 0  # sla_breached events recorded
    escalations: int = 0  # escalations opened or raised a level
    due_soon: int = 0  # due-soon mails queued
    breach_mails: int = 0
    auto_closed: int = 0
    skipped: int = 0  # cases another sweep was working on, or that changed meanwhile

    def summary(self) -> str:
        return ", ".join(f"{field.name.replace('_', ' ')}: {getattr(self, field.name)}" for field in fields(self))


def _lock_case(case_id: int) -> Case | None:
    """The case, freshly read and row-locked for this transaction; None while another sweep holds it."""
    query = sa.select(Case).where(Case.id == case_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def _mark(case: Case, column, now: datetime) -> bool:
    """Set `column` on the case once: True only for the one UPDATE that found it empty."""
    changed = db.session.execute(
        sa.update(Case)
        .where(Case.id == case.id, column.is_(None))
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        set_committed_value(case, column.key, now)
    return bool(changed)


def _running(case: Case) -> bool:
    return case.status in CLOCK_RUNNING_STATUSES and case.sla_paused_at is None


def fetch_breach_candidate_ids(now: datetime) -> list[int]:
    """Running clocks past a due whose breach (or severe overrun) is not marked yet."""
    first = sa.and_(
        Case.first_response_at.is_(None),
        Case.first_response_due_at < now,
        sa.or_(Case.first_response_breached_at.is_(None), Case.severe_breach_at.is_(None)),
    )
    resolution = sa.and_(
        Case.resolution_due_at < now,
        sa.or_(Case.resolution_breached_at.is_(None), Case.severe_breach_at.is_(None)),
    )
    query = (
        sa.select(Case.id)
        .where(Case.status.in_(CLOCK_RUNNING_STATUSES), Case.sla_paused_at.is_(None), sa.or_(first, resolution))
        .order_by(Case.id)
    )
    return list(db.session.scalars(query))


def sweep_case_breaches(case_id: int, *, now: datetime, calendar, targets, report: SweepReport) -> None:
    """Mark, record, mail and escalate the breaches of one case (under its row lock)."""
    case = _lock_case(case_id)
    if case is None:
        report.skipped += 1
        return
    if not _running(case):
        return
    limits = targets[(case.account.tier, case.severity)]
    found = []
    if case.first_response_at is None and case.first_response_due_at and case.first_response_due_at < now:
        found.append(
            (
                rules.FIRST_RESPONSE,
                case.first_response_due_at,
                limits.first_response_minutes,
                Case.first_response_breached_at,
            )
        )
    if case.resolution_due_at and case.resolution_due_at < now:
        found.append((rules.RESOLUTION, case.resolution_due_at, limits.resolution_minutes, Case.resolution_breached_at))
    for target, due, minutes, column in found:
        overdue = clock.business_time_between(due, now, calendar) / timedelta(minutes=1)
        if _mark(case, column, now):
            event = timeline.record_event(
                case,
                EventType.SLA_BREACHED,
                actor=None,
                data={"target": target, "due_at": due.isoformat(), "target_minutes": minutes},
                visibility=Visibility.INTERNAL,
                at=now,
            )
            db.session.flush()
            report.breaches += 1
            report.breach_mails += len(notifications.notify_case_event(event))
            proposal = rules.on_breach(
                target=target, tier=case.account.tier.value, overdue_minutes=overdue, target_minutes=minutes
            )
            report.escalations += escalations.apply_proposal(case, proposal, actor=None, now=now) is not None
        if rules.is_severe_overrun(overdue_minutes=overdue, target_minutes=minutes) and _mark(
            case, Case.severe_breach_at, now
        ):
            proposal = rules.Proposal(2, rules.SLA_BREACH)
            report.escalations += escalations.apply_proposal(case, proposal, actor=None, now=now) is not None
    db.session.flush()


def fetch_unacknowledged_critical_ids(now: datetime, window: timedelta) -> list[int]:
    """Open level-1 escalations of critical cases nobody acknowledged within `window`."""
    query = (
        sa.select(Escalation.id)
        .join(Case, Case.id == Escalation.case_id)
        .where(
            Escalation.closed_at.is_(None),
            Escalation.level == 1,
            Escalation.acknowledged_at.is_(None),
            Escalation.raised_at < now - window,
            Case.severity == Severity.CRITICAL,
        )
        .order_by(Escalation.id)
    )
    return list(db.session.scalars(query))


def sweep_unacknowledged(escalation_id: int, *, now: datetime, window: timedelta, report: SweepReport) -> None:
    escalation = db.session.get(Escalation, escalation_id)
    case = _lock_case(escalation.case_id) if escalation is not None else None
    if case is None:
        report.skipped += 1
        return
    db.session.refresh(escalation)
    if escalation.closed_at is not None:
        return
    proposal = rules.on_unacknowledged(
        level=escalation.level,
        severity=case.severity.value,
        acknowledged=escalation.acknowledged_at is not None,
        raised_at=escalation.raised_at,
        now=now,
        window=window,
    )
    report.escalations += escalations.apply_proposal(case, proposal, actor=None, now=now) is not None


def fetch_due_soon_candidates(now: datetime) -> list[Case]:
    query = (
        sa.select(Case)
        .where(Case.next_due_at >= now, Case.next_due_at < now + DUE_SOON_HORIZON)
        .options(selectinload(Case.account), selectinload(Case.assignee))
        .order_by(Case.id)
    )
    return list(db.session.scalars(query))


def run_sweep(
    *,
    now: datetime,
    ack_minutes: int = 30,
    auto_close_days: int = 7,
    commit: Callable[[], None] | None = None,
    rollback: Callable[[], None] | None = None,
) -> SweepReport:
    """One pass of the sweep at `now`. `commit` ends each case's unit of work (the CLI passes
    `db.session.commit`; the default only flushes, for callers that commit once); a unit that loses
    a race (the case changed meanwhile) is rolled back with `rollback` and counted as skipped."""
    commit = commit or db.session.flush
    rollback = rollback or db.session.rollback
    report = SweepReport()
    window = timedelta(minutes=ack_minutes)

    def unit(work) -> None:
        try:
            work()
            commit()
        except (StaleDataError, OperationalError):
            rollback()
            report.skipped += 1

    calendar = sla.business_calendar()
    targets = {(row.tier, row.severity): row.targets for row in sla.fetch_policy_grid()}
    for case_id in fetch_breach_candidate_ids(now):
        unit(
            lambda case_id=case_id: sweep_case_breaches(
                case_id, now=now, calendar=calendar, targets=targets, report=report
            )
        )
    for escalation_id in fetch_unacknowledged_critical_ids(now, window):
        unit(
            lambda escalation_id=escalation_id: sweep_unacknowledged(
                escalation_id, now=now, window=window, report=report
            )
        )
    for case in fetch_due_soon_candidates(now):
        state = sla.sla_state(case, now=now, calendar=calendar, targets=targets[(case.account.tier, case.severity)])
        if state.due_soon:

            def notify(case=case) -> None:
                report.due_soon += len(notifications.notify_due_soon(case))

            unit(notify)
    for case_id in case_services.fetch_stale_resolved_case_ids(now=now, days=auto_close_days):

        def close(case_id=case_id) -> None:
            report.auto_closed += case_services.auto_close_case(case_id, now=now, days=auto_close_days) is not None

        unit(close)
    return report
