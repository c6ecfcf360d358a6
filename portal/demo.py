"""Demo data for `flask seed-demo`: staff, twelve accounts with their customers and two years of cases.

Everything is drawn from `random.Random(2026)` with times relative to now, so two seeds a day apart
look alike. Cases are built directly (not through `submit_case`, which stamps now) and each one
follows a life story that mirrors the services: routed at submission to the account's manager (a
new account still awaiting a manager leaves its cases to the triage queue and the team lead), opened
at triage, answered in business hours; customers reply, cases wait on the customer, get resolved,
sometimes reopened, and closed by the customer's confirmation or the auto-close job. Cases submitted
as critical, and cases reopened twice, are escalated to the team lead, who closes the escalation once
the case is resolved. Status changes go through `workflow.transition(at=...)` and every other event
through `timeline.record_event(at=...)`.

A story is cut off at now, so recent cases are still new, open, waiting or resolved; every older one
has run to its end. The staff queues are then made to look like a working week, whatever the time of
the seed: each account manager has a few cases in progress, a few waiting on the customer, the
triage queue has a backlog, and Alex's queue shows a breached case and one due soon.

The history reaches back over the dashboard's whole trend, so every quarter it charts (and the
quarter before, which the oldest one's report is compared with) has cases, ratings, SLA results and
escalations. The accounts' statuses are then set from their health, as the SLA sweep keeps them.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask import current_app

from portal.auth.services import find_user_by_email, hash_password
from portal.cases import timeline, workflow
from portal.escalations import rules
from portal.extensions import db
from portal.models import (
    OPEN_STATUSES,
    Account,
    AccountStatus,
    Case,
    DecisionOutcome,
    Escalation,
    EscalationReason,
    EventType,
    Kind,
    Role,
    SatisfactionRating,
    Severity,
    Status,
    Tier,
    User,
    Visibility,
)
from portal.models.base import utcnow
from portal.models.escalations import urgency_rank
from portal.reports.status import refresh_account_statuses
from portal.sla import services as sla
from portal.sla.clock import (
    DEFAULT_CALENDAR,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    business_time_between,
)
from portal.triage import routing
from portal.triage.queues import DUE_SOON

DEMO_PASSWORD = "casebridge-demo"  # noqa: S105 (published demo logins)
DEMO_ADMIN_EMAIL = "admin@casebridge.example"
SEED = 2026
CASE_COUNT = 760
# The dashboard trends the last TREND_QUARTERS (8) quarters, the current one included, and a report
# on the oldest compares it with the quarter before: 8 full quarters and the current one, at most
# 823 days back. Fixed days rather than quarter starts, so two seeds a day apart look alike.
HISTORY_DAYS = 830
# Cases per day rise steadily over the history (the customers' use of the product grew): today
# about 1 + HISTORY_GROWTH times as many as at the start. The oldest quarters still have about 50.
HISTORY_GROWTH = 1.5

LONDON, NEW_YORK, BERLIN, SINGAPORE = "Europe/London", "America/New_York", "Europe/Berlin", "Asia/Singapore"

# (login label, role, e-mail, name)
STAFF = [
    ("admin", Role.ADMIN, DEMO_ADMIN_EMAIL, "Ada Admin"),
    ("executive", Role.EXECUTIVE, "erin.exec@casebridge.example", "Erin Walsh"),
    ("executive", Role.EXECUTIVE, "omar.exec@casebridge.example", "Omar Haddad"),
    ("team lead", Role.TEAM_LEAD, "tara.lead@casebridge.example", "Tara Lindqvist"),
    ("account manager", Role.ACCOUNT_MANAGER, "alex.am@casebridge.example", "Alex Morgan"),
    ("account manager", Role.ACCOUNT_MANAGER, "bea.am@casebridge.example", "Bea Okafor"),
    ("account manager", Role.ACCOUNT_MANAGER, "chris.am@casebridge.example", "Chris Novak"),
    ("account manager", Role.ACCOUNT_MANAGER, "dev.am@casebridge.example", "Dev Patel"),
]


@dataclass(frozen=True)
class _AccountSpec:
    name: str
    domain: str
    tier: Tier
    manager: str | None  # e-mail of an account manager in STAFF; None: awaiting a manager
    customers: tuple[tuple[str, str | None, str], ...]  # (name, mailbox or None for first.last, timezone)
    status: AccountStatus = AccountStatus.ACTIVE
    signed_days_ago: int | None = None  # a new account: signed this many days ago (else before the history)


ACCOUNTS = [
    _AccountSpec(
        "Northwind Traders",
        "northwind.example",
        Tier.PREMIUM,
        "alex.am@casebridge.example",
        (("Dana Whitfield", "dana", LONDON), ("Marcus Lee", None, NEW_YORK), ("Fiona Grant", None, LONDON)),
    ),
    _AccountSpec(
        "Globex Corporation",
        "globex.example",
        Tier.STRATEGIC,
        "bea.am@casebridge.example",
        (
            ("Sam Carter", "sam", NEW_YORK),
            ("Priya Raman", None, SINGAPORE),
            ("Jonas Weber", None, BERLIN),
            ("Helen Brooks", None, LONDON),
        ),
    ),
    _AccountSpec(
        "Meridian Health Partners",
        "meridianhealth.example",
        Tier.STRATEGIC,
        "alex.am@casebridge.example",
        (("Grace Okonkwo", None, LONDON), ("Tom Ashford", None, LONDON), ("Mei Lin Tan", None, SINGAPORE)),
    ),
    _AccountSpec(
        "Polaris Financial Group",
        "polarisfg.example",
        Tier.STRATEGIC,
        "chris.am@casebridge.example",
        (
            ("Daniel Brennan", None, NEW_YORK),
            ("Sofia Marquez", None, NEW_YORK),
            ("Henrik Larsen", None, BERLIN),
            ("Olivia Hart", None, LONDON),
        ),
    ),
    _AccountSpec(
        "Kestrel Freight",
        "kestrelfreight.example",
        Tier.PREMIUM,
        "dev.am@casebridge.example",
        (("Ravi Shah", None, LONDON), ("Lena Vogel", None, BERLIN), ("Callum Reid", None, LONDON)),
    ),
    _AccountSpec(
        "Harbor & Finch Legal",
        "harborfinch.example",
        Tier.PREMIUM,
        "bea.am@casebridge.example",
        (("Eleanor Finch", None, LONDON), ("James Whitaker", None, LONDON)),
    ),
    _AccountSpec(
        "Tallgrass Energy Services",
        "tallgrass-energy.example",
        Tier.PREMIUM,
        "chris.am@casebridge.example",
        (("Maya Johnson", None, NEW_YORK), ("Luis Ortega", None, NEW_YORK), ("Karen Doyle", None, LONDON)),
        AccountStatus.AT_RISK,
    ),
    _AccountSpec(
        "Bluebird Analytics",
        "bluebird-analytics.example",
        Tier.STANDARD,
        "chris.am@casebridge.example",
        (("Nadia Rossi", None, BERLIN), ("Owen Hughes", None, LONDON)),
    ),
    _AccountSpec(
        "Cobalt Retail Co.",
        "cobaltretail.example",
        Tier.STANDARD,
        "alex.am@casebridge.example",
        (("Hannah Schultz", None, BERLIN), ("Ben Adeyemi", None, LONDON), ("Chloe Martin", None, LONDON)),
    ),
    _AccountSpec(
        "Alder & Vane Architects",
        "aldervane.example",
        Tier.STANDARD,
        "bea.am@casebridge.example",
        (("Isla Vane", None, LONDON), ("Rupert Alder", None, LONDON)),
        AccountStatus.AT_RISK,
    ),
    _AccountSpec(  # signed two months ago and still awaiting a manager: the team lead handles its cases
        "Brightwater Labs",
        "brightwaterlabs.example",
        Tier.STANDARD,
        None,
        (("Wei Zhang", None, SINGAPORE), ("Amelia Clarke", None, LONDON), ("Noah Fischer", None, BERLIN)),
        signed_days_ago=60,
    ),
    _AccountSpec(
        "Summit Ridge Insurance",
        "summitridge.example",
        Tier.STANDARD,
        "dev.am@casebridge.example",
        (("Patrick O'Neill", None, NEW_YORK), ("Zara Ahmed", None, LONDON)),
    ),
]

DEMO_CUSTOMERS = [("dana@northwind.example", "Northwind Traders"), ("sam@globex.example", "Globex Corporation")]

CONTRACT_VALUES = {  # tier -> (lowest, highest, step) annual contract value
    Tier.STANDARD: (10_000, 60_000, 500),
    Tier.PREMIUM: (60_000, 250_000, 1_000),
    Tier.STRATEGIC: (250_000, 1_200_000, 5_000),
}
CASE_VOLUME = {Tier.STANDARD: 0.7, Tier.PREMIUM: 1.1, Tier.STRATEGIC: 1.6}  # relative cases per account

KINDS = ([Kind.ISSUE, Kind.QUERY, Kind.FEEDBACK], [50, 30, 20])
# Per kind, chosen so that overall low/medium/high/critical come out near 30/40/22/8 %.
SEVERITIES = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
SEVERITY_WEIGHTS = {
    Kind.ISSUE: [14, 40, 32, 14],
    Kind.QUERY: [40, 45, 12, 3],
    Kind.FEEDBACK: [55, 33, 12, 0],
}
SATISFACTION_WEIGHTS = [4, 6, 13, 32, 45]  # scores 1..5, skewed positive


@dataclass(frozen=True)
class _Template:
    """A kind of case customers raise: what they write, and what staff find and answer."""

    kind: Kind
    category: str
    subject: str
    description: str
    reply: str | None = None  # issue: the fix; query: the answer; feedback: the first reply (default thanks)
    note: str | None = None  # what staff found, for an internal note


# Placeholders in braces are filled from VARIABLES, the same value everywhere in one case.
TEMPLATES = [
    _Template(
        Kind.ISSUE, "account_access", "SSO login fails with {idp}",
        "{since_cap}, people signing in through {idp} land on an error page saying \"SAML response could not "
        "be verified\". Password sign-in still works.",
        "Hi {first}, the SAML signing certificate in your SSO settings no longer matched the one {idp} uses. "
        "I've updated it and test sign-ins work again. Could you ask your team to try?",
        "Checked logs: {n} failed SAML assertions from their IdP since {weekday}; they rotated their signing "
        "certificate that day.",
    ),
    _Template(
        Kind.ISSUE, "account_access", "Users locked out after password reset",
        "{n} of our users reset their passwords {recently} and now get \"account locked\" on every attempt, "
        "even with the new password.",
        "I've cleared the lockouts. A password reset didn't clear the failed-attempt counter; our engineers "
        "have fixed that, so it won't happen again.",
        "Checked logs: the lockout counter isn't reset by a password reset. Known bug (ENG-{eng}).",
    ),
    _Template(
        Kind.ISSUE, "account_access", "New users not receiving invitation e-mails",
        "We invited {n} new starters {recently} and none of them has received the invitation. Nothing in spam. "
        "Can you resend them or check whether they are being blocked?",
        "Your mail gateway was rejecting our invitations. I've resent them and they have arrived now; your IT "
        "team may want to allow-list our sending domain.",
        "Checked logs: the invitations went out but bounced; their mail gateway rejects our sending domain.",
    ),
    _Template(
        Kind.ISSUE, "performance", "\"{report}\" report takes minutes to load",
        "The {report} report used to open in a few seconds. {since_cap} it takes two or three minutes and "
        "sometimes times out with a 504 error.",
        "We've added an index for the query behind the {report} report, and it opens in a few seconds again. "
        "Thanks for your patience.",
        "Checked logs: p95 for their report queries went from 2 s to {n} s after the last release.",
    ),
    _Template(
        Kind.ISSUE, "performance", "Dashboard very slow for long date ranges",
        "Choosing anything longer than a quarter on the main dashboard spins for over a minute. Shorter ranges "
        "are fine. We see this in {browser} on several machines.",
        "Long date ranges now use pre-aggregated figures, so the dashboard loads quickly even for a whole year. "
        "The change is live.",
        "Reproduced with a copy of their data: a full year takes 70 s, nearly all of it in one aggregate query.",
    ),
    _Template(
        Kind.ISSUE, "performance", "Intermittent 502 errors",
        "Several people in our team get \"502 Bad Gateway\" pages a few times an hour {since}. Refreshing "
        "usually works, but it interrupts whatever they were doing.",
        "The errors came from a faulty load balancer node, which we've replaced. We haven't seen a 502 since.",
        "Checked logs: the 502s all come from one load balancer node; nothing specific to their tenant.",
    ),
    _Template(
        Kind.ISSUE, "integration", "API returning 429 Too Many Requests",
        "Our nightly sync has been getting 429 responses {since}. As far as we can tell we stay well under "
        "{limit} requests per minute. Can you check the limits on our API key?",
        "Your sync sends its requests in short bursts, which trips the per-second limit. I've raised the burst "
        "allowance on your key and sent your developers our guide to retrying with backoff.",
        "Checked logs: their key hit the per-second limit {n} times since {weekday}; the sync sends bursts "
        "with no backoff.",
    ),
    _Template(
        Kind.ISSUE, "integration", "{integration} sync stopped updating",
        "Records created in {integration} {recently} are not showing up in the portal, although the "
        "connection page still says \"Connected\".",
        "The {integration} access token had expired. I've reconnected it and the missing records have synced. "
        "The connection page now warns before a token expires.",
        "Checked logs: the {integration} token expired on {weekday}; the connection page doesn't show that.",
    ),
    _Template(
        Kind.ISSUE, "integration", "Webhook deliveries failing with {code}",
        "Our endpoint has received no webhooks {since}; the delivery history on your side shows a {code} "
        "for every attempt.",
        "Your firewall was rejecting our new delivery addresses. Once your team allow-listed them, the queued "
        "deliveries went through and new ones arrive normally.",
        "Checked logs: their endpoint answers {code} from a firewall page; our delivery workers are fine.",
    ),
    _Template(
        Kind.ISSUE, "integration", "API pagination returns duplicate records",
        "Paging through /v1/{resource} with the cursor gives us about {n} duplicates per {big} records, and "
        "some records never appear at all.",
        "A fix for cursor pagination went out today: records edited while you page through them are no longer "
        "repeated or skipped.",
        "Reproduced: records updated during paging move between pages (ENG-{eng}).",
    ),
    _Template(
        Kind.ISSUE, "data", "CSV export stops at 10,000 rows",
        "Exporting {module} to CSV stops at exactly 10,000 rows. We have about {big} records and need the "
        "full file for our audit.",
        "Today's release removes the 10,000-row limit, so the export now comes in one file however large.",
        "Reproduced: the old export job caps files at 10,000 rows.",
    ),
    _Template(
        Kind.ISSUE, "data", "CSV export garbles accented characters",
        "Names like \"Zoë\" and \"Müller\" come out as \"ZoÃ«\" and \"MÃ¼ller\" when we open the export in "
        "Excel.",
        "Exports now start with a UTF-8 marker, so Excel shows accented names correctly. The fix is live.",
        "Reproduced in Excel only; other spreadsheet apps are fine. The file has no UTF-8 marker.",
    ),
    _Template(
        Kind.ISSUE, "data", "Figures in \"{report}\" don't match the export",
        "The totals on the {report} report differ from the CSV export of the same period by about {n}%. "
        "Which one is right?",
        "Both are right, but they count refunds differently: the report leaves them out and the export "
        "includes them. We've added a note to the report and a refunds column to the export.",
        "Checked their data: the difference is exactly the refunds in that period.",
    ),
    _Template(
        Kind.ISSUE, "billing", "Invoice {invoice} charged twice",
        "Our card was charged twice for invoice {invoice}. Please refund the duplicate and let us know when "
        "it's done.",
        "I've refunded the duplicate charge for {invoice}; it should show on your statement within 5 working "
        "days. Sorry about that.",
        "Checked the payment provider: two captures a few seconds apart. Finance approved the refund.",
    ),
    _Template(
        Kind.ISSUE, "billing", "Invoice PDF shows a blank page",
        "Clicking download on any invoice opens a blank page in {browser}. Our finance team needs {invoice} "
        "this week.",
        "Fixed: invoices download correctly again, and I've e-mailed you {invoice} as a PDF in the meantime.",
        "Reproduced in {browser}: our new content security policy blocks the PDF viewer.",
    ),
    _Template(
        Kind.ISSUE, "bug", "Error {code} when saving {module} settings",
        "Saving changes to the {module} settings shows \"Something went wrong\" ({code}) and nothing is "
        "saved. Same result in {browser} and in a private window.",
        "A fix went out in this morning's release, and saving the {module} settings works again. Let us know "
        "if you see the error again.",
        "Reproduced on staging with a copy of their settings.",
    ),
    _Template(
        Kind.ISSUE, "bug", "Attachments over 5 MB fail to upload",
        "Uploading a PDF larger than about 5 MB stops at 99% with no error message. Smaller files work.",
        "Our upload proxy had a lower size limit than the portal. It now accepts files up to 10 MB, as the "
        "documentation says.",
        "Checked logs: the proxy rejects their uploads over 5 MB with a 413.",
    ),
    _Template(
        Kind.ISSUE, "bug", "Scheduled \"{report}\" e-mails not arriving",
        "The weekly {report} report used to arrive every Monday at 08:00. We haven't received it {since}, "
        "and it isn't in spam.",
        "A stuck job queue was holding the scheduled reports. It's cleared, the missed reports have been sent, "
        "and we now get an alert if it happens again.",
        "Checked logs: their scheduled job has been failing since {weekday}.",
    ),
    _Template(
        Kind.ISSUE, "bug", "Date filter is off by one day",
        "When we filter {module} by date, the results include items from the previous day. We are in "
        "{city}, so it looks like a time zone problem.",
        "The date filter used UTC instead of your time zone. That's fixed now, so results match your local "
        "dates.",
        "Reproduced: the filter ignores the user's time zone. Known issue (ENG-{eng}).",
    ),
    _Template(
        Kind.ISSUE, "bug", "Mobile app crashes on launch",
        "Since the latest update the mobile app crashes straight away on iOS for {n} of our field staff. "
        "Reinstalling didn't help.",
        "Version 4.2.1 of the app, out today, fixes the crash on launch. Updating from the App Store solves it.",
        "Crash reports confirm it: older iOS versions only. The fixed build is in app review.",
    ),
    _Template(
        Kind.QUERY, "billing", "How do we add {seats} more seats?",
        "We're onboarding a new team next month and need {seats} more seats. Can they be added to our "
        "current contract and prorated?",
        "Yes, we can add {seats} seats to your current contract, prorated from the start date. Our billing "
        "team will send you the order form today.",
        "Finance confirms the proration can start on the 1st of next month.",
    ),
    _Template(
        Kind.QUERY, "billing", "Change of billing contact and VAT number",
        "Please send future invoices to our finance team and add our VAT number to them. What do you need "
        "from us?",
        "Done: future invoices go to your finance team and show your VAT number.",
    ),
    _Template(
        Kind.QUERY, "billing", "Renewal quote for next year",
        "Our renewal is coming up. Could you send a quote for the same number of seats, and one with {seats} "
        "more?",
        "I've e-mailed you both quotes: one for your current seats, and one with {seats} more at a volume "
        "discount. Both are valid for 30 days.",
        "Renewal coming up: agreed with Tara we can offer up to 8% for the larger option.",
    ),
    _Template(
        Kind.QUERY, "account_access", "Can we enforce SSO for everyone?",
        "We'd like to require {idp} sign-in for all users and switch off passwords. Is that possible on our "
        "plan, and what happens to sessions that are already open?",
        "Yes: an admin can require SSO under Settings → Security. Sessions that are already open stay valid "
        "until they expire, at most 12 hours later.",
    ),
    _Template(
        Kind.QUERY, "account_access", "Transferring admin rights",
        "Our current admin leaves at the end of the month. How do we hand admin rights to a colleague?",
        "An admin can change roles under Settings → Users. If your admin has already left, reply here and we "
        "will do it for you.",
    ),
    _Template(
        Kind.QUERY, "integration", "What are the API limits on our plan?",
        "We're planning a bulk import of about {big} records through the API. Which limits apply, and is "
        "there a bulk endpoint?",
        "Your plan allows {limit} requests per minute. For a bulk import, use the bulk endpoint in batches of "
        "500; each batch counts as one request.",
    ),
    _Template(
        Kind.QUERY, "integration", "Connecting {integration}",
        "Is there a guide for connecting {integration}? We'd like new cases to show up there automatically.",
        "There's a step-by-step guide for {integration} under Integrations in the help centre; I've sent you "
        "the link. Setting it up takes about ten minutes.",
    ),
    _Template(
        Kind.QUERY, "data", "Retention of closed cases",
        "Our compliance team asks how long closed cases and their attachments are kept, and whether we can "
        "ask for them to be deleted.",
        "Closed cases and attachments are kept for seven years by default, and an admin can ask us to delete "
        "them earlier at any time.",
    ),
    _Template(
        Kind.QUERY, "data", "Exporting a year of {module}",
        "For our annual audit we need a full export of {module} for the last financial year. What's the best "
        "way to get it?",
        "Admins can export everything from Reports → Exports; a full year arrives by e-mail within the hour.",
    ),
    _Template(
        Kind.QUERY, "data", "Where is the audit log?",
        "Our security team needs to see who changed user permissions last month. Where can we find that?",
        "The audit log is under Settings → Audit log (admins only), and you can filter it by user and date.",
    ),
    _Template(
        Kind.QUERY, "documentation", "Training for new team members",
        "We have {n} new joiners. Do you run onboarding sessions, or have recordings we could share with "
        "them?",
        "We run a free onboarding webinar every other Tuesday, and the recordings are in the help centre. "
        "I've sent you the link and our quick-start guide.",
    ),
    _Template(
        Kind.QUERY, "other", "Planned maintenance in the coming weeks?",
        "Is any maintenance planned for the next few weeks? We have a launch on {weekday} and want to avoid "
        "surprises.",
        "Nothing is planned around your launch. Maintenance windows are announced on our status page two weeks "
        "ahead, and you can subscribe to it by e-mail.",
    ),
    _Template(
        Kind.FEEDBACK, "feature_request", "Suggestion: bulk edit for {module}",
        "It would save us hours every week if we could select several items in {module} and change them in "
        "one go.",
        note="Added their vote to FR-{fr}; {n} other accounts have asked for this.",
    ),
    _Template(
        Kind.FEEDBACK, "feature_request", "Please add a dark theme",
        "Several of our team work late shifts and would love a dark theme.",
    ),
    _Template(
        Kind.FEEDBACK, "feature_request", "Export reports straight to Excel",
        "CSV works, but an .xlsx export that keeps the formatting would save our analysts a step every week.",
        note="Added their vote to FR-{fr}; {n} other accounts have asked for this.",
    ),
    _Template(
        Kind.FEEDBACK, "feature_request", "Case updates in {chat}",
        "We'd like updates on our cases posted to a {chat} channel as well as by e-mail.",
        note="Product says a {chat} integration is planned for next quarter.",
    ),
    _Template(
        Kind.FEEDBACK, "feature_request", "Custom fields on cases",
        "We'd like to record our internal order number on each case. Custom fields would make our own "
        "reporting much easier.",
    ),
    _Template(
        Kind.FEEDBACK, "documentation", "API docs need webhook examples",
        "The webhook section of the API docs has no example payloads. One per event type would help our "
        "developers a lot.",
        note="Docs team already has a ticket for this.",
    ),
    _Template(
        Kind.FEEDBACK, "documentation", "Outdated screenshots in the admin guide",
        "The admin guide still shows the old navigation, which confused our new admins.",
    ),
    _Template(
        Kind.FEEDBACK, "other", "The new {module} screens are great",
        "Just wanted to say the new {module} screens are much faster. The whole team has noticed.",
        "Thank you, that's lovely to hear. I've passed it on to the team who built them.",
    ),
]  # fmt: skip

VARIABLES: dict[str, Callable[[random.Random], str]] = {
    "idp": lambda r: r.choice(["Okta", "Azure AD", "Google Workspace", "OneLogin", "Ping Identity"]),
    "integration": lambda r: r.choice(["Salesforce", "HubSpot", "Jira", "NetSuite", "Zendesk", "ServiceNow"]),
    "chat": lambda r: r.choice(["Slack", "Microsoft Teams"]),
    "report": lambda r: r.choice(
        ["Monthly revenue", "Pipeline by region", "Open cases by team", "Quarterly usage", "Renewals forecast"]
    ),
    "module": lambda r: r.choice(["user directory", "scheduled reports", "dashboards", "contacts", "audit log"]),
    "browser": lambda r: r.choice(["Chrome", "Edge", "Firefox", "Safari"]),
    "code": lambda r: r.choice(["403", "500", "502", "504"]),
    "since": lambda r: r.choice(
        [
            "since this morning",
            "since yesterday afternoon",
            "since Monday",
            "since your last release",
            "for the last few days",
        ]
    ),  # fmt: skip
    "since_cap": lambda r: VARIABLES["since"](r).capitalize(),
    "recently": lambda r: r.choice(["yesterday", "this morning", "on Monday", "last week"]),
    "weekday": lambda r: r.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
    "resource": lambda r: r.choice(["contacts", "cases", "orders", "invoices"]),
    "city": lambda r: r.choice(["New York", "Berlin", "Singapore", "Chicago"]),
    "limit": lambda r: r.choice(["600", "1,000", "1,200"]),
    "n": lambda r: str(r.randint(3, 40)),
    "people": lambda r: str(r.randint(5, 12) * 10),
    "seats": lambda r: str(r.choice([5, 10, 15, 20, 25, 40, 50])),
    "big": lambda r: f"{r.randrange(12_000, 950_000, 1_000):,}",
    "invoice": lambda r: f"INV-{r.randint(24, 26)}-{r.randint(1000, 9999)}",
    "eng": lambda r: str(r.randint(2100, 4800)),
    "fr": lambda r: str(r.randint(120, 640)),
    "hex": lambda r: f"{r.getrandbits(48):012x}",
    "clock": lambda r: f"{r.randint(8, 17)}:{r.randint(0, 59):02d}",
}

GREETINGS = ["", "", "Hi team,\n\n", "Hello,\n\n", "Hi,\n\n"]
IMPACT = {
    Severity.CRITICAL: [
        "This is stopping our whole team from working, so please treat it as urgent.",
        "Our own customers are affected. We need this fixed as soon as possible.",
    ],
    Severity.HIGH: ["This is blocking our month-end close.", "Several teams rely on this every day."],
    Severity.MEDIUM: ["We can work around it for now, but it slows us down.", "It's a nuisance more than a blocker."],
    Severity.LOW: ["Not urgent, but it would be good to get it sorted.", "No rush on this one."],
}

ACKNOWLEDGEMENTS = [
    "Hi {first}, thanks for reporting this. I'm looking into it now and will update you later today.",
    "Thanks {first}. I can see the problem on our side too and have started investigating.",
    "Hi {first}, sorry for the trouble. I've passed the details to our engineers and will keep you posted.",
]
# (staff question, customer answer) pairs for a case waiting on the customer.
ISSUE_ASKS = [
    (
        "Could you send the exact time it last happened and the e-mail of a user it happened to? Then I can "
        "find it in our logs.",
        "It last happened at {clock} our time, for one of our finance users (happy to share the address privately).",
    ),
    ("Does it happen for everyone in your team, or only for some users?", "For everyone, as far as we can tell."),
    (
        "When did you first notice it, and did anything change on your side around then?",
        "It started last {weekday}. Our IT team says nothing changed on our side.",
    ),
    ("Could you send the request ID shown with the error?", "Here it is: req_{hex}."),
]
QUERY_ASKS = [
    (
        "Happy to help. Is this for all of your users, or for one team?",
        "For the whole company, about {people} people.",
    ),
    (
        "Happy to help. Could you confirm you're an admin on your account? Some of this needs admin rights.",
        "Yes, I'm one of our two admins.",
    ),
]
CHASERS = [
    "Any update on this? It's holding us up.",
    "Just checking in: is there an ETA for a fix?",
    "We're still seeing this today.",
]
REOPEN_REASONS = [
    "Still happening this morning, I'm afraid.",
    "The fix worked for a day, but the problem is back.",
    "Not quite solved: it works for admins but not for other users.",
]
CONFIRMED = "Resolution confirmed."  # the note `confirm_resolution` records
GENERAL_NOTES = [
    "Renewal is coming up; keep a close eye on this one.",
    "Spoke to Tara: fine to offer a service credit if this drags on.",
]
EXECUTIVE_NOTE = "Please keep me posted on this one; I've let their leadership know we're on it."
ENGINEERING_NOTE = "Raised with engineering as ENG-{eng}; they'll pick it up in the next sprint."
ENGINEERING_UPDATE = "Quick update: our engineers have found the cause and are testing a fix."
REOPEN_NOTE = "Reopened: checking what we missed."
FEEDBACK_THANKS = [
    "Thanks {first}, that's really useful. I've logged it with our product team as FR-{fr} and will let you "
    "know when there's news.",
    "Thanks for taking the time to write this up. I've shared it with our product team.",
]
FEEDBACK_OUTCOMES = [
    "Update: this is now on the roadmap for next quarter. I'll post here when it ships.",
    "Good news: this shipped in today's release. Thanks again for the suggestion!",
]

# Staff answer within the first-response target most of the time, and are late on this share of cases.
LATE_FIRST_RESPONSE = 0.12
# Nothing started longer ago than this is still in progress: every older story has run to its end.
IN_PROGRESS_DAYS = 42
# Each account manager's "My cases" queue holds this many cases in progress (new, open or waiting):
# the stories still running at now give some, and recent cases held part-way make up the rest (a
# customer who has not answered yet, a fix still with engineering). Above the most, the team lead
# has rebalanced the newest cases to the least-loaded manager.
MY_CASES, MY_CASES_MOST = (3, 4), 6
HOLD_DAYS = 35  # a case is only held part-way when it was opened within this many days …
HOLD_WAITING_DAYS, HOLD_OPEN_DAYS = 21, 10  # … and its last step (question, reply) is this recent
_HOUR = timedelta(hours=1)
TRIAGE_BACKLOG = 5  # new cases of the account awaiting a manager that nobody has triaged yet
# Alex's queue always shows a breached case and one due soon (`portal.triage.queues.DUE_SOON`),
# from two of Alex's accounts.
SHOWCASE_DUE_SOON_ACCOUNT = "Northwind Traders"
SHOWCASE_BREACHED_ACCOUNT = "Meridian Health Partners"
AUTO_CLOSE_NOTE = "Closed automatically: resolved with no reply for {days} days."  # as `auto_close_case`
SEVERITY_REASONS = {  # why triage raised or lowered the severity (recorded as an internal note)
    True: "More users are affected than the form suggests.",
    False: "A workaround is in place, so it isn't blocking them.",
}


class _Vars(dict):
    """Placeholder values for one case: drawn on first use, then the same everywhere in that case."""

    def __init__(self, rng: random.Random, **fixed: str) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self[key] = VARIABLES[key](self.rng)
        return value


@dataclass
class _Step:
    at: datetime
    type: EventType
    actor: User | None  # None: the portal itself (routing, the auto-close job)
    body: str | None = None
    data: dict | None = None
    to: Status | None = None  # status_changed
    assignee: User | None = None  # assigned


@dataclass
class _Plan:
    created: datetime
    account: Account
    requester: User
    template: _Template
    words: _Vars
    severity: Severity
    subject: str
    description: str
    seed: int
    # A case placed on purpose rather than by the dice: "triage" (new, nobody has triaged it yet),
    # "due_soon" (new, routed, its first response due within DUE_SOON) or "breached" (open, stuck
    # with engineering long past its resolution due). Placed cases are never held or rebalanced.
    showcase: str = ""
    due_override: datetime | None = None  # see `_due_soon_start`


class _Story:
    """A case's life as a list of timed steps, written forward from its creation."""

    def __init__(self, plan: _Plan, rng: random.Random, calendars: dict[str, BusinessCalendar]):
        self.plan = plan
        self.rng = rng
        self.words = plan.words
        self.customer_calendar = calendars[plan.requester.timezone]
        self.t = plan.created
        self.steps: list[_Step] = []
        self.stops: list[tuple[int, Status]] = []  # (step count, status) where the story may be held

    def staff_later(self, low: float, high: float) -> None:
        """Staff act after `low`..`high` business minutes (critical cases are worked around the clock)."""
        minutes = self.rng.uniform(low, high)
        if self.plan.severity == Severity.CRITICAL:
            self.t += timedelta(minutes=minutes / 3)
        else:
            self.t = add_business_minutes(self.t, minutes, DEFAULT_CALENDAR)

    def customer_later(self, low: float, high: float) -> None:
        """The customer acts after `low`..`high` business minutes of their own working day."""
        self.t = add_business_minutes(self.t, self.rng.uniform(low, high), self.customer_calendar)

    def add(self, type: EventType, actor: User | None, body: str | None = None, *, same_time=False, **fields) -> None:
        """Append a step a little after the previous one (or at the same instant)."""
        if self.steps and not same_time:
            self.t = max(self.t, self.steps[-1].at) + timedelta(seconds=self.rng.randint(20, 90))
        if body is not None:
            body = body.format_map(self.words)
        self.steps.append(_Step(at=self.t.replace(microsecond=0), type=type, actor=actor, body=body, **fields))

    def may_stop(self, status: Status) -> None:
        """The story may be held here, with the case in `status` (see `_balance_queues`)."""
        self.stops.append((len(self.steps), status))

    def status(self, to: Status, actor: User | None, note: str | None = None) -> None:
        self.add(EventType.STATUS_CHANGED, actor, note, to=to)

    def escalate(self, reason: EscalationReason, *, lead: User) -> None:
        """As the escalation rules at submission or a second reopen: level 1, at the moment of the
        event that triggers it; the team lead acknowledges it and takes it on within minutes, well
        inside the window after which the sweep would raise it to the executives."""
        self.add(EventType.ESCALATED, None, same_time=True, data={"level": 1, "from": 0, "reason": reason.value})
        self.t += timedelta(minutes=self.rng.uniform(4, 20))
        self.add(EventType.ESCALATION_ACKNOWLEDGED, lead, data={"level": 1})
        self.add(EventType.ESCALATION_OWNED, lead, same_time=True, data={"level": 1, "owner": lead.name})

    def customer_reply(self, body: str, *, waiting: bool) -> None:
        """As `reply_to_case`: a reply on a case waiting on the customer first puts it back to open."""
        requester = self.plan.requester
        if waiting:
            self.status(Status.OPEN, requester)
        self.add(EventType.PUBLIC_REPLY, requester, body, same_time=waiting)
        self.may_stop(Status.OPEN)  # the customer has answered; staff have yet to act


