"""Seed a PostgreSQL database with a large, realistic Casebridge data set, fast.

    python bench/seed.py postgresql+psycopg://root@127.0.0.1/casebridge_bench --cases 1000000

The database is dropped and created again (`--keep` to seed an existing empty one), the schema is
made by the project's own migrations (`flask db upgrade` with DATABASE_URL pointing at it), and
every row is generated in Python and streamed straight into `COPY … FROM STDIN` (psycopg 3
`cursor.copy`): no ORM, no list of all rows in memory. The secondary indexes and foreign keys of
the big tables are dropped for the load and created again afterwards, the id sequences are moved
past the seeded ids, and the tables are VACUUMed and ANALYZEd.

Volume for N cases (default 1,000,000): 60 staff; max(100, 2000·N/1M) accounts over the three tiers
with ten customers each; cases spread over the last three years (about 5% still open, the rest
resolved or closed) with about four timeline events each; escalations for a few percent of the
cases; satisfaction ratings for about a third of the resolved ones. The random generator has a fixed
seed, and every date is relative to the day the seed runs (so the dashboard's "this quarter" has data).

Every seeded person's password is BENCH_PASSWORD. What the harness needs to find again (the busy
account manager, the bench customer, the case with 40 events) is kept in a small `bench_info` table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from bisect import bisect
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-password-1"  # noqa: S105 (a throwaway benchmark login)
# werkzeug.security.generate_password_hash(BENCH_PASSWORD), computed once: hashing 20,000 passwords
# would take longer than the rest of the seed.
PASSWORD_HASH = None

BIG_TABLES = ("cases", "case_events", "escalations", "satisfaction_ratings")
STAFF = {"admin": 1, "executive": 3, "team_lead": 4, "account_manager": 52}  # 60 in all
CUSTOMERS_PER_ACCOUNT = 10
YEARS = 3
FORTY_EVENTS = 40

KINDS = (("issue", 55), ("query", 30), ("feedback", 15))
SEVERITIES = (("low", 30), ("medium", 45), ("high", 20), ("critical", 5))
CATEGORIES_BY_KIND = {
    "issue": ("bug", "performance", "integration", "data", "account_access", "billing"),
    "query": ("billing", "account_access", "documentation", "integration", "data", "other"),
    "feedback": ("feature_request", "documentation", "other", "performance"),
}
TIERS = (("standard", 67), ("premium", 25), ("strategic", 8))
# (first response, resolution) in business minutes, as portal.sla.services.DEFAULT_TARGETS.
_H, _D = 60, 8 * 60
TARGETS = {
    ("standard", "critical"): (2 * _H, 2 * _D),
    ("standard", "high"): (4 * _H, 3 * _D),
    ("standard", "medium"): (1 * _D, 5 * _D),
    ("standard", "low"): (2 * _D, 10 * _D),
    ("premium", "critical"): (1 * _H, 1 * _D),
    ("premium", "high"): (2 * _H, 2 * _D),
    ("premium", "medium"): (4 * _H, 4 * _D),
    ("premium", "low"): (1 * _D, 7 * _D),
    ("strategic", "critical"): (30, 4 * _H),
    ("strategic", "high"): (1 * _H, 1 * _D),
    ("strategic", "medium"): (2 * _H, 3 * _D),
    ("strategic", "low"): (4 * _H, 5 * _D),
}
# One business minute is about this many wall-clock seconds (8 working hours a day, 5 days a week).
WALL_SECONDS_PER_BUSINESS_MINUTE = 60 * (7 * 24) / (5 * 8)

TOPICS = (
    "invoice", "export", "login", "password", "dashboard", "report", "integration", "webhook", "api token",
    "billing address", "single sign-on", "CSV import", "search", "notification", "mobile app", "calendar sync",
    "permissions", "audit log", "data retention", "payment", "timeout", "upload", "attachment", "template",
)  # fmt: skip
SUBJECT_FORMS = (
    "Problem with the {t}", "{t} fails since this morning", "Question about our {t}", "Please add {t} filters",
    "Cannot open the {t}", "{t} is very slow", "How do we change the {t}?", "Suggestion: better {t}",
    "Wrong totals in the {t}", "{t} shows an error", "Missing {t} after the update", "Allow bulk {t} changes",
)  # fmt: skip
WORDS = (
    "the", "our", "team", "customers", "since", "yesterday", "update", "page", "shows", "error", "when", "we",
    "try", "to", "open", "export", "invoice", "numbers", "do", "not", "match", "report", "quarter", "please",
    "could", "you", "check", "account", "settings", "users", "cannot", "sign", "in", "after", "password",
    "reset", "integration", "stopped", "sending", "webhook", "events", "dashboard", "loads", "slowly", "every",
    "morning", "would", "like", "option", "filter", "by", "date", "region", "billing", "contact", "changed",
    "attached", "screenshot", "steps", "reproduce", "urgent", "for", "finance", "deadline", "Friday", "thanks",
)  # fmt: skip
REPLIES_STAFF = (
    "Thanks for the details, we are looking into it now.",
    "We found the cause and a fix is on its way; I will update you here.",
    "Could you send us a screenshot of the error and the time it happened?",
    "The fix is live. Please check on your side and let us know.",
)
REPLIES_CUSTOMER = (
    "Here is the screenshot you asked for.",
    "It happened again this morning around nine.",
    "Thanks, that works for us now.",
    "Any news on this one? Our finance team is waiting.",
)
NOTES = (
    "Reproduced on staging; engineering ticket raised.",
    "Customer is up for renewal next quarter, keep them close.",
    "Checked the logs: the import job timed out twice.",
)
OUTCOMES = ("credit_offered", "fix_prioritised", "account_review", "no_action")
REASONS = (("critical_severity", 35), ("sla_breach", 40), ("customer_request", 15), ("manual", 8), ("reopened", 2))


def _cumulative(pairs):
    values, weights, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(value)
        weights.append(total)
    return values, [w / total for w in weights]


class Picker:
    """A fast weighted choice: `pick()` with one random() and a bisect."""

    def __init__(self, rng: random.Random, pairs):
        self.random = rng.random
        self.values, self.cumulative = _cumulative(pairs)

    def pick(self):
        return self.values[bisect(self.cumulative, self.random())]


# --- text format for COPY ----------------------------------------------------------------------

_DAYS: dict[int, str] = {}
_EPOCH = date(1970, 1, 1)


def ts(seconds: float | None) -> str:
    """An epoch second as a COPY text timestamptz (UTC), cached by day: much faster than isoformat()."""
    if seconds is None:
        return "\\N"
    whole = int(seconds)
    day, rest = divmod(whole, 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = (_EPOCH + timedelta(days=day)).isoformat()
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{text} {hour:02d}:{minute:02d}:{second:02d}+00"


def nullable(value) -> str:
    return "\\N" if value is None else str(value)


class Stream:
    """Lines for one COPY, written in chunks."""

    def __init__(self, copy, chunk: int = 4000):
        self.copy, self.chunk, self.lines, self.count = copy, chunk, [], 0

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.count += 1
        if len(self.lines) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.copy.write("".join(self.lines))
            self.lines = []


# --- the data set ------------------------------------------------------------------------------


class Plan:
    """Who and what exists, decided before the cases are generated."""

    def __init__(self, cases: int, rng: random.Random, now: float):
        self.cases = cases
        self.now = now
        self.start = now - YEARS * 365 * 86400
        self.accounts = max(100, round(2000 * cases / 1_000_000))
        self.staff = []  # (id, role, email, name)
        next_id = 1
        for role, count in STAFF.items():
            for n in range(1, count + 1):
                short = {"admin": "admin", "executive": "exec", "team_lead": "lead", "account_manager": "am"}[role]
                email = f"{short}{n}@bench.example" if role != "admin" else "admin@bench.example"
                self.staff.append((next_id, role, email, f"{short.capitalize()} {n}"))
                next_id += 1
        self.managers = [s[0] for s in self.staff if s[1] == "account_manager"]
        self.leads = [s[0] for s in self.staff if s[1] == "team_lead"]
        self.executives = [s[0] for s in self.staff if s[1] == "executive"]
        self.busy_manager = self.managers[0]
        self.first_customer_id = next_id
        tier_picker = Picker(rng, TIERS)
        self.account_tier, self.account_manager, self.account_weight = [], [], []
        for index in range(self.accounts):
            self.account_tier.append(tier_picker.pick())
            if index % 50 == 49:
                manager = None  # about 2% have no manager yet: their new cases wait in triage
            elif index % 26 == 1:
                manager = self.busy_manager  # the busy manager has about twice the usual accounts
            else:
                manager = self.managers[index % len(self.managers)]
            self.account_manager.append(manager)
            # A long tail: a few big accounts raise most of the cases.
            self.account_weight.append(rng.paretovariate(1.3))
        total = sum(self.account_weight)
        running, self.account_cumulative = 0.0, []
        for weight in self.account_weight:
            running += weight
            self.account_cumulative.append(running / total)
        # The bench customer belongs to the biggest account that has a manager.
        self.bench_account = max(
            (i for i in range(self.accounts) if self.account_manager[i] is not None),
            key=lambda i: self.account_weight[i],
        )
        self.bench_customer = self.customer_id(self.bench_account, 0)
        # The case with forty events: a recent open case of one of the busy manager's accounts.
        self.forty_events_case = max(1, cases - cases // 200)
        self.forty_events_account = next(
            i for i in range(self.accounts) if self.account_manager[i] == self.busy_manager
        )

    def customer_id(self, account_index: int, n: int) -> int:
        return self.first_customer_id + account_index * CUSTOMERS_PER_ACCOUNT + n

    def account_of(self, random_value: float) -> int:
        return min(bisect(self.account_cumulative, random_value), self.accounts - 1)


def password_hash() -> str:
    global PASSWORD_HASH
    if PASSWORD_HASH is None:
        from werkzeug.security import generate_password_hash

        PASSWORD_HASH = generate_password_hash(BENCH_PASSWORD)
    return PASSWORD_HASH


def copy_people(conn: psycopg.Connection, plan: Plan, rng: random.Random) -> None:
    created = ts(plan.start - 30 * 86400)
    hashed = password_hash()
    user_columns = "id, email, name, password_hash, role, account_id, timezone, active, failed_logins, created_at"
    with conn.cursor() as cur:
        with cur.copy(f"COPY users ({user_columns}) FROM STDIN") as copy:
            for user_id, role, email, name in plan.staff:
                copy.write(f"{user_id}\t{email}\t{name}\t{hashed}\t{role}\t\\N\tEurope/London\tt\t0\t{created}\n")
        account_columns = (
            "id, name, email_domain, tier, status, manager_id, annual_contract_value, renewal_date,"
            " restrict_to_requester, created_at"
        )
        with cur.copy(f"COPY accounts ({account_columns}) FROM STDIN") as copy:
            today = datetime.fromtimestamp(plan.now, UTC).date()
            for index in range(plan.accounts):
                tier = plan.account_tier[index]
                value = {"standard": 20_000, "premium": 90_000, "strategic": 400_000}[tier] * (0.5 + rng.random())
                renewal = today + timedelta(days=rng.randrange(1, 365))
                status = "at_risk" if index % 40 == 7 else ("churned" if index % 97 == 13 else "active")
                copy.write(
                    f"{index + 1}\tAccount {index + 1:05d} Ltd\tacct{index + 1}.example\t{tier}\t{status}\t"
                    f"{nullable(plan.account_manager[index])}\t{value:.2f}\t{renewal.isoformat()}\tf\t{created}\n"
                )
        with cur.copy(f"COPY users ({user_columns}) FROM STDIN") as copy:
            stream = Stream(copy)
            for index in range(plan.accounts):
                for n in range(CUSTOMERS_PER_ACCOUNT):
                    user_id = plan.customer_id(index, n)
                    stream.add(
                        f"{user_id}\tc{n + 1}@acct{index + 1}.example\tCustomer {n + 1} of {index + 1}\t{hashed}\t"
                        f"customer\t{index + 1}\tEurope/London\tt\t0\t{created}\n"
                    )
            stream.flush()


CASE_COLUMNS = (
    "id, kind, category, subject, description, severity, status, account_id, requester_id, assignee_id,"
    " created_at, updated_at, first_response_due_at, first_response_at, resolution_due_at, resolved_at,"
    " closed_at, sla_paused_at, sla_paused_minutes, escalation_level, reopen_count, satisfaction_score, version,"
    " first_response_breached_at, resolution_breached_at, next_due_at"
)
EVENT_COLUMNS = "id, case_id, actor_id, type, visibility, body, data, created_at"
ESCALATION_COLUMNS = (
    "id, case_id, level, reason, created_at, raised_at, raised_by_id, acknowledged_at, acknowledged_by_id,"
    " owner_id, decision_outcome, decision, decided_at, decided_by_id, closed_at, closed_by_id, urgency, version"
)
RATING_COLUMNS = "id, case_id, score, comment, rated_by_id, rated_at, updated_at"


def _open_probability(age_days: float) -> float:
    """Recent cases are mostly still open; a few old ones are stuck. About 5% overall over 3 years."""
    if age_days < 14:
        return 0.8
    if age_days < 90:
        return 0.25
    return 0.02


def copy_cases(conns: list[psycopg.Connection], plan: Plan, rng: random.Random) -> dict[str, int]:
    """Cases, their events, escalations and ratings: four COPYs fed side by side from one pass."""
    r = rng.random
    randrange = rng.randrange
    kind_picker, severity_picker = Picker(rng, KINDS), Picker(rng, SEVERITIES)
    reason_picker = Picker(rng, REASONS)
    status_open = Picker(rng, (("new", 30), ("open", 50), ("waiting_on_customer", 20)))
    score_picker = Picker(rng, ((1, 5), (2, 7), (3, 12), (4, 36), (5, 40)))
    subjects = [form.format(t=topic) for form in SUBJECT_FORMS for topic in TOPICS]
    subjects = [s[0].upper() + s[1:] for s in subjects]
    descriptions = [" ".join(rng.choice(WORDS) for _ in range(rng.randrange(15, 45))) + "." for _ in range(4000)]
    manager_names = {s[0]: s[3] for s in plan.staff}
    span = plan.now - plan.start - 3600
    counts = {"cases": 0, "events": 0, "escalations": 0, "ratings": 0, "open": 0}
    event_id = escalation_id = rating_id = 0
    cursors = [conn.cursor() for conn in conns]
    with (
        cursors[0].copy(f"COPY cases ({CASE_COLUMNS}) FROM STDIN") as case_copy,
        cursors[1].copy(f"COPY case_events ({EVENT_COLUMNS}) FROM STDIN") as event_copy,
        cursors[2].copy(f"COPY escalations ({ESCALATION_COLUMNS}) FROM STDIN") as escalation_copy,
        cursors[3].copy(f"COPY satisfaction_ratings ({RATING_COLUMNS}) FROM STDIN") as rating_copy,
    ):
        case_rows, event_rows = Stream(case_copy), Stream(event_copy, 8000)
        escalation_rows, rating_rows = Stream(escalation_copy), Stream(rating_copy)

        def event(case_id, actor, type_, visibility, body, data, at):
            nonlocal event_id
            event_id += 1
            event_rows.add(
                f"{event_id}\t{case_id}\t{nullable(actor)}\t{type_}\t{visibility}\t{body}\t{data}\t{ts(at)}\n"
            )

        for case_id in range(1, plan.cases + 1):
            created = plan.start + span * (case_id - r()) / plan.cases
            forty = case_id == plan.forty_events_case
            account = plan.forty_events_account if forty else plan.account_of(r())
            tier = plan.account_tier[account]
            manager = plan.account_manager[account]
            requester = plan.customer_id(account, randrange(CUSTOMERS_PER_ACCOUNT))
            kind = kind_picker.pick()
            categories = CATEGORIES_BY_KIND[kind]
            category = categories[randrange(len(categories))]
            severity = severity_picker.pick()
            age_days = (plan.now - created) / 86400
            if forty:
                status = "open"
            elif r() < _open_probability(age_days):
                status = status_open.pick()
            else:
                status = "closed" if age_days > 10 or r() < 0.3 else "resolved"
            is_open = status in ("new", "open", "waiting_on_customer")
            counts["open"] += is_open
            if status == "new" and (manager is None or r() < 0.5):
                assignee = None
            elif manager is not None and r() < 0.95:
                assignee = manager
            else:
                assignee = plan.leads[randrange(len(plan.leads))]
            first_target, resolution_target = TARGETS[(tier, severity)]
            first_due = created + first_target * WALL_SECONDS_PER_BUSINESS_MINUTE
            resolution_due = created + resolution_target * WALL_SECONDS_PER_BUSINESS_MINUTE
            first_at = resolved_at = closed_at = paused_at = None
            if status != "new":
                first_at = min(
                    created + first_target * WALL_SECONDS_PER_BUSINESS_MINUTE * rng.expovariate(2.0), plan.now - 60
                )
            if not is_open:
                resolved_at = first_at + resolution_target * WALL_SECONDS_PER_BUSINESS_MINUTE * rng.expovariate(2.2)
                resolved_at = max(first_at, min(resolved_at, plan.now - 120))
                if status == "closed":
                    closed_at = min(resolved_at + 7 * 86400, plan.now - 60)
            if status == "waiting_on_customer":
                paused_at = max(first_at, plan.now - r() * 3 * 86400)
            first_breach = first_due if (first_at or plan.now) > first_due else None
            resolution_breach = resolution_due if (resolved_at or plan.now) > resolution_due else None
            if paused_at is not None:
                resolution_breach = None
            reopen = 1 if not is_open and r() < 0.03 else 0

            # Escalations: critical cases often, breached ones sometimes, a few on request.
            escalation_level = 0
            escalate = r() < (0.3 if severity == "critical" else 0.02 if resolution_breach else 0.008)
            if escalate or forty:
                escalation_id += 1
                level = 2 if (tier == "strategic" or r() < 0.2) else 1
                reason = "critical_severity" if severity == "critical" else reason_picker.pick()
                raised = created + (60 if reason == "critical_severity" else (first_target + 30) * 60)
                raised = min(raised, plan.now - 30)
                acknowledged = r() < (0.5 if is_open else 1.0)
                ack_at = min(raised + 1800, plan.now) if acknowledged else None
                ack_by = (plan.executives if level == 2 else plan.leads)[randrange(3)] if acknowledged else None
                owner = ack_by if acknowledged and r() < 0.6 else None
                if is_open:
                    escalation_level = level
                    outcome = decided_at = decided_by = closed = closed_by = None
                else:
                    outcome = OUTCOMES[randrange(len(OUTCOMES))]
                    decided_at, decided_by = max(ack_at, resolved_at - 60), ack_by
                    closed, closed_by = resolved_at, ack_by
                urgency = (2 if acknowledged else 0) + (0 if level >= 2 else 1)
                escalation_rows.add(
                    f"{escalation_id}\t{case_id}\t{level}\t{reason}\t{ts(raised)}\t{ts(raised)}\t\\N\t{ts(ack_at)}\t"
                    f"{nullable(ack_by)}\t{nullable(owner)}\t{nullable(outcome)}\t"
                    f"{'Agreed with the account team.' if outcome else chr(92) + 'N'}\t{ts(decided_at)}\t"
                    f"{nullable(decided_by)}\t{ts(closed)}\t{nullable(closed_by)}\t{urgency}\t1\n"
                )
                counts["escalations"] += 1

            score = None
            if not is_open and r() < 0.35:
                score = score_picker.pick()
                rating_id += 1
                rated_at = min(resolved_at + 3600 * (1 + 48 * r()), plan.now - 30)
                comment = (
                    "Quick and friendly, thank you." if score >= 4 else ("Took too long." if score <= 2 else "\\N")
                )
                rating_rows.add(
                    f"{rating_id}\t{case_id}\t{score}\t{comment}\t{requester}\t{ts(rated_at)}\t{ts(rated_at)}\n"
                )
                counts["ratings"] += 1

            # The timeline: created, assigned, a few replies and notes, the resolution.
            at = created
            event(case_id, requester, "created", "public", "\\N", f'{{"kind": "{kind}"}}', at)
            if assignee is not None:
                at += 1
                name = manager_names.get(assignee, "Lead")
                event(
                    case_id,
                    "\\N",
                    "assigned",
                    "public",
                    "\\N",
                    f'{{"from": null, "to": {assignee}, "to_name": "{name}"}}',
                    at,
                )
            # (minus created, assigned, escalated and the closing note: the forty-events case has forty)
            replies = FORTY_EVENTS - 4 if forty else ((0, 1, 1, 1, 2, 2, 3)[randrange(7)] if status != "new" else 0)
            step = max(60.0, ((resolved_at or plan.now) - at) / (replies + 2))
            for n in range(replies):
                at += step * (0.5 + r())
                if (forty or r() < 0.15) and n % 3 == 2:
                    event(case_id, assignee, "internal_note", "internal", NOTES[n % 3], "\\N", at)
                    continue
                staff_turn = n % 2 == 0
                body = (REPLIES_STAFF if staff_turn else REPLIES_CUSTOMER)[randrange(4)]
                event(
                    case_id,
                    assignee if staff_turn else requester,
                    "public_reply",
                    "public",
                    body,
                    "\\N",
                    min(at, plan.now - 1),
                )
            if escalation_level or (escalate and not is_open):
                event(
                    case_id,
                    "\\N",
                    "escalated",
                    "public",
                    "\\N",
                    f'{{"level": {level}, "from": 0, "reason": "{reason}", "escalation": {escalation_id}}}',
                    raised,
                )
            if forty:
                event(case_id, assignee, "internal_note", "internal", NOTES[0], "\\N", min(at + 60, plan.now - 1))
            if resolved_at is not None:
                event(
                    case_id,
                    assignee,
                    "status_changed",
                    "public",
                    "\\N",
                    '{"from": "open", "to": "resolved"}',
                    resolved_at,
                )
            next_due = None  # as Case.next_due_at: the running clock's target
            if status in ("new", "open") and paused_at is None:
                next_due = first_due if first_at is None else resolution_due
            updated = max(at, resolved_at or 0, closed_at or 0)
            updated = min(updated, plan.now)

            case_rows.add(
                f"{case_id}\t{kind}\t{category}\t{subjects[randrange(len(subjects))]}\t"
                f"{descriptions[randrange(len(descriptions))]}\t{severity}\t{status}\t{account + 1}\t{requester}\t"
                f"{nullable(assignee)}\t{ts(created)}\t{ts(updated)}\t{ts(first_due)}\t{ts(first_at)}\t"
                f"{ts(resolution_due)}\t{ts(resolved_at)}\t{ts(closed_at)}\t{ts(paused_at)}\t0\t{escalation_level}\t"
                f"{reopen}\t{nullable(score)}\t1\t{ts(first_breach)}\t{ts(resolution_breach)}\t{ts(next_due)}\n"
            )
        for stream in (case_rows, event_rows, escalation_rows, rating_rows):
            stream.flush()
    counts["cases"] = plan.cases
    counts["events"] = event_id
    return counts


# --- schema work around the load ---------------------------------------------------------------


def drop_secondary(conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """Drop the big tables' foreign keys and non-constraint indexes; return the statements that restore them."""
    tables = list(BIG_TABLES)
    fks = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY conname",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"
        " ORDER BY indexname",
        (tables,),
    ).fetchall()
    for table, name, _ in fks:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    restore_indexes = [definition for _, definition in indexes]
    restore_fks = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in fks]
    return restore_indexes, restore_fks


