"""The benchmark harness: seed, serve, drive with wrk, compare with the ceiling, write RESULTS.md.

    python bench/run.py --scales 10000,100000,1000000      # make bench
    python bench/run.py --scales 10000 --duration 3        # make bench-quick

For each scale it (re)seeds the scratch database (bench/seed.py), starts the portal under gunicorn
(2 sync workers, production config, 127.0.0.1 only, rate limits off) and the bare-Flask ceiling app
(bench/ceiling.py) with the same settings, signs in as the seeded staff and customer through the
real login form (with its CSRF token), then drives every page with wrk at 8 connections for a
bounded time. A Lua script sends the session cookie and counts every response whose status is not
the expected one: a page that answers anything else (a lost session's redirect to the sign-in
page, say) fails, instead of being measured as fast. Each scale's figures are kept in
bench/results/<cases>.json and bench/RESULTS.md is written from all of them.

Besides wrk it measures: the dashboard and reports cold (the first request a fresh gunicorn
answers) and warm, with curl; the customer's submit POST with a per-request subject, then counts
the cases it created (none lost, none twice); gunicorn worker RSS after the run; and, through the
Flask test client against the same database, the SQL statements each page runs, with EXPLAIN
(ANALYZE, BUFFERS) of its slowest statements.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1/casebridge_bench"
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
PORTAL_PORT, CEILING_PORT = 8731, 8732
CONNECTIONS, THREADS = 8, 2
# Each page is driven this long before it is measured, so both workers have compiled its
# templates and warmed their caches: p99 then describes the steady state, not a first request.
WARMUP_SECONDS = 1
# Tables that grow with the case count: a sequential scan of one of these is a page that cannot stay flat.
BIG_TABLES = ("cases", "case_events", "escalations", "satisfaction_ratings")
# Tables that grow with the number of accounts and customers (2,000 and 20,000 at 1M cases): reported too.
PEOPLE_TABLES = ("users", "accounts")


@dataclass
class PageSpec:
    key: str
    title: str
    path: str
    role: str  # "lead", "manager", "executive", "customer", "none"
    kind: str  # "list", "search", "post", "report", "ceiling"
    expect: int = 200
    method: str = "GET"


def page_specs(info: dict) -> list[PageSpec]:
    year = datetime.now(UTC).year
    return [
        PageSpec("triage", "Triage queue (team lead)", "/work/triage", "lead", "list"),
        PageSpec("mine", "My cases (busy account manager)", "/work/mine", "manager", "list"),
        PageSpec("team", "Team view (team lead)", "/work/team", "lead", "list"),
        PageSpec(
            "all_filter", "All cases, filtered (open, high)", "/work/all?status=active&severity=high", "lead", "list"
        ),
        PageSpec("all_search", "All cases, text search", "/work/all?q=invoice", "lead", "search"),
        PageSpec("case", "Case page, 40 events", f"/cases/CB-{info['forty_events_case']}", "lead", "list"),
        PageSpec("customer_list", "Customer's case list", "/cases", "customer", "list"),
        PageSpec("submit_get", "Customer submit (GET)", "/cases/new", "customer", "list"),
        PageSpec("submit_post", "Customer submit (POST)", "/cases/new", "customer", "post", 302, "POST"),
        PageSpec("board", "Escalation board (executive)", "/escalations", "executive", "list"),
        PageSpec("dashboard", "Executive dashboard", "/dashboard", "executive", "report"),
        PageSpec("report", "Quarterly report (this quarter)", "/reports", "executive", "report"),
        PageSpec("report_year", f"Annual report ({year - 1})", f"/reports?period={year - 1}", "executive", "report"),
    ]


CEILING_SPECS = [
    PageSpec("ceiling_hello", "Ceiling: short string", "/", "none", "ceiling"),
    PageSpec("ceiling_rows", "Ceiling: 25 indexed rows + Jinja", "/rows", "none", "ceiling"),
]


# --- HTTP with a hand-kept cookie jar (the production cookies are Secure; this is plain HTTP) ------


class Session:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        conn.close()
        return response.status, text

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def csrf_token(self, path: str) -> str:
        status, text = self.request("GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', text
        )
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1)

    def login(self, email: str, password: str) -> None:
        token = self.csrf_token("/login")
        status, _ = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": password})
        if status != 302:
            raise RuntimeError(f"signing in as {email} answered {status}, not a redirect")


# --- processes --------------------------------------------------------------------------------


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", "2",
        "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "120",
        "--log-level", "warning",
        app,
    ]  # fmt: skip
    log = open(tempfile.gettempdir() + f"/casebridge-bench-{port}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {app} exited; see {log.name}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz" if app == "wsgi:app" else "/")
            if conn.getresponse().status == 200:
                return process
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn for {app} did not answer on port {port}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cpu_ticks(pids: list[str]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def drain(process: subprocess.Popen, url: str, *, limit: float = 180.0) -> float:
    """Wait until the server has finished what wrk left behind.

    wrk stops at its deadline, but a sync worker still finishes every request it had accepted (and
    the listen queue may hold more): the next page measured would pay for them. Idle means no
    statement active in the database but ours, and the workers' CPU time standing still.
    """
    import psycopg

    started = time.monotonic()
    pids = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(seeding.libpq_url(url), autocommit=True) as conn:
        quiet = 0
        while time.monotonic() - started < limit and quiet < 3:
            before = _cpu_ticks(pids)
            time.sleep(0.2)
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                " AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()[0]
            quiet = quiet + 1 if busy == 0 and _cpu_ticks(pids) == before else 0
    return time.monotonic() - started


def worker_rss_mb(process: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


# --- wrk --------------------------------------------------------------------------------------

LUA_COMMON = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  good = 0
  bad = 0
  counter = 0
end
function response(status, headers, body)
  if status == EXPECT then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"good\\": %d, \\"bad\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
    g, b, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_script(spec: PageSpec, cookie: str, form: dict | None, tag: str = "") -> str:
    lines = [f"EXPECT = {spec.expect}", f'wrk.headers["Cookie"] = "{cookie}"']
    if spec.method == "POST":
        # Each request's subject is unique (tag-thread-counter), so duplicates can be counted after.
        lines += [
            'wrk.method = "POST"',
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
            f'local fixed = "{urllib.parse.urlencode(form)}"',
            "function request()",
            "  counter = counter + 1",
            f'  local body = fixed .. "&subject={tag}-" .. id .. "-" .. counter',
            f'  return wrk.format("POST", "{spec.path}", nil, body)',
            "end",
        ]
    return "\n".join(lines) + LUA_COMMON


def run_wrk(
    port: int, spec: PageSpec, *, duration: int, cookie: str = "", form: dict | None = None, tag: str = ""
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(lua_script(spec, cookie, form, tag))
    try:
        command = [
            "wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "30s",
            "-s", handle.name, f"http://127.0.0.1:{port}{spec.path}",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line[6:])
    seconds = data["duration_us"] / 1e6
    return {
        "requests": data["requests"],
        "rps": round(data["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(data["p50_us"] / 1000, 1),
        "p99_ms": round(data["p99_us"] / 1000, 1),
        "good": data["good"],
        "bad": data["bad"],
        "socket_errors": data["socket_errors"],
    }


def curl_seconds(port: int, path: str, cookie: str) -> tuple[int, float]:
    output = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", f"Cookie: {cookie}",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return int(output[0]), float(output[1])


# --- SQL statements per page, and EXPLAIN of the slow ones -------------------------------------


def _production_env(url: str) -> dict:
    return {
        **os.environ,
        "CASEBRIDGE_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false",
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="casebridge-bench-uploads-"),
        "MAIL_BACKEND": "console",
        # Reports are cached in Redis; a prefix of its own per run keeps "cold" cold.
        "CACHE_KEY_PREFIX": f"casebridge-bench-{secrets.token_hex(4)}:",
        "PYTHONPATH": str(ROOT),
    }


def statements_per_page(url: str, specs: list[PageSpec], users: dict[str, int], *, explain: bool) -> dict:
    """Run each page twice through the test client; count the second run's statements; EXPLAIN the slow ones."""
    import sqlalchemy as sa
    from flask import g

    from config import ProductionConfig
    from portal import create_app
    from portal.extensions import db

    saved = dict(os.environ)
    os.environ.update(_production_env(url))
    try:
        config = ProductionConfig()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    config.WTF_CSRF_ENABLED = False
    config.RATELIMIT_ENABLED = False
    config.SESSION_COOKIE_SECURE = False
    config.RATELIMIT_STORAGE_URI = "memory://"
    app = create_app(config)
    results = {}
    with app.app_context():
        captured: list = []

        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_started"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters, time.perf_counter() - conn.info.pop("bench_started")))

        sa.event.listen(db.engine, "before_cursor_execute", before)
        sa.event.listen(db.engine, "after_cursor_execute", after)
        for spec in specs:
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(users[spec.role])
                session["_fresh"] = True
            status = None
            for attempt in range(2):
                g.pop("_login_user", None)  # Flask-Login caches the user on the (reused) app context
                captured.clear()
                if spec.method == "POST":
                    form = {"kind": "issue", "category": "bug", "severity": "medium", "description": "Counted."}
                    response = client.post(spec.path, data={**form, "subject": f"bench-statements-{attempt}"})
                else:
                    response = client.get(spec.path)
                status = response.status_code
            slowest = sorted(captured, key=lambda item: -item[2])
            entry = {
                "status": status,
                "statements": len(captured),
                "sql_ms": round(1000 * sum(item[2] for item in captured), 1),
                "seq_scans": [],
                "people_scans": [],
                "explains": [],
            }
            if explain:
                raw = db.engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    for statement, parameters, _ in captured:
                        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                            continue
                        cursor.execute("EXPLAIN " + statement, parameters)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                        for table in re.findall(r"Seq Scan on (\w+)", plan):
                            if table in BIG_TABLES and table not in entry["seq_scans"]:
                                entry["seq_scans"].append(table)
                            if table in PEOPLE_TABLES and table not in entry["people_scans"]:
                                entry["people_scans"].append(table)
                    for statement, parameters, seconds in slowest[:2]:
                        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                            continue
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                        entry["explains"].append(
                            {"ms": round(seconds * 1000, 1), "sql": _inline(statement, parameters), "plan": plan}
                        )
                    raw.rollback()
                finally:
                    raw.close()
            results[spec.key] = entry
        sa.event.remove(db.engine, "before_cursor_execute", before)
        sa.event.remove(db.engine, "after_cursor_execute", after)
        db.session.remove()
        db.engine.dispose()
    return results