def _build_story(
    plan: _Plan, *, lead: User, executive: User, targets: sla.SlaTargets, calendars, auto_close_days: int
) -> _CaseStory:
    """The full story of a case, ignoring now, with the points where it may be held part-way and a
    satisfaction score (used only if it ends closed).

    created (→ routed) → (severity changed) → open → first reply → … → resolved (→ reopened →
    resolved) → closed by the customer's confirmation or, after `auto_close_days` quiet days, by the
    auto-close job. A case submitted as critical, or reopened twice, is escalated to level 1 as the
    rules say; the team lead acknowledges and owns it at once and closes it when the case is resolved.
    """
    r = random.Random(plan.seed)
    s = _Story(plan, r, calendars)
    requester, template, severity = plan.requester, plan.template, plan.severity
    submitted = severity  # what the customer chose; triage sometimes changes it (below)
    if r.random() < 0.06:
        index = SEVERITIES.index(severity)
        submitted = SEVERITIES[index + 1] if index == 0 or (index < 3 and r.random() < 0.5) else SEVERITIES[index - 1]
    s.add(EventType.CREATED, requester, data={"kind": template.kind.value})
    # As `submit_case`: routed at once to the account's manager, or left for the triage queue, and
    # escalated to the team leads when the customer chose critical.
    owner = routing.route_new_case(plan.account.manager)
    if owner is not None:
        s.add(EventType.ASSIGNED, None, same_time=True, assignee=owner)
    escalated = submitted == Severity.CRITICAL
    if escalated:
        s.escalate(EscalationReason.CRITICAL_SEVERITY, lead=lead)
    s.may_stop(Status.NEW)

    # Triage: the manager opens their routed case, or the team lead does it for them; a case nobody
    # was routed to, the team lead takes herself. The first reply follows. Together they take a share
    # of the first-response target (more than all of it when late).
    manager = owner or lead
    triager = lead if owner is None or r.random() < 0.3 else manager
    first_response = targets.first_response_minutes
    first_response *= r.uniform(1.05, 2.0) if r.random() < LATE_FIRST_RESPONSE else r.uniform(0.1, 0.85)
    s.staff_later(0.7 * first_response, 0.7 * first_response)
    if submitted != severity:  # as `change_case_details`: the change, then the reason as an internal note
        s.add(EventType.SEVERITY_CHANGED, triager, data={"from": submitted.value, "to": severity.value})
        raised = SEVERITIES.index(submitted) < SEVERITIES.index(severity)
        s.add(EventType.INTERNAL_NOTE, triager, f"Reason for changing the severity: {SEVERITY_REASONS[raised]}")
    if owner is None:  # as `assign_case`: assigning a new case opens it
        s.add(EventType.ASSIGNED, triager, assignee=manager)
    s.status(Status.OPEN, triager)

    responder = lead if r.random() < 0.1 else manager
    s.staff_later(0.3 * first_response, 0.3 * first_response)
    resolution = targets.resolution_minutes
    if template.kind == Kind.QUERY:
        if r.random() < 0.55:
            s.add(EventType.PUBLIC_REPLY, responder, "Hi {first}, " + template.reply)
        else:
            ask, answer = r.choice(QUERY_ASKS)
            s.add(EventType.PUBLIC_REPLY, responder, "Hi {first}, thanks for asking. " + ask)
            s.status(Status.WAITING_ON_CUSTOMER, responder)
            s.may_stop(Status.WAITING_ON_CUSTOMER)
            s.customer_later(60, 5 * 570)
            s.customer_reply(answer, waiting=True)
            s.staff_later(20, 480)
            s.add(EventType.PUBLIC_REPLY, manager, "Thanks {first}. " + template.reply)
        if r.random() < 0.2:
            s.staff_later(5, 60)
            s.add(EventType.INTERNAL_NOTE, manager, template.note or r.choice(GENERAL_NOTES))
        s.staff_later(5, 240)
    elif template.kind == Kind.FEEDBACK:
        s.add(EventType.PUBLIC_REPLY, responder, template.reply or r.choice(FEEDBACK_THANKS))
        if template.category == "feature_request":
            s.may_stop(Status.OPEN)
        if r.random() < 0.2:
            s.staff_later(10, 240)
            s.add(EventType.INTERNAL_NOTE, manager, template.note or "Shared with the product team.")
        if template.category == "feature_request" and r.random() < 0.3:
            s.staff_later(0.3 * resolution, 1.2 * resolution)  # the product team's review
            s.add(EventType.PUBLIC_REPLY, manager, r.choice(FEEDBACK_OUTCOMES))
        s.staff_later(5, 600)
    else:
        s.add(EventType.PUBLIC_REPLY, responder, r.choice(ACKNOWLEDGEMENTS))
        s.may_stop(Status.OPEN)
        if severity == Severity.CRITICAL and r.random() < 0.3:
            s.staff_later(30, 120)
            s.add(EventType.INTERNAL_NOTE, executive, EXECUTIVE_NOTE)
        if r.random() < 0.25:
            s.staff_later(10, 240)
            s.add(EventType.INTERNAL_NOTE, manager, template.note or "Reproduced on staging.")
        cycles = r.choices([0, 1, 2], [40, 45, 15])[0]
        breached = plan.showcase == "breached"  # no pause: its resolution due stays where it started
        for _ in range(0 if breached else cycles):
            ask, answer = r.choice(ISSUE_ASKS)
            s.staff_later(10, 600)
            s.add(EventType.PUBLIC_REPLY, manager, ask)
            s.status(Status.WAITING_ON_CUSTOMER, manager)
            s.may_stop(Status.WAITING_ON_CUSTOMER)
            s.customer_later(60, 5 * 570)
            s.customer_reply(answer, waiting=True)
        if breached or (severity != Severity.CRITICAL and r.random() < 0.18):  # waits for an engineering fix
            s.staff_later(30, 480)
            s.add(EventType.INTERNAL_NOTE, manager, ENGINEERING_NOTE)
            s.may_stop(Status.OPEN)
            if r.random() < 0.5:
                s.customer_later(3 * 480, 8 * 480)
                s.customer_reply(r.choice(CHASERS), waiting=False)
            s.staff_later(0.6 * resolution, 1.8 * resolution)
            s.add(EventType.PUBLIC_REPLY, manager, ENGINEERING_UPDATE)
        elif r.random() < 0.2:
            s.customer_later(480, 3 * 480)
            s.customer_reply(r.choice(CHASERS), waiting=False)
        s.staff_later(0.1 * resolution, 0.5 * resolution)
        s.add(EventType.PUBLIC_REPLY, manager, template.reply)

    s.status(Status.RESOLVED, manager)
    reopens = 0
    while reopens < 2 and r.random() < (0.09 if template.kind == Kind.ISSUE else 0.03) / (1 + 2 * reopens):
        reopens += 1
        s.customer_later(60, 3 * 480)
        s.status(Status.OPEN, requester, r.choice(REOPEN_REASONS))
        if reopens == rules.REOPENS_BEFORE_ESCALATION and not escalated:
            escalated = True
            s.escalate(EscalationReason.REOPENED, lead=lead)
        if r.random() < 0.5:
            s.staff_later(30, 480)
            s.add(EventType.INTERNAL_NOTE, manager, REOPEN_NOTE)
        s.staff_later(240, 5 * 480)
        s.add(EventType.PUBLIC_REPLY, manager, "Sorry about that, {first}. We've looked again and fixed it properly.")
        s.status(Status.RESOLVED, manager)
    if escalated:  # the team lead closes the escalation once the case is resolved for good
        s.staff_later(10, 120)
        s.add(EventType.ESCALATION_CLOSED, lead, data={"level": 1})

    # The customer confirms, or the auto-close job (`close_stale_resolved_cases`) closes the case
    # the moment it has been quiet for `auto_close_days`.
    auto_close = s.steps[-1].at + timedelta(days=auto_close_days)
    confirms = r.random() < 0.55
    if confirms:
        s.customer_later(60, 6 * 570)
    if confirms and s.t < auto_close:
        s.status(Status.CLOSED, requester, CONFIRMED)
    else:
        s.t = auto_close
        s.add(
            EventType.STATUS_CHANGED,
            None,
            AUTO_CLOSE_NOTE.format(days=auto_close_days),
            same_time=True,
            to=Status.CLOSED,
        )

    score = r.choices(range(1, 6), SATISFACTION_WEIGHTS)[0]
    return _CaseStory(plan, s.steps, s.stops, score)