def reset_sequences(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
        " FROM information_schema.columns WHERE table_schema = 'public' AND column_default LIKE 'nextval%%'"
    ).fetchall()
    for table, column, sequence in rows:
        if sequence:
            highest = f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1"  # noqa: S608 (names from the catalog)
            conn.execute(f"SELECT setval('{sequence}', {highest}, false)")


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def recreate_database(url: str) -> None:
    import sqlalchemy as sa

    target = sa.make_url(url)
    server = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target.database}"')


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "CASEBRIDGE_ENV": "development"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


def seed(url: str, cases: int, *, seed_value: int = 20260701, recreate: bool = True, quiet: bool = False) -> dict:
    """Seed `url` with `cases` cases; return the counts and timings."""

    def say(message):
        if not quiet:
            print(message, flush=True)

    started = time.perf_counter()
    if recreate:
        recreate_database(url)
    migrate(url)
    migrated = time.perf_counter()
    say(f"schema migrated in {migrated - started:.1f} s")
    rng = random.Random(seed_value)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    now = today.timestamp() + 6 * 3600  # 06:00 UTC today: reproducible within a day
    plan = Plan(cases, rng, now)
    dsn = libpq_url(url)
    conns = [psycopg.connect(dsn) for _ in range(4)]
    try:
        main = conns[0]
        for conn in conns:
            conn.execute("SET synchronous_commit = off")
        main.execute("SET maintenance_work_mem = '512MB'")
        restore_indexes, restore_fks = drop_secondary(main)
        main.commit()
        copy_people(main, plan, rng)
        main.commit()
        counts = copy_cases(conns, plan, rng)
        for conn in conns:
            conn.commit()
        loaded = time.perf_counter()
        say(f"{counts['cases']:,} cases, {counts['events']:,} events loaded in {loaded - migrated:.1f} s")
        for statement in restore_indexes:
            main.execute(statement)
        main.commit()
        indexed = time.perf_counter()
        say(f"indexes rebuilt in {indexed - loaded:.1f} s")
        for statement in restore_fks:
            main.execute(statement)
        reset_sequences(main)
        main.execute("CREATE TABLE IF NOT EXISTS bench_info (key text PRIMARY KEY, value text NOT NULL)")
        info = {
            "cases": plan.cases,
            "accounts": plan.accounts,
            "customers": plan.accounts * CUSTOMERS_PER_ACCOUNT,
            "staff": len(plan.staff),
            "events": counts["events"],
            "escalations": counts["escalations"],
            "ratings": counts["ratings"],
            "open_cases": counts["open"],
            "busy_manager_email": "am1@bench.example",
            "team_lead_email": "lead1@bench.example",
            "executive_email": "exec1@bench.example",
            "customer_email": f"c1@acct{plan.bench_account + 1}.example",
            "forty_events_case": plan.forty_events_case,
            "password": BENCH_PASSWORD,
            "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        main.execute("DELETE FROM bench_info")
        with main.cursor() as cur:
            cur.executemany("INSERT INTO bench_info VALUES (%s, %s)", [(k, json.dumps(v)) for k, v in info.items()])
        main.commit()
        constrained = time.perf_counter()
        say(f"foreign keys checked in {constrained - indexed:.1f} s")
        main.autocommit = True
        # VACUUM as well: a live database's autovacuum keeps the visibility map current, which
        # index-only scans (the queue counts) rely on; a freshly COPYed table has none yet.
        main.execute("VACUUM (ANALYZE)")
        finished = time.perf_counter()
        say(f"vacuumed and analyzed in {finished - constrained:.1f} s")
    finally:
        for conn in conns:
            conn.close()
    info["seconds"] = round(finished - started, 1)
    info["load_seconds"] = round(loaded - migrated, 1)
    say(f"seeded {cases:,} cases in {finished - started:.1f} s")
    return info


def read_info(url: str) -> dict | None:
    """What `seed` recorded in the database, or None when it holds no seeded data."""
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            rows = conn.execute("SELECT key, value FROM bench_info").fetchall()
    except psycopg.Error:
        return None
    return {key: json.loads(value) for key, value in rows} or None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of the database to (re)create, postgresql+psycopg://…")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260701)
    parser.add_argument(
        "--keep", action="store_true", help="seed the existing (empty) database instead of recreating it"
    )
    args = parser.parse_args(argv)
    if not args.url.startswith("postgresql"):
        raise SystemExit("bench/seed.py seeds PostgreSQL only")
    info = seed(args.url, args.cases, seed_value=args.seed, recreate=not args.keep)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
