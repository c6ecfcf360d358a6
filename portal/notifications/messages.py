"""★ Who is told what: a case event (or an SLA clock, or a security action) → recipients → queued mail.

Services call `notify_case_event(event)` after they flush; the SLA sweep calls `notify_due_soon` /
`notify_breached`; the auth services call `notify_invitation` / `notify_password_reset`. Each builds
its mail from `templates/email/<kind>.txt` and `.html` and queues it with `outbox.enqueue`, in the
caller's transaction. Links are built from PORTAL_URL, never from the request's Host header.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app

from portal.auth import policy
from portal.extensions import db
from portal.models import Case, CaseEvent, EventType, NotificationKind, OutboxMessage, Role, Status, User
from portal.notifications import outbox
from portal.notifications.preferences import wants

K = NotificationKind

SLA_TARGET_LABELS = {"first_response": "first response", "resolution": "resolution"}


# --- building a mail ----------------------------------------------------------------------------


def external_url(endpoint: str, *, anchor: str | None = None, **values) -> str:
    """An absolute link into the portal for an e-mail, on PORTAL_URL (scheme, host and path prefix)."""
    base = urlsplit(current_app.config["PORTAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def local_time(value: datetime | None, user: User) -> str:
    """`value` in the recipient's own time zone, with the zone named (the mail has no viewer)."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(user.timezone or current_app.config["PORTAL_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return f"{value.astimezone(zone):%a %d %b %Y, %H:%M} ({zone.key})"


def render_mail(template: str, **context) -> tuple[str, str]:
    """(text, html) of `templates/email/<template>.txt|.html`. Rendered from the Jinja environment
    itself, not `render_template`, so no request, signed-in user or context processor is needed:
    the CLI and the sweep render the same mail as a request does. HTML is autoescaped, text is not."""
    env = current_app.jinja_env
    context = {
        "portal_name": current_app.config["PORTAL_NAME"],
        "portal_url": current_app.config["PORTAL_URL"],
        "preferences_url": external_url("users.preferences"),
        **context,
    }
    text = env.get_template(f"email/{template}.txt").render(context)
    html = env.get_template(f"email/{template}.html").render(context)
    return text, html


def _queue(user: User, kind: NotificationKind, *, subject: str, dedupe_key: str | None, **context):
    text, html = render_mail(kind.value, recipient=user, kind=kind, **context)
    return outbox.enqueue(
        kind=kind,
        to_address=user.email,
        to_name=user.name,
        recipient=user,
        subject=subject,
        text_body=text,
        html_body=html,
        dedupe_key=dedupe_key,
    )


def _case_context(case: Case, user: User) -> dict:
    return {
        "case": case,
        "case_url": external_url("cases.detail", case_id=case.id),
        "reply_url": external_url("cases.detail", case_id=case.id, anchor="reply"),
    }


# --- who handles a case -------------------------------------------------------------------------


def case_owner(case: Case) -> User | None:
    """The person a case's news goes to on the staff side: its assignee, else its account's manager."""
    return case.assignee or case.account.manager


def _active_staff(role: Role) -> list[User]:
    query = sa.select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    return list(db.session.scalars(query))


def _user(user_id) -> User | None:
    return db.session.get(User, int(user_id)) if isinstance(user_id, int | str) and str(user_id).isdigit() else None