@dataclass
class _CaseStory:
    """A planned case with its story; `steps` is cut short when the story is held part-way."""

    plan: _Plan
    steps: list[_Step]
    stops: list[tuple[int, Status]]
    score: int

    def played(self, now: datetime) -> list[_Step]:
        """The steps that have happened by `now` (steps are in time order)."""
        return list(itertools.takewhile(lambda step: step.at <= now, self.steps))

    def state(self, now: datetime) -> tuple[Status, User | None]:
        """The case's status and assignee at `now`."""
        status, assignee = Status.NEW, None
        for step in self.played(now):
            if step.type == EventType.STATUS_CHANGED:
                status = step.to
            elif step.type == EventType.ASSIGNED:
                assignee = step.assignee
        return status, assignee

    def in_progress(self, now: datetime) -> bool:
        return self.state(now)[0] in OPEN_STATUSES

    def hold(self, status: Status, *, since: datetime, now: datetime) -> bool:
        """Hold the story for good at its last stop in `status` that was reached between `since`
        and an hour before `now`. Returns whether there was such a stop."""
        ends = [end for end, stop in self.stops if stop == status and since <= self.steps[end - 1].at <= now - _HOUR]
        if not ends:
            return False
        self.steps, self.stops = self.steps[: ends[-1]], []
        return True

    def reassign(self, to: User, *, by: User, rng: random.Random, now: datetime) -> None:
        """The team lead gives the case to `to` (as `assign_case`: a new case opens) and nothing more
        has happened since."""
        self.steps, self.stops = self.played(now), []
        at = min(now, self.steps[-1].at + timedelta(minutes=rng.uniform(10, 120))).replace(microsecond=0)
        self.steps.append(_Step(at=at, type=EventType.ASSIGNED, actor=by, assignee=to))
        if self.state(now)[0] == Status.NEW:
            self.steps.append(_Step(at=at, type=EventType.STATUS_CHANGED, actor=by, to=Status.OPEN))


