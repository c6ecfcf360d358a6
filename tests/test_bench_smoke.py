"""The benchmark still runs: bench/seed.py seeds a tiny data set and bench/run.py measures it.

Benchmarks are not tests (bench/README.md); this only checks that the seeding script and the
harness work end to end on a few hundred cases: the migrations, the COPY load, the sign-in with a
CSRF token, a wrk run of the customer's submit POST with its lost/duplicate count, and the SQL
statement count with EXPLAIN of every page. It needs PostgreSQL (TEST_DATABASE_URL) and wrk, and
works in a scratch database of its own, created beside the test database and dropped afterwards.
"""

import os
import shutil
import uuid

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the benchmark seeds PostgreSQL only; set TEST_DATABASE_URL to a PostgreSQL database",
)


@pytest.fixture
def scratch_url():
    url = sa.make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{url.database}_bench_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_seed_and_harness_run_on_a_tiny_data_set(scratch_url, tmp_path, monkeypatch):
    from bench import run, seed

    monkeypatch.setattr(run, "PORTAL_PORT", 18731)
    monkeypatch.setattr(run, "CEILING_PORT", 18732)
    result = run.run_scale(scratch_url, 300, duration=1, reseed=True, explain=True, only={"submit_post", "case"})

    info = seed.read_info(scratch_url)
    assert info["cases"] == 300
    assert info["events"] >= 300
    post = result["pages"]["submit_post"]
    assert post["bad"] == 0 and post["good"] > 0
    assert post["intact"], post
    assert result["sql"]["case"]["status"] == 200
    assert result["sql"]["case"]["explains"], "the slowest statements are explained"
    assert result["rss_mb"] and all(size > 0 for size in result["rss_mb"])
    assert "## Targets" in run.write_markdown([result])