def _inline(statement: str, parameters) -> str:
    """The statement with its parameters shown in place (for reading, not for running)."""

    def literal(value) -> str:
        if isinstance(value, datetime):
            return f"'{value.isoformat()}'"
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        if isinstance(value, (list, tuple)):
            return "(" + ", ".join(literal(item) for item in value) + ")"
        return "NULL" if value is None else str(value)

    if isinstance(parameters, dict):
        for name in sorted(parameters, key=len, reverse=True):
            statement = statement.replace(f"%({name})s", literal(parameters[name]))
    return re.sub(r"\s+", " ", statement).strip()


# --- one scale --------------------------------------------------------------------------------


def user_ids(url: str, info: dict) -> dict[str, int]:
    import psycopg

    emails = {
        "lead": info["team_lead_email"],
        "manager": info["busy_manager_email"],
        "executive": info["executive_email"],
        "customer": info["customer_email"],
    }
    with psycopg.connect(seeding.libpq_url(url)) as conn:
        return {
            role: conn.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()[0]
            for role, email in emails.items()
        }


def count_cases(url: str, tag: str | None = None) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(seeding.libpq_url(url)) as conn:
        if tag is None:
            return conn.execute("SELECT count(*), count(*) FROM cases").fetchone()
        return conn.execute(
            "SELECT count(*), count(DISTINCT subject) FROM cases WHERE subject LIKE %s", (tag + "-%",)
        ).fetchone()