def _new_case(plan: _Plan, steps: list[_Step]) -> Case:
    """The case as `submit_case` would have made it at `plan.created`, clocks started then.

    Its severity is the customer's choice: the one before any change at triage.
    """
    changes = [step for step in steps if step.type == EventType.SEVERITY_CHANGED]
    case = Case(
        kind=plan.template.kind,
        category=plan.template.category,
        severity=Severity(changes[0].data["from"]) if changes else plan.severity,
        subject=plan.subject,
        description=plan.description,
        status=Status.NEW,
        account_id=plan.account.id,  # read by the SLA services before the case is flushed
        account=plan.account,
        requester=plan.requester,
        created_at=plan.created,
        updated_at=plan.created,
        reopen_count=0,  # column defaults only apply at flush; the story counts reopens before that
    )
    db.session.add(case)
    sla.start_clocks(case, now=plan.created)
    if plan.due_override is not None:
        case.first_response_due_at = plan.due_override
    return case


_ESCALATION_STEPS = frozenset(
    {
        EventType.ESCALATED,
        EventType.ESCALATION_ACKNOWLEDGED,
        EventType.ESCALATION_OWNED,
        EventType.ESCALATION_CLOSED,
    }
)


def _play_escalation(case: Case, escalation: Escalation | None, step: _Step) -> Escalation:
    """Apply one escalation step as the escalation services do (a level-1 escalation: opened,
    acknowledged, owned, closed), recording its event; return the case's escalation."""
    if step.type == EventType.ESCALATED:
        escalation = Escalation(
            case=case,
            level=1,
            reason=EscalationReason(step.data["reason"]),
            created_at=step.at,
            raised_at=step.at,
            urgency=urgency_rank(1, False),
        )
        db.session.add(escalation)
        db.session.flush()  # the events name the escalation by id
        case.escalation_level = 1
    elif step.type == EventType.ESCALATION_ACKNOWLEDGED:
        escalation.acknowledged_at, escalation.acknowledged_by = step.at, step.actor
        escalation.urgency = urgency_rank(1, True)
    elif step.type == EventType.ESCALATION_OWNED:
        escalation.owner = step.actor
    else:
        escalation.closed_at, escalation.closed_by = step.at, step.actor
        case.escalation_level = 0
    timeline.record_event(
        case,
        step.type,
        actor=step.actor,
        data={**step.data, "escalation_id": escalation.id},
        visibility=Visibility.INTERNAL if step.type == EventType.ESCALATION_OWNED else Visibility.PUBLIC,
        at=step.at,
    )
    return escalation


