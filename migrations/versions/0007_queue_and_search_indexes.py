"""Indexes for the queues, search and reports at scale; the stored copy of Case.next_due_at.

`cases.next_due_at` holds what `Case.next_due_at` computes (the running SLA target's due time) so
that the queues can sort by it through an index; the ORM keeps it on every flush. The full-text
index is PostgreSQL's own (SQLite searches with LIKE instead), so it lives only in migrations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'open', 'waiting_on_customer')"
FEEDBACK = "kind = 'feedback'"
TRIAGE = "status = 'new' AND assignee_id IS NULL"
# The same expression as portal.models.cases.SEARCH_DOCUMENT, or PostgreSQL will not use the index.
SEARCH_DOCUMENT = "to_tsvector('english'::regconfig, (subject::text || ' ') || description)"


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cases SET next_due_at = CASE"
        " WHEN status NOT IN ('new', 'open') OR sla_paused_at IS NOT NULL THEN NULL"
        " WHEN first_response_at IS NULL THEN first_response_due_at"
        " ELSE resolution_due_at END"
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_next_due', ['next_due_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_assignee_next_due', ['assignee_id', 'next_due_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_cases_triage', ['next_due_at', 'id', 'account_id', 'assignee_id'], unique=False,
            postgresql_where=sa.text(TRIAGE), sqlite_where=sa.text(TRIAGE),
        )
        batch_op.create_index(
            'ix_cases_feedback_category', ['category', 'created_at', 'id'], unique=False,
            postgresql_where=sa.text(FEEDBACK), sqlite_where=sa.text(FEEDBACK),
        )
        batch_op.create_index(
            'ix_cases_open_assignee', ['assignee_id', 'account_id'], unique=False,
            postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_role_name', ['role', 'name'], unique=False)
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index('ix_escalations_created', ['created_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX ix_cases_search ON cases USING gin ({SEARCH_DOCUMENT})")
        # Unassigned cases are mostly new ones: without this PostgreSQL multiplies the two
        # selectivities, expects a hundred triage cases where there are thousands, and sorts them
        # all instead of walking ix_cases_next_due.
        op.execute("CREATE STATISTICS st_cases_assignee_status (dependencies, mcv) ON assignee_id, status FROM cases")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP STATISTICS st_cases_assignee_status")
        op.execute("DROP INDEX ix_cases_search")
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_created')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_role_name')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_assignee', postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.drop_index(
            'ix_cases_feedback_category', postgresql_where=sa.text(FEEDBACK), sqlite_where=sa.text(FEEDBACK)
        )
        batch_op.drop_index('ix_cases_triage', postgresql_where=sa.text(TRIAGE), sqlite_where=sa.text(TRIAGE))
        batch_op.drop_index('ix_cases_assignee_next_due')
        batch_op.drop_index('ix_cases_next_due')
        batch_op.drop_column('next_due_at')
