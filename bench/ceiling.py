"""The practical ceiling: the least a Flask page on this machine can cost, served the same way.

Two routes, run under the same gunicorn settings as the portal (bench/run.py starts both):
- `/` returns a short string: the cost of Flask and gunicorn alone;
- `/rows` selects the 25 newest cases (by the `ix_cases_created` index) from the seeded database
  with SQLAlchemy and renders them with Jinja: the cost of one indexed query and a template.

    DATABASE_URL=postgresql+psycopg://root@127.0.0.1/casebridge_bench gunicorn -w 2 bench.ceiling:app
"""

import os

import sqlalchemy as sa
from flask import Flask, render_template_string

ROWS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cases</title></head>
<body><table>
<thead><tr><th>Case</th><th>Subject</th><th>Status</th><th>Severity</th><th>Created</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td>CB-{{ row.id }}</td><td>{{ row.subject }}</td><td>{{ row.status }}</td>
<td>{{ row.severity }}</td><td>{{ row.created_at.strftime('%d %b %Y %H:%M') }}</td></tr>
{% endfor %}</tbody></table></body></html>
"""

metadata = sa.MetaData()
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("subject", sa.String),
    sa.Column("status", sa.String),
    sa.Column("severity", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
NEWEST = (
    sa.select(cases.c.id, cases.c.subject, cases.c.status, cases.c.severity, cases.c.created_at)
    .order_by(cases.c.created_at.desc(), cases.c.id.desc())
    .limit(25)
)


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(database_url or os.environ["DATABASE_URL"], pool_pre_ping=True)

    @app.route("/")
    def hello():
        return "Hello from the ceiling."

    @app.route("/rows")
    def rows():
        with engine.connect() as connection:
            found = connection.execute(NEWEST).all()
        return render_template_string(ROWS, rows=found)

    return app


app = create_app() if "DATABASE_URL" in os.environ else None