def _play(case: Case, steps: list[_Step], now: datetime) -> None:
    """Apply the steps that have happened by `now` to the case through the services' own rules
    (`workflow.transition`, the SLA clock functions), recording each as a timeline event."""
    escalation = None
    for step in steps:
        if step.at > now:
            break
        if step.type == EventType.STATUS_CHANGED:
            workflow.transition(case, step.to, actor=step.actor, note=step.body, at=step.at)
            continue
        if step.type in _ESCALATION_STEPS:
            escalation = _play_escalation(case, escalation, step)
            continue
        data = step.data
        if step.type == EventType.ASSIGNED:  # the data `assign_case` records (`_assignment_data`)
            previous, case.assignee = case.assignee, step.assignee
            data = {"from": previous.id if previous else None, "to": step.assignee.id, "to_name": step.assignee.name}
        elif step.type == EventType.SEVERITY_CHANGED:
            case.severity = Severity(step.data["to"])
            sla.restart_for_severity_change(case, now=step.at)
        elif step.type == EventType.PUBLIC_REPLY and step.actor.is_staff and case.first_response_at is None:
            case.first_response_at = step.at
        timeline.record_event(case, step.type, actor=step.actor, body=step.body, data=data, at=step.at)


def demo_logins() -> list[tuple[str, str]]:
    """(role label, e-mail) of the demo people worth signing in as, in the order to show them."""
    logins = [(label, email) for label, _role, email, _name in STAFF]
    logins += [(f"customer ({account})", email) for email, account in DEMO_CUSTOMERS]
    return logins