def revision() -> str:
    """The commit measured, with "+changes" when portal/ differs from it."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "portal", "templates", "config.py"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return (commit or "unknown") + ("+changes" if dirty else "")


def run_scale(url: str, cases: int, *, duration: int, reseed: bool, explain: bool, only: set[str] | None) -> dict:
    info = seeding.read_info(url)
    seed_seconds = None
    if reseed or info is None or info.get("cases") != cases:
        print(f"== seeding {cases:,} cases into {url}", flush=True)
        info = seeding.seed(url, cases)
        seed_seconds = info["seconds"]
    specs = [spec for spec in page_specs(info) if only is None or spec.key in only]
    env = _production_env(url)
    result = {
        "cases": cases,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "revision": revision(),
        "volume": {
            k: info[k]
            for k in ("cases", "events", "accounts", "customers", "staff", "escalations", "ratings", "open_cases")
        },
        "seed_seconds": seed_seconds,
        "duration": duration,
        "pages": {},
        "ceiling": {},
        "timings": {},
    }
    print(f"== {cases:,} cases: starting gunicorn (portal :{PORTAL_PORT}, ceiling :{CEILING_PORT})", flush=True)
    portal = gunicorn("wsgi:app", PORTAL_PORT, env)
    ceiling = None
    try:
        ceiling = gunicorn("bench.ceiling:app", CEILING_PORT, env)
        sessions = {}
        for role, key in (("lead", "team_lead_email"), ("manager", "busy_manager_email"),
                          ("executive", "executive_email"), ("customer", "customer_email")):  # fmt: skip
            session = Session(PORTAL_PORT)
            session.login(info[key], info["password"])
            sessions[role] = session
        # Cold, then warm: the first requests a fresh gunicorn answers, before wrk touches them.
        for spec in specs:
            if spec.kind == "report":
                cookie = sessions[spec.role].cookie_header()
                runs = [curl_seconds(PORTAL_PORT, spec.path, cookie) for _ in range(6)]
                if any(status != 200 for status, _ in runs):
                    raise RuntimeError(f"{spec.path} answered {[s for s, _ in runs]}")
                seconds = [s for _, s in runs]
                result["timings"][spec.key] = {
                    "cold_s": round(seconds[0], 3),
                    "second_worker_cold_s": round(seconds[1], 3),
                    "warm_s": round(statistics.median(seconds[2:]), 3),
                }
                print(
                    f"   {spec.key}: cold {seconds[0]:.3f} s, warm {statistics.median(seconds[2:]):.3f} s", flush=True
                )
        for spec in CEILING_SPECS:
            run_wrk(CEILING_PORT, spec, duration=WARMUP_SECONDS)  # not counted: see WARMUP_SECONDS
            drain(ceiling, url)
            result["ceiling"][spec.key] = run_wrk(CEILING_PORT, spec, duration=duration)
            drain(ceiling, url)
            print(f"   {spec.key}: {result['ceiling'][spec.key]}", flush=True)
        ceiling_rps = result["ceiling"]["ceiling_rows"]["rps"]
        for spec in specs:
            session = sessions[spec.role]
            form, tag = None, f"bench-{secrets.token_hex(4)}"
            if spec.method == "POST":
                token = session.csrf_token("/cases/new")
                form = {"csrf_token": token, "kind": "issue", "category": "bug", "severity": "medium",
                        "description": "Submitted by the benchmark."}  # fmt: skip
            warmup_tag = f"bench-warmup-{secrets.token_hex(4)}"
            cookie = session.cookie_header()
            run_wrk(PORTAL_PORT, spec, duration=WARMUP_SECONDS, cookie=cookie, form=form, tag=warmup_tag)
            drain(portal, url)
            measured = run_wrk(PORTAL_PORT, spec, duration=duration, cookie=cookie, form=form, tag=tag)
            measured["drain_s"] = round(drain(portal, url), 1)
            measured["ratio"] = round(measured["rps"] / ceiling_rps, 3) if ceiling_rps else None
            if form is not None:
                rows, distinct = count_cases(url, tag)
                measured["created"] = rows
                measured["duplicates"] = rows - distinct
                # Every 302 is a case; wrk may stop with requests in flight (at most one per connection).
                measured["lost"] = max(0, measured["good"] - rows)
                measured["unanswered"] = rows - measured["good"]
                measured["intact"] = rows == distinct and measured["good"] <= rows <= measured["good"] + CONNECTIONS
            result["pages"][spec.key] = measured
            print(f"   {spec.key}: {measured}", flush=True)
        result["rss_mb"] = worker_rss_mb(portal)
        result["ceiling_rss_mb"] = worker_rss_mb(ceiling)
        print(f"   worker RSS: {result['rss_mb']} MB", flush=True)
    finally:
        stop(portal)
        if ceiling is not None:
            stop(ceiling)
    print("   counting SQL statements per page", flush=True)
    result["sql"] = statements_per_page(url, specs, user_ids(url, info), explain=explain)
    return result


# --- RESULTS.md -------------------------------------------------------------------------------

WARM_TARGET_S = 0.2  # "fast when warm": what a cache or summary table would give


def _load_results(results_dir: Path = RESULTS_DIR) -> list[dict]:
    results = []
    for path in sorted(results_dir.glob("*.json"), key=lambda p: int(p.stem)):
        results.append(json.loads(path.read_text()))
    return results


def _fmt(value, suffix=""):
    return "—" if value is None else f"{value:,}{suffix}" if isinstance(value, int) else f"{value}{suffix}"


def verdicts(results: list[dict]) -> list[tuple[str, str, str]]:
    """(target, met?, evidence) at the largest scale measured."""
    if not results:
        return []
    top = results[-1]
    base = results[0]
    specs = {spec.key: spec for spec in page_specs({"forty_events_case": 0})}
    rows = []
    scale = f"{top['cases']:,} cases"
    for key, page in top["pages"].items():
        spec = specs[key]
        if spec.kind == "list":
            ok = page["ratio"] >= 0.5 and page["p99_ms"] < 100 and page["bad"] + page["socket_errors"] == 0
            rows.append((f"{spec.title}: ≥ 50% of ceiling, p99 < 100 ms ({scale})", ok,
                         f"{page['ratio']:.0%}, p99 {page['p99_ms']} ms, {page['bad']} unexpected"))  # fmt: skip
        elif spec.kind == "search":
            ok = page["ratio"] >= 0.5 and page["p99_ms"] < 150 and page["bad"] + page["socket_errors"] == 0
            rows.append((f"{spec.title}: ≥ 50% of ceiling, p99 < 150 ms ({scale})", ok,
                         f"{page['ratio']:.0%}, p99 {page['p99_ms']} ms"))  # fmt: skip
        elif spec.kind == "post":
            ok = page["ratio"] >= 0.3 and page.get("intact", False) and page["bad"] + page["socket_errors"] == 0
            rows.append((f"{spec.title}: ≥ 30% of ceiling, no lost or duplicated case ({scale})", ok,
                         f"{page['ratio']:.0%}; {page['good']} answered 302, {page.get('created')} created, "
                         f"{page.get('duplicates')} duplicated, {page.get('lost')} lost"))  # fmt: skip
        elif spec.kind == "report":
            timing = top["timings"].get(key, {})
            cold, warm = timing.get("cold_s"), timing.get("warm_s")
            ok = cold is not None and cold < 1.5 and warm is not None and warm < WARM_TARGET_S
            rows.append((f"{spec.title}: < 1.5 s cold, warm < {WARM_TARGET_S} s ({scale})", ok,
                         f"cold {cold} s, warm {warm} s; under wrk {page['requests']} answered in "
                         f"{top['duration']} s, p50 {page['p50_ms']} ms"))  # fmt: skip
    if len(results) > 1:
        for key, page in top["pages"].items():
            if key not in base["pages"] or specs[key].kind == "post":
                continue
            # Compared as ratios to each run's own ceiling, so a noisier machine in one run cancels out.
            growth = base["pages"][key]["ratio"] / page["ratio"] if page["ratio"] else float("inf")
            rows.append((f"{specs[key].title}: cost flat {base['cases']:,} → {top['cases']:,} (within 25%)",
                         growth <= 1.25, f"{growth:.2f}× the cost per request (relative to the ceiling)"))  # fmt: skip
        for key in top["sql"]:
            if key in base["sql"]:
                a, b = base["sql"][key]["statements"], top["sql"][key]["statements"]
                rows.append((f"{specs[key].title}: SQL statements constant", a == b, f"{a} → {b}"))
    for key, entry in top["sql"].items():
        people = entry.get("people_scans") or []
        note = f" (Seq Scan on {', '.join(people)}, which grow with accounts and customers)" if people else ""
        if entry.get("seq_scans"):
            rows.append((f"{specs[key].title}: every statement index-backed", False,
                         "Seq Scan on " + ", ".join(entry["seq_scans"]) + note))  # fmt: skip
        elif entry.get("explains"):
            rows.append((f"{specs[key].title}: every statement index-backed", not people,
                         "no Seq Scan on cases, events, escalations or ratings" + note))  # fmt: skip
    rss = max(top.get("rss_mb") or [0])
    rows.append((f"gunicorn worker RSS < 200 MB after the run ({scale})", rss < 200, f"{top.get('rss_mb')} MB"))
    return [(target, "met" if ok else "**not met**", evidence) for target, ok, evidence in rows]


def write_markdown(results: list[dict]) -> str:
    lines = [
        "# Casebridge benchmark results",
        "",
        "Written by `bench/run.py` (`make bench` for 10,000 / 100,000 / 1,000,000 cases, `make bench-quick`",
        "for 10,000). Each scale's numbers come from one run: the portal and the bare-Flask ceiling",
        "(bench/ceiling.py) under gunicorn, 2 sync workers each, production config, on this 2-core",
        f"machine with PostgreSQL; wrk with {CONNECTIONS} connections and {THREADS} threads.",
        "**Ratio** is the page's req/s over the ceiling's `/rows` (25 indexed rows rendered with Jinja)",
        "in the same run. A page fails (`unexpected` > 0) when any response had another status",
        "than expected (200; 302 for the submit POST), so a lost session cannot pass as a fast redirect.",
        "What the numbers mean, what was fixed and what is left: [ANALYSIS.md](ANALYSIS.md).",
        "",
    ]
    for result in results:
        volume = result["volume"]
        lines += [
            f"## {result['cases']:,} cases — {result['date']}, revision {result.get('revision', 'unknown')}",
            "",
            f"Data: {volume['cases']:,} cases ({volume['open_cases']:,} open), {volume['events']:,} events, "
            f"{volume['accounts']:,} accounts, {volume['customers']:,} customers, {volume['staff']} staff, "
            f"{volume['escalations']:,} escalations, {volume['ratings']:,} ratings."
            + (f" Seeded in {result['seed_seconds']} s." if result.get("seed_seconds") else ""),
            f"wrk: {result['duration']} s per page.",
            "",
            "| page | req/s | p50 ms | p99 ms | ratio to ceiling | unexpected | SQL statements | SQL ms (1 req) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, ceiling in result["ceiling"].items():
            title = next(s.title for s in CEILING_SPECS if s.key == key)
            lines.append(f"| {title} | {ceiling['rps']} | {ceiling['p50_ms']} | {ceiling['p99_ms']} | "
                         f"{'1.00' if key == 'ceiling_rows' else '—'} | {ceiling['bad']} | 1 | |")  # fmt: skip
        titles = {spec.key: spec.title for spec in page_specs({"forty_events_case": 0})}
        for key, page in result["pages"].items():
            sql = result["sql"].get(key, {})
            lines.append(
                f"| {titles[key]} | {page['rps']} | {page['p50_ms']} | {page['p99_ms']} | {page['ratio']:.2f} | "
                f"{page['bad']} | {_fmt(sql.get('statements'))} | {_fmt(sql.get('sql_ms'))} |"
            )
        if "submit_post" in result["pages"]:
            post = result["pages"]["submit_post"]
            lines += ["", f"Submit POST: {post['good']} answered 302; {post.get('created')} cases with the run's tag; "
                      f"{post.get('duplicates')} duplicated; {post.get('lost')} lost "
                      f"({post.get('unanswered')} created by requests still in flight when wrk stopped)."]  # fmt: skip
        if result["timings"]:
            lines += ["", "Dashboard and reports with curl (cold = first request a fresh gunicorn answers; "
                      "PostgreSQL's cache stays warm):", "",
                      "| page | cold s | second worker cold s | warm s (median of 4) |",
                      "|---|---:|---:|---:|"]  # fmt: skip
            for key, timing in result["timings"].items():
                lines.append(
                    f"| {titles[key]} | {timing['cold_s']} | {timing['second_worker_cold_s']} | {timing['warm_s']} |"
                )
        lines += ["", f"gunicorn worker RSS after the run: portal {result.get('rss_mb')} MB, ceiling "
                  f"{result.get('ceiling_rss_mb')} MB.", ""]  # fmt: skip

    if len(results) > 1:
        lines += ["## Growth with data", "", "req/s per page at each scale (and the ceiling's `/rows`):", ""]
        header = "| page | " + " | ".join(f"{r['cases']:,}" for r in results) + " |"
        lines += [header, "|---|" + "---:|" * len(results)]
        keys = ["ceiling_rows", *results[-1]["pages"]]
        titles = {spec.key: spec.title for spec in [*page_specs({"forty_events_case": 0}), *CEILING_SPECS]}
        for key in keys:
            cells = []
            for r in results:
                page = r["pages"].get(key) or r["ceiling"].get(key)
                cells.append(f"{page['rps']}" if page else "—")
            lines.append(f"| {titles[key]} | " + " | ".join(cells) + " |")
        lines.append("")

    lines += [
        "## Targets (issue 7), at the largest scale measured",
        "",
        "| target | result | evidence |",
        "|---|---|---|",
    ]
    for target, verdict, evidence in verdicts(results):
        lines.append(f"| {target} | {verdict} | {evidence} |")
    lines.append("")

    if results:
        top = results[-1]
        lines += [f"## EXPLAIN (ANALYZE, BUFFERS) of each page's slowest statements at {top['cases']:,} cases", ""]
        titles = {spec.key: spec.title for spec in page_specs({"forty_events_case": 0})}
        for key, entry in top["sql"].items():
            if not entry.get("explains"):
                continue
            lines += [f"### {titles[key]}", ""]
            scans = entry["seq_scans"] + entry.get("people_scans", [])
            if scans:
                lines += [f"Sequential scans among this page's statements: {', '.join(scans)}.", ""]
            for explain in entry["explains"]:
                lines += [f"{explain['ms']} ms in the page run:", "", "```sql", explain["sql"][:1500], "```", "",
                          "```", explain["plan"], "```", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Casebridge benchmark harness")
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--scales", default="10000", help="comma-separated case counts, e.g. 10000,100000,1000000")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--reuse", action="store_true", help="keep a database already seeded at the same scale")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--pages", default="", help="only these page keys (comma-separated)")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR))
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument("--markdown-only", action="store_true", help="only rewrite RESULTS.md from the results")
    args = parser.parse_args(argv)
    if args.markdown_only:
        RESULTS_MD.write_text(write_markdown(_load_results(Path(args.results_dir))))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    only = set(args.pages.split(",")) if args.pages else None
    for cases in (int(value) for value in args.scales.split(",")):
        result = run_scale(
            args.url, cases, duration=args.duration, reseed=not args.reuse, explain=not args.no_explain, only=only
        )
        (results_dir / f"{cases}.json").write_text(json.dumps(result, indent=2, default=str))
    if not args.no_markdown:
        RESULTS_MD.write_text(write_markdown(_load_results(results_dir)))
        print(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()