def _event_recipients(event: CaseEvent) -> list[tuple[User | None, NotificationKind]]:
    """Who an event is for, and as what kind of notification, before preferences and visibility."""
    case, actor, data = event.case, event.actor, event.data or {}
    if event.type == EventType.CREATED:
        return [(case.requester, K.CASE_RECEIVED)]
    if event.type == EventType.PUBLIC_REPLY:
        if actor is not None and actor.is_customer:
            return [(case_owner(case), K.CUSTOMER_REPLY)]
        # Accounts share visibility among their customers, but only the requester is written to.
        return [(case.requester, K.STAFF_REPLY)]
    if event.type == EventType.STATUS_CHANGED:
        to = data.get("to")
        if to == Status.WAITING_ON_CUSTOMER.value:
            return [(case.requester, K.WAITING_ON_YOU)]
        if to == Status.RESOLVED.value:
            return [(case.requester, K.CASE_RESOLVED)]
        return []
    if event.type == EventType.ASSIGNED:
        return [(_user(data.get("to")) or case.assignee, K.CASE_ASSIGNED)]
    if event.type == EventType.ESCALATED:
        level = _escalation_level(event)
        role = Role.EXECUTIVE if level >= 2 else Role.TEAM_LEAD
        return [(person, K.ESCALATION) for person in _active_staff(role)] + [(case.requester, K.CASE_ESCALATED)]
    if event.type == EventType.ESCALATION_ACKNOWLEDGED:
        return [(case.requester, K.ESCALATION_ACKNOWLEDGED)]
    if event.type == EventType.ESCALATION_DECIDED:
        # Internal: only staff are written to (the visibility check below holds for everyone).
        return [(case_owner(case), K.ESCALATION_DECIDED), (case.account.manager, K.ESCALATION_DECIDED)]
    return []


def _escalation_level(event: CaseEvent) -> int:
    level = (event.data or {}).get("level", event.case.escalation_level)
    try:
        return max(1, min(2, int(level)))
    except (TypeError, ValueError):
        return max(1, event.case.escalation_level)


def _question(event: CaseEvent) -> str | None:
    """What a move to "waiting on customer" asks: its own note, or else the public reply the same
    person posted just before it in the same action (one mail, "we need your answer", not two)."""
    if event.type != EventType.STATUS_CHANGED or (event.data or {}).get("to") != Status.WAITING_ON_CUSTOMER.value:
        return None
    if event.body:
        return event.body
    previous = db.session.scalar(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == event.case_id, CaseEvent.id < event.id)
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    if previous is not None and previous.type == EventType.PUBLIC_REPLY and previous.actor_id == event.actor_id:
        return previous.body
    return None


def _subject(kind: NotificationKind, event: CaseEvent) -> str:
    case = event.case
    ref, subject = case.reference, case.subject
    actor_name = event.actor.name if event.actor is not None else "A customer"
    return {
        K.CASE_RECEIVED: f"We received your case {ref}: {subject}",
        K.STAFF_REPLY: f"[{ref}] New reply: {subject}",
        K.WAITING_ON_YOU: f"[{ref}] We need your answer: {subject}",
        K.CASE_RESOLVED: f"[{ref}] Resolved: {subject}",
        K.CASE_ESCALATED: f"[{ref}] Your case has been escalated: {subject}",
        K.CASE_ASSIGNED: f"[{ref}] Assigned to you: {subject}",
        K.CUSTOMER_REPLY: f"[{ref}] {actor_name} replied: {subject}",
        K.ESCALATION: f"[{ref}] Escalated to level {_escalation_level(event)}: {subject}",
        K.ESCALATION_ACKNOWLEDGED: f"[{ref}] Your escalation has been acknowledged: {subject}",
        K.ESCALATION_DECIDED: f"[{ref}] Decision on the escalation: {subject}",
    }[kind]