def _customer_email(name: str, mailbox: str | None, domain: str) -> str:
    if mailbox is None:
        first, *_middle, last = name.lower().replace("'", "").split()
        mailbox = f"{first}.{last}"
    return f"{mailbox}@{domain}"


def _case_age_days(rng: random.Random, index: int) -> float:
    """Days before now of the `index`-th of CASE_COUNT cases, oldest first, within HISTORY_DAYS and
    with recent months busier (density 1 + HISTORY_GROWTH x). Each case is drawn within its own share
    of the history, so cases arrive steadily, without the week-long lulls independent draws can leave."""
    a = HISTORY_GROWTH
    u = (index + rng.random()) / CASE_COUNT
    x = ((1 + 2 * a * u * (1 + a / 2)) ** 0.5 - 1) / a  # 0 = the start of the history, 1 = now
    return HISTORY_DAYS * (1 - x)


def seed_demo_data() -> tuple[list[tuple[str, str]], bool]:
    """Create the demo staff, accounts, customers and cases; return the demo logins and whether it seeded.

    Idempotent: when the demo admin exists nothing is created. Flushes, never commits.
    """
    logins = demo_logins()
    if find_user_by_email(DEMO_ADMIN_EMAIL) is not None:
        return logins, False

    rng = random.Random(SEED)
    now = utcnow().replace(microsecond=0)
    today = now.date()
    password_hash = hash_password(DEMO_PASSWORD)  # scrypt is slow: one hash shared by every demo user

    staff = {}
    for _label, role, email, name in STAFF:
        staff[email] = User(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            created_at=now - timedelta(days=rng.randint(HISTORY_DAYS + 70, HISTORY_DAYS + 370)),
            last_login_at=now - timedelta(minutes=rng.randint(30, 3 * 24 * 60)),
        )
    db.session.add_all(staff.values())
    db.session.flush()

    accounts: list[Account] = []
    customers: dict[str, list[User]] = {}  # by account name
    for spec in ACCOUNTS:
        low, high, step = CONTRACT_VALUES[spec.tier]
        renewal_days = rng.randint(20, 80) if spec.status == AccountStatus.AT_RISK else rng.randint(20, 540)
        # Established accounts were customers (with their people signed up) before the history starts.
        created = now - timedelta(days=rng.randint(HISTORY_DAYS + 40, HISTORY_DAYS + 520))
        onboarding_days = 25
        if spec.signed_days_ago is not None:  # a new account renews a year after signing
            created = now - timedelta(days=spec.signed_days_ago, minutes=rng.randint(0, 600))
            renewal_days, onboarding_days = 365 - spec.signed_days_ago, 4
        account = Account(
            name=spec.name,
            email_domain=spec.domain,
            tier=spec.tier,
            status=spec.status,
            manager=staff[spec.manager] if spec.manager else None,
            annual_contract_value=Decimal(rng.randrange(low, high + 1, step)),
            renewal_date=today + timedelta(days=renewal_days),
            created_at=created,
        )
        people = [
            User(
                email=_customer_email(name, mailbox, spec.domain),
                name=name,
                role=Role.CUSTOMER,
                account=account,
                timezone=timezone,
                password_hash=password_hash,
                created_at=created + timedelta(days=rng.randint(1, onboarding_days), minutes=rng.randint(0, 600)),
            )
            for name, mailbox, timezone in spec.customers
        ]
        db.session.add(account)
        db.session.add_all(people)
        accounts.append(account)
        customers[account.name] = people
    db.session.flush()

    calendars = {  # customers write during their own working day
        tz: BusinessCalendar(timezone=tz, workdays=frozenset(range(5)), start=time(8, 30), end=time(18, 0))
        for tz in (LONDON, NEW_YORK, BERLIN, SINGAPORE)
    }
    targets = {(row.tier, row.severity): row.targets for row in sla.fetch_policy_grid()}
    calendar = sla.business_calendar()  # the one the SLA clocks run on
    plans = _plan_cases(rng, accounts, customers, calendars, now)
    plans += _showcase_plans(rng, accounts, customers, calendars, targets, calendar, now)
    plans.sort(key=lambda plan: plan.created)  # oldest first, so references grow with time
    lead = staff["tara.lead@casebridge.example"]
    managers = [user for user in staff.values() if user.role == Role.ACCOUNT_MANAGER]
    executives = [user for user in staff.values() if user.role == Role.EXECUTIVE]
    auto_close_days = current_app.config.get("AUTO_CLOSE_DAYS", 7)

    def build(plan: _Plan) -> _CaseStory:
        return _build_story(
            plan,
            lead=lead,
            executive=executives[plan.seed % 2],
            targets=targets[(plan.account.tier, plan.severity)],
            calendars=calendars,
            auto_close_days=auto_close_days,
        )

    stories = []
    for plan in plans:
        story = build(plan)
        # An old case still in progress today would sit in a queue for months: it gets another story.
        while plan.created < now - timedelta(days=IN_PROGRESS_DAYS) and story.in_progress(now):
            plan.seed = random.Random(plan.seed).getrandbits(32)
            story = build(plan)
        if plan.showcase == "breached":
            story.hold(Status.OPEN, since=plan.created, now=now)  # stuck with engineering
        elif plan.showcase:
            story.steps = story.steps[: story.stops[0][0]]  # nobody has triaged it yet
        stories.append(story)
    _balance_queues(stories, managers=managers, lead=lead, targets=targets, calendar=calendar, rng=rng, now=now)

    last_seen: dict[int, datetime] = {}  # customer id -> their latest event
    played: list[Case] = []
    # The SLA services query their policies and calendar; nothing they read is pending, so the
    # session need not flush before each of those queries.
    with db.session.no_autoflush:
        for story in stories:
            plan = story.plan
            case = _new_case(plan, story.steps)
            _play(case, story.steps, now)
            played.append(case)
            if case.status == Status.CLOSED and plan.seed % 10 < 6:
                case.satisfaction_score = story.score
                rated_at = case.closed_at or case.resolved_at or now
                db.session.add(
                    SatisfactionRating(
                        case=case, score=story.score, rated_by=case.requester, rated_at=rated_at, updated_at=rated_at
                    )
                )
            for step in story.played(now):
                if step.actor is not None and step.actor.role == Role.CUSTOMER:
                    last_seen[step.actor.id] = max(last_seen.get(step.actor.id, step.at), step.at)
    for people in customers.values():
        for person in people:
            person.last_login_at = last_seen.get(person.id)
    db.session.flush()
    _seed_escalations(played, lead=lead, executives=executives, now=now)
    db.session.flush()
    # The statuses the accounts were given above tell their stories (more cases lately, a renewal
    # near); what the portal shows is what their health says, as the SLA sweep would set it.
    refresh_account_statuses(now=now)
    return logins, True


