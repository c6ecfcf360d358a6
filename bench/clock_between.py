"""Micro-benchmark of the SLA clock's business time between two instants (a breached case's lateness).

Prints microseconds per `business_time_between(due, now, calendar)` call for cases breached 1, 30,
365 and 1,000 days ago, on London weekdays 09:00-17:00 with the English bank holidays of 2024-2028.
Every call after the first is warm (the clock's caches are filled), as on a queue page that is
viewed again and again. A benchmark, not a test: it asserts nothing.

    .venv/bin/python bench/clock_between.py                        # portal/sla/clock.py
    .venv/bin/python bench/clock_between.py --module /tmp/clock_old.py   # another version of it
"""

import argparse
import importlib.util
import sys
import timeit
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

SPANS_IN_DAYS = (1, 30, 365, 1_000)
NOW = datetime(2028, 6, 14, 11, 30, tzinfo=ZoneInfo("Europe/London"))
BANK_HOLIDAYS = {
    date(2024, 1, 1), date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 6), date(2024, 5, 27),
    date(2024, 8, 26), date(2024, 12, 25), date(2024, 12, 26),
    date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 5), date(2025, 5, 26),
    date(2025, 8, 25), date(2025, 12, 25), date(2025, 12, 26),
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
    date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28),
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31),
    date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28),
    date(2028, 1, 3), date(2028, 4, 14), date(2028, 4, 17), date(2028, 5, 1), date(2028, 5, 29),
}  # fmt: skip


def load_clock(path: str | None):
    if path is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from portal.sla import clock

        return clock
    spec = importlib.util.spec_from_file_location("clock_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def microseconds_per_call(clock, span_days: int) -> float:
    calendar = clock.BusinessCalendar("Europe/London", range(5), time(9), time(17), BANK_HOLIDAYS)
    due = NOW - timedelta(days=span_days, minutes=17)
    clock.business_time_between(due, NOW, calendar)  # fill the caches
    timer = timeit.Timer(lambda: clock.business_time_between(due, NOW, calendar))
    calls, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=calls))
    return best / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", help="path of a clock.py to measure instead of portal/sla/clock.py")
    args = parser.parse_args()
    clock = load_clock(args.module)
    print(f"clock: {args.module or 'portal/sla/clock.py'}")
    for span in SPANS_IN_DAYS:
        print(f"{span:>6,} days breached: {microseconds_per_call(clock, span):9.1f} µs per call")


if __name__ == "__main__":
    main()