def notify_case_event(event: CaseEvent) -> list[OutboxMessage]:
    """Queue the mail a case event causes, in the caller's transaction; returns what was queued.

    Call it after the service has flushed the event (its id is part of the dedupe key; an event
    without one is flushed first).

    - created → the requester: "we received CB-n" with the first-response promise;
    - public_reply by staff → the requester; by a customer → the assignee (the account's manager
      while unassigned);
    - status_changed to waiting_on_customer → the requester; to resolved → the requester, with a
      link to rate the help; other statuses → nobody;
    - assigned → the new assignee;
    - escalated → every active team lead (level 1) or executive (level 2), and the requester;
    - escalation acknowledged → the requester; escalation decided (internal) → the case's owner and
      the account's manager, with the outcome;
    - sla_breached → as `notify_breached`; any other type → nobody.

    Internal notes never cause mail. Other internal events reach only staff who may read internal
    events of the case, so a customer is never written to about something they cannot see; every
    recipient must be able to see the case at all. Each person's preferences apply. The actor is
    never told about their own action, except the requester's receipt for the case they submitted.
    One mail per event per person: the key `event:<id>:to:<user id>` makes a repeated call a no-op.
    """
    if event.type == EventType.INTERNAL_NOTE:
        return []
    if event.type == EventType.SLA_BREACHED:
        return notify_breached(event.case)
    if event.id is None:
        db.session.flush()  # the id is part of the dedupe key
    case = event.case
    queued, seen = [], set()
    for user, kind in _event_recipients(event):
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        if user.id == event.actor_id and kind != K.CASE_RECEIVED:
            continue
        if not policy.can_view_case(user, case):
            continue
        if event.is_internal and not policy.can_see_internal(user, case):
            continue
        if not wants(user, kind):
            continue
        message = _queue(
            user,
            kind,
            subject=_subject(kind, event),
            dedupe_key=f"event:{event.id}:to:{user.id}",
            event=event,
            actor=event.actor,
            level=_escalation_level(event) if event.type == EventType.ESCALATED else None,
            question=_question(event),
            promise=local_time(case.first_response_due_at, user),
            rate_url=external_url("satisfaction.rate", case_id=case.id),
            **_case_context(case, user),
        )
        if message is not None:
            queued.append(message)
    return queued


# --- SLA clocks (called by the sweep) -----------------------------------------------------------


def _sla_target(case: Case) -> tuple[str, datetime] | None:
    """The running target: ("first_response" | "resolution", due time), or None while no clock runs."""
    due = case.next_due_at
    if due is None:
        return None
    return ("first_response" if case.first_response_at is None else "resolution"), due


def _notify_sla(case: Case, kind: NotificationKind, what: str) -> list[OutboxMessage]:
    target = _sla_target(case)
    owner = case_owner(case)
    if target is None or owner is None or not policy.can_view_case(owner, case) or not wants(owner, kind):
        return []
    name, due = target
    label = SLA_TARGET_LABELS[name]
    subject = f"[{case.reference}] {'Due soon' if kind == K.DUE_SOON else 'Breached'} ({label}): {case.subject}"
    message = _queue(
        owner,
        kind,
        subject=subject,
        # Per case, target and due time: a re-run of the sweep queues nothing new, while a deadline
        # that moved (the clock paused and resumed) is a new one worth a mail.
        dedupe_key=f"sla:{case.id}:{name}:{due:%Y%m%dT%H%M}:{what}:to:{owner.id}",
        target=label,
        due=local_time(due, owner),
        **_case_context(case, owner),
    )
    return [message] if message is not None else []


def notify_due_soon(case: Case) -> list[OutboxMessage]:
    """Tell the case's owner (assignee, else account manager) that its running SLA target is near.
    Once per case, target and due time; nothing while the clock is paused or stopped."""
    return _notify_sla(case, K.DUE_SOON, "due_soon")


def notify_breached(case: Case) -> list[OutboxMessage]:
    """Tell the case's owner that its running SLA target has passed. Once per case, target and due
    time; nothing while the clock is paused or stopped."""
    return _notify_sla(case, K.BREACHED, "breached")


# --- security mails (always sent) ---------------------------------------------------------------


def notify_invitation(user: User, *, link: str, invited_by: User, expires_at: datetime) -> OutboxMessage:
    """The invitation to set a password. Not subject to preferences; never deduplicated (a new
    invitation is a new mail)."""
    portal_name = current_app.config["PORTAL_NAME"]
    return _queue(
        user,
        K.INVITATION,
        subject=f"{invited_by.name} invited you to {portal_name}",
        dedupe_key=None,
        link=link,
        invited_by=invited_by,
        account=user.account,
        expires=local_time(expires_at, user),
    )


def notify_password_reset(user: User, *, link: str, expires_at: datetime) -> OutboxMessage:
    """The link to choose a new password. Not subject to preferences."""
    return _queue(
        user,
        K.PASSWORD_RESET,
        subject=f"Reset your {current_app.config['PORTAL_NAME']} password",
        dedupe_key=None,
        link=link,
        expires=local_time(expires_at, user),
    )