# (level, reason, minutes ago, state) of the demo escalations: every state the board shows, including
# a level-2 escalation nobody acknowledged for three hours (flagged), and one closed with a decision.
DEMO_ESCALATIONS = [
    (2, EscalationReason.SLA_BREACH, 180, "unacknowledged"),
    (2, EscalationReason.CUSTOMER_REQUEST, 12, "unacknowledged"),
    (1, EscalationReason.CRITICAL_SEVERITY, 8, "unacknowledged"),
    (1, EscalationReason.REOPENED, 95, "unacknowledged"),
    (1, EscalationReason.CUSTOMER_REQUEST, 300, "acknowledged"),
    (1, EscalationReason.MANUAL, 1500, "owned"),
    (2, EscalationReason.SLA_BREACH, 2900, "owned"),
    (2, EscalationReason.MANUAL, 4400, "decided"),
    (2, EscalationReason.CUSTOMER_REQUEST, 9000, "closed"),
]
DEMO_DECISION = "Offer a month's service credit and put the fix into the next release; review the account at renewal."


def _seed_escalations(cases: list[Case], *, lead: User, executives: list[User], now: datetime) -> None:
    """Escalate some of the open demo cases not escalated already (newest first, the strategic and
    premium accounts' first), backdated, with the timeline events the escalation services would have
    recorded."""
    candidates = sorted(
        (
            case
            for case in cases
            if case.is_open and case.escalation_level == 0 and case.created_at < now - timedelta(hours=3)
        ),
        key=lambda case: (case.account.tier != Tier.STRATEGIC, case.account.tier != Tier.PREMIUM, -case.id),
    )
    for (level, reason, minutes, state), case in zip(DEMO_ESCALATIONS, candidates, strict=False):
        raised = max(now - timedelta(minutes=minutes), case.created_at + timedelta(minutes=5))
        last_update = case.updated_at  # the backdated events below must not make the case look older
        handler = executives[case.id % len(executives)] if level == 2 else lead
        customer_asked = reason == EscalationReason.CUSTOMER_REQUEST
        escalation = Escalation(
            case=case,
            level=level,
            reason=reason,
            created_at=raised,
            raised_at=raised,
            raised_by=case.requester if customer_asked else (lead if reason == EscalationReason.MANUAL else None),
            urgency=urgency_rank(level, False),
        )
        db.session.add(escalation)
        db.session.flush()
        case.escalation_level = level
        timeline.record_event(
            case,
            EventType.ESCALATED,
            actor=escalation.raised_by,
            body="This is now costing us customers; please get someone senior on it." if customer_asked else None,
            data={"level": level, "from": 0, "reason": reason.value, "escalation_id": escalation.id},
            at=raised,
        )
        case.updated_at = max(case.updated_at, last_update)
        if state == "unacknowledged":
            continue
        step = raised + timedelta(minutes=min(20, minutes // 4))
        escalation.acknowledged_at, escalation.acknowledged_by = step, handler
        escalation.urgency = urgency_rank(level, True)
        data = {"level": level, "escalation_id": escalation.id}
        timeline.record_event(case, EventType.ESCALATION_ACKNOWLEDGED, actor=handler, data=data, at=step)
        case.updated_at = max(case.updated_at, last_update)
        if state == "acknowledged":
            continue
        escalation.owner = handler
        timeline.record_event(
            case,
            EventType.ESCALATION_OWNED,
            actor=handler,
            data={**data, "owner": handler.name},
            visibility=Visibility.INTERNAL,
            at=step,
        )
        case.updated_at = max(case.updated_at, last_update)
        if state == "owned":
            continue
        decided = step + timedelta(minutes=minutes // 3)
        escalation.decision_outcome = DecisionOutcome.CREDIT_OFFERED
        escalation.decision, escalation.decided_at, escalation.decided_by = DEMO_DECISION, decided, handler
        timeline.record_event(
            case,
            EventType.ESCALATION_DECIDED,
            actor=handler,
            body=DEMO_DECISION,
            data={**data, "outcome": DecisionOutcome.CREDIT_OFFERED.value},
            visibility=Visibility.INTERNAL,
            at=decided,
        )
        case.updated_at = max(case.updated_at, last_update)
        if state == "decided":
            continue
        closed = decided + timedelta(minutes=30)
        escalation.closed_at, escalation.closed_by = closed, handler
        case.escalation_level = 0
        timeline.record_event(case, EventType.ESCALATION_CLOSED, actor=handler, data=data, at=closed)
        case.updated_at = max(case.updated_at, last_update)


def _balance_queues(
    stories: list[_CaseStory],
    *,
    managers: list[User],
    lead: User,
    targets: dict,
    calendar: BusinessCalendar,
    rng: random.Random,
    now: datetime,
) -> None:
    """Give every account manager between MY_CASES and MY_CASES_MOST cases in progress.

    A manager with too many has had their newest cases rebalanced by the team lead to the
    least-loaded manager (`routing.suggest_assignee`, as the assignment panel suggests); a manager
    with too few gets recent cases of their accounts held part-way (the newest first, preferably
    cases whose resolution is not due yet), or failing that a case of the busiest manager. Each
    manager also gets one case waiting on the customer when none of theirs is.
    """

    def load() -> dict[int, list[_CaseStory]]:
        queues = defaultdict(list)
        for story in stories:
            status, assignee = story.state(now)
            if status in OPEN_STATUSES and assignee is not None:
                queues[assignee.id].append(story)
        return queues

    for manager in managers:
        mine = load()[manager.id]
        excess = len(mine) - MY_CASES_MOST
        movable = sorted((story for story in mine if not story.plan.showcase), key=lambda story: story.plan.created)
        for story in movable[-excess:] if excess > 0 else []:
            counts = {user_id: len(queue) for user_id, queue in load().items()}
            others = [user for user in managers if user is not manager]
            story.reassign(routing.suggest_assignee(others, counts), by=lead, rng=rng, now=now)

    def on_time(story: _CaseStory) -> bool:
        """Whether the case's resolution is not due yet even without the pauses that push it later."""
        minutes = targets[(story.plan.account.tier, story.plan.severity)].resolution_minutes
        return add_business_minutes(story.plan.created, minutes, calendar) > now + _HOUR

    # (status, how recent its stop, only cases still on time, up to): one case waiting on the
    # customer when none of the manager's is, then open cases not yet due, recent ones, any.
    passes = [
        (Status.WAITING_ON_CUSTOMER, HOLD_WAITING_DAYS, False, "one"),
        (Status.OPEN, HOLD_DAYS, True, "target"),
        (Status.OPEN, HOLD_OPEN_DAYS, False, "target"),
        (Status.OPEN, HOLD_DAYS, False, "target"),
        (Status.WAITING_ON_CUSTOMER, HOLD_DAYS, False, "target"),
    ]
    for manager in managers:
        mine = load()[manager.id]
        count, target = len(mine), rng.randint(*MY_CASES)
        waiting = any(story.state(now)[0] == Status.WAITING_ON_CUSTOMER for story in mine)
        candidates = [
            story
            for story in stories
            if story.plan.account.manager is manager
            and not story.plan.showcase
            and story.plan.severity != Severity.CRITICAL  # those are worked around the clock
            and story.plan.created >= now - timedelta(days=HOLD_DAYS)
            and not story.in_progress(now)
        ]
        candidates.sort(key=lambda story: story.plan.created, reverse=True)  # the newest first
        for status, days, only_on_time, limit in passes:
            for story in candidates:
                if (waiting or count >= MY_CASES_MOST) if limit == "one" else count >= target:
                    break
                if story.in_progress(now) or (only_on_time and not on_time(story)):
                    continue
                if story.hold(status, since=now - timedelta(days=days), now=now):
                    count += 1
                    waiting = waiting or status == Status.WAITING_ON_CUSTOMER

    # A manager still short of cases (few accounts, a quiet month) has been given the newest case
    # of the busiest manager by the team lead.
    for manager in managers:
        while len(load()[manager.id]) < MY_CASES[0]:
            queues = load()
            busiest = max(managers, key=lambda user: (len(queues[user.id]), -user.id))
            movable = [story for story in queues[busiest.id] if not story.plan.showcase]
            if len(queues[busiest.id]) <= MY_CASES[0] or not movable:
                break
            max(movable, key=lambda story: story.plan.created).reassign(manager, by=lead, rng=rng, now=now)


def _plan_case(
    rng: random.Random,
    account: Account,
    requester: User,
    created: datetime,
    *,
    kind: Kind | None = None,
    severity: Severity | None = None,
) -> _Plan:
    """A case `requester` raises at `created`: what it is about and how they word it."""
    kind = kind or rng.choices(*KINDS)[0]
    severity = severity or rng.choices(SEVERITIES, SEVERITY_WEIGHTS[kind])[0]
    template = rng.choice([t for t in TEMPLATES if t.kind == kind])
    seed = rng.getrandbits(32)
    words = _Vars(random.Random(seed ^ 0x5EED), first=requester.name.split()[0])
    subject = template.subject.format_map(words)
    if severity == Severity.CRITICAL and kind == Kind.ISSUE and rng.random() < 0.5:
        subject = f"Urgent: {subject}"
    body = template.description.format_map(words)
    if kind == Kind.ISSUE:
        body += " " + rng.choice(IMPACT[severity]).format_map(words)
    greeting = rng.choice(GREETINGS)
    sign_off = f"\n\nThanks,\n{words['first']}" if greeting and rng.random() < 0.7 else ""
    return _Plan(
        created=created.replace(microsecond=0),
        account=account,
        requester=requester,
        template=template,
        words=words,
        severity=severity,
        subject=subject[:200],
        description=greeting + body + sign_off,
        seed=seed,
    )


def _plan_cases(rng: random.Random, accounts: list[Account], customers, calendars, now: datetime) -> list[_Plan]:
    """CASE_COUNT cases over the last HISTORY_DAYS, from the accounts that were customers then (a new account
    raises more while it settles in)."""
    plans = []
    for index in range(CASE_COUNT):
        age = _case_age_days(rng, index)
        created = now - timedelta(days=age)
        weights = [
            CASE_VOLUME[a.tier]
            * (2.0 if a.status == AccountStatus.AT_RISK and age < 120 else 1.0)
            * (3.0 if a.manager is None else 1.0)  # onboarding questions
            if created > a.created_at + timedelta(days=5)
            else 0.0
            for a in accounts
        ]
        account = rng.choices(accounts, weights)[0]
        people = customers[account.name]
        requester = rng.choices(people, [3] + [1] * (len(people) - 1))[0]
        out_of_hours = rng.random() < 0.1
        offset = rng.uniform(0, 90)
        if not out_of_hours:  # most people write in their working hours
            aligned = add_business_minutes(created, offset, calendars[requester.timezone])
            if aligned < now - timedelta(minutes=10):
                created = aligned
        created = max(created, requester.created_at + timedelta(hours=1))
        plans.append(_plan_case(rng, account, requester, created))
    return plans


def _showcase_plans(
    rng: random.Random, accounts: list[Account], customers, calendars, targets, calendar, now: datetime
) -> list[_Plan]:
    """The cases placed so the staff queues show what they are for, whatever the time of the seed:
    the triage backlog of the account awaiting a manager, and in Alex's queue an issue stuck with
    engineering long past its resolution due and a new case whose first response is due soon."""
    by_name = {account.name: account for account in accounts}
    plans = []
    new_account = next(account for account in accounts if account.manager is None)
    fresh = sorted(now - timedelta(minutes=rng.randint(20, 30 * 60)) for _ in range(TRIAGE_BACKLOG))
    for created in fresh:  # nothing critical: that would not wait in the queue
        requester = rng.choice(customers[new_account.name])
        kind = rng.choices(*KINDS)[0]
        severity = rng.choices(SEVERITIES[:-1], SEVERITY_WEIGHTS[kind][:-1])[0]
        plans.append(_plan_case(rng, new_account, requester, created, kind=kind, severity=severity))
        plans[-1].showcase = "triage"

    account = by_name[SHOWCASE_BREACHED_ACCOUNT]
    requester = customers[account.name][0]
    created = add_business_minutes(
        now - timedelta(days=rng.uniform(9, 16)), rng.uniform(20, 300), calendars[requester.timezone]
    )
    plans.append(_plan_case(rng, account, requester, created, kind=Kind.ISSUE, severity=Severity.HIGH))
    plans[-1].showcase = "breached"

    account = by_name[SHOWCASE_DUE_SOON_ACCOUNT]
    requester = customers[account.name][1]
    minutes = targets[(account.tier, Severity.MEDIUM)].first_response_minutes
    created, due_override = _due_soon_start(now, minutes, calendar)
    plans.append(_plan_case(rng, account, requester, created, kind=Kind.ISSUE, severity=Severity.MEDIUM))
    plans[-1].showcase, plans[-1].due_override = "due_soon", due_override
    return plans


def _due_soon_start(now: datetime, minutes: int, calendar: BusinessCalendar) -> tuple[datetime, datetime | None]:
    """When a case with a first-response target of `minutes` business minutes was opened so that,
    unanswered, it falls due within DUE_SOON of now (about half-way, and no sooner than 20 minutes);
    and the due to set on it when the calendar cannot do that.

    The due is computed by the SLA clock whenever it can be: the case opened `minutes` business
    minutes before a due chosen inside working hours. Far from working hours (an evening, a weekend)
    every due the clock computes lies at the next opening or later, more than DUE_SOON away, so no
    opening time would do. Then the first-response due is set DUE_SOON / 2 from now and the case
    opened `minutes` before it (at least 10 minutes ago), as if its target ran in clock time rather
    than business time. It is still a running first-response clock (new, not paused, nothing answered),
    due after it opened and before its resolution due, so the SLA panel, `Case.next_due_at` and the
    queues read it like any other.
    """
    wanted = now + DUE_SOON / 2
    choices = []
    at = now + timedelta(minutes=20)
    while at <= now + DUE_SOON - timedelta(minutes=20):
        inside = business_time_between(at - timedelta(minutes=1), at, calendar) > timedelta(0)
        if inside and business_minutes_between(now, at, calendar) < minutes - 10:
            choices.append(at)
        at += timedelta(minutes=5)
    if not choices:
        return min(now - timedelta(minutes=10), wanted - timedelta(minutes=minutes)), wanted
    due = min(choices, key=lambda choice: abs(choice - wanted))
    # The latest start with `minutes` business minutes before `due`, by bisection (a minute's precision).
    low, high = due - timedelta(days=30), due
    while high - low > timedelta(seconds=30):
        middle = low + (high - low) / 2
        if business_minutes_between(middle, due, calendar) >= minutes:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0), None
