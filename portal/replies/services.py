"""Saved-reply rules: who may use and manage them, which placeholders a body may hold, and rendering
one for a case.

A body is plain text with placeholders in braces, such as "Hi {customer_first_name}". Only the names
in PLACEHOLDERS are allowed, with no conversion or format spec; `{{` and `}}` stand for literal
braces. A body breaking these rules is refused when it is saved, so rendering never meets one.
Rendering substitutes values itself instead of calling `str.format`, so a body can never reach an
attribute of the values (`{case.__class__}`) or build a huge string (`{customer_name:>999999999}`).
"""

from __future__ import annotations

import string

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from portal.auth import policy
from portal.extensions import db
from portal.models import Case, SavedReply, User
from portal.models.base import utcnow
from portal.pagination import MAX_ID
from portal.services import ServiceError

# name -> what it becomes, for the help text on the form.
PLACEHOLDERS = {
    "customer_name": "the requester's full name",
    "customer_first_name": "the requester's first name",
    "case_reference": "the case reference, such as CB-12",
    "case_subject": "the case subject",
    "agent_name": "your name (whoever inserts the reply)",
    "account_name": "the customer's company",
}

def _parse(body: str) -> list[tuple[str, str | None]]:
    """The body as (literal text, placeholder name or None) pieces; ServiceError for a malformed or
    unknown placeholder, naming it."""
    try:
        pieces = list(string.Formatter().parse(body))
    except ValueError:
        raise ServiceError(
            "A brace is not closed. Write placeholders like {customer_name}, and {{ or }} for a brace itself.",
            field="body",
        ) from None
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    for _literal, name, format_spec, conversion in pieces:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = f"{{{name}}}" if name else "{}"
            raise ServiceError(f"Unknown placeholder {shown}. Use one of {allowed}.", field="body")
        if format_spec or conversion:
            raise ServiceError(
                f"Write the placeholder as plain {{{name}}}, without ! or : after its name.", field="body"
            )
    return [(literal, name) for literal, name, _spec, _conversion in pieces]


def placeholders_in(body: str) -> list[str]:
    """The placeholder names `body` uses, in order (ServiceError if any is not allowed)."""
    return [name for _literal, name in _parse(body) if name is not None]


def _clean(title: str | None, body: str | None) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise ServiceError("Give the saved reply a title.", field="title")
    if not body:
        raise ServiceError("Write the text of the saved reply.", field="body")
    _parse(body)
    return title, body


def _check_title_free(title: str, *, other_than: SavedReply | None = None) -> None:
    query = sa.select(SavedReply.id).where(sa.func.lower(SavedReply.title) == title.lower())
    if other_than is not None:
        query = query.where(SavedReply.id != other_than.id)
    if db.session.scalar(query) is not None:
        raise ServiceError("There is already a saved reply with this title.", field="title")


def create_saved_reply(*, title: str, body: str, actor: User) -> SavedReply:
    """A new saved reply. The title is required and unique (ignoring case); the body is required
    and may use only the known placeholders."""
    policy.require(policy.can_manage_saved_replies(actor))
    title, body = _clean(title, body)
    _check_title_free(title)
    now = utcnow()
    reply = SavedReply(title=title, body=body, created_by=actor, created_at=now, updated_at=now)
    db.session.add(reply)
    db.session.flush()
    return reply


def update_saved_reply(reply: SavedReply, *, title: str, body: str, actor: User) -> SavedReply:
    """Change a saved reply's title and body, under the same rules as creating one."""
    policy.require(policy.can_manage_saved_replies(actor))
    title, body = _clean(title, body)
    _check_title_free(title, other_than=reply)
    reply.title = title
    reply.body = body
    reply.updated_at = utcnow()
    db.session.flush()
    return reply


def delete_saved_reply(reply: SavedReply, *, actor: User) -> None:
    """Remove a saved reply. Replies already sent with its text are not affected."""
    policy.require(policy.can_manage_saved_replies(actor))
    db.session.delete(reply)
    db.session.flush()


def fetch_saved_replies() -> list[SavedReply]:
    """Every saved reply by title, with who added it (a short team-wide list: no paging)."""
    query = sa.select(SavedReply).options(selectinload(SavedReply.created_by)).order_by(SavedReply.title, SavedReply.id)
    return list(db.session.scalars(query))


def fetch_saved_reply(reply_id: int) -> SavedReply:
    """The saved reply with `reply_id`; 404 when there is none."""
    reply = db.session.get(SavedReply, reply_id) if 0 < reply_id <= MAX_ID else None
    if reply is None:
        raise NotFound()
    return reply


def placeholder_values(case: Case, agent: User) -> dict[str, str]:
    name = case.requester.name.strip()
    return {
        "customer_name": name,
        "customer_first_name": name.split()[0] if name else "",
        "case_reference": case.reference,
        "case_subject": case.subject,
        "agent_name": agent.name,
        "account_name": case.account.name,
    }


def render_saved_reply(reply: SavedReply, *, case: Case, agent: User) -> str:
    """The reply's text for `case` as `agent` would send it, placeholders filled in. Plain text:
    the page escapes it like any other text."""
    values = placeholder_values(case, agent)
    return "".join(literal + (values[name] if name is not None else "") for literal, name in _parse(reply.body))


def render_for_case(reply_id: int, *, case: Case, agent: User) -> str:
    """The text of saved reply `reply_id` for the reply box of `case`.

    ServiceError (shown beside the picker) when `agent` may not use saved replies or reply on the
    case, or the saved reply no longer exists; the case page still shows, without the text.
    """
    if not (policy.can_use_saved_replies(agent) and policy.can_reply(agent, case)):
        raise ServiceError("Saved replies are for staff replying on this case.", field="saved_reply")
    reply = db.session.get(SavedReply, reply_id) if 0 < reply_id <= MAX_ID else None
    if reply is None:
        raise ServiceError("That saved reply no longer exists. Choose another.", field="saved_reply")
    return render_saved_reply(reply, case=case, agent=agent)
