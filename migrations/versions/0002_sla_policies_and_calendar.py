"""SLA policies per tier and severity, the business calendar and its holidays.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:49:07.226671

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('business_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('workdays', sa.String(length=13), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_business_calendars_hours_in_order')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_business_calendars_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_calendars')),
    sa.UniqueConstraint('name', name=op.f('uq_business_calendars_name'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Enum('standard', 'premium', 'strategic', name='tier', native_enum=False, length=32), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'critical', name='severity', native_enum=False, length=32), nullable=False),
    sa.Column('first_response_minutes', sa.Integer(), nullable=False),
    sa.Column('resolution_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('first_response_minutes > 0', name=op.f('ck_sla_policies_first_response_positive')),
    sa.CheckConstraint('resolution_minutes > 0', name=op.f('ck_sla_policies_resolution_positive')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_sla_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('tier', 'severity', name='uq_sla_policies_tier_severity')
    )
    op.create_table('holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_holidays_calendar_id_business_calendars'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
    sa.UniqueConstraint('calendar_id', 'date', name='uq_holidays_calendar_id_date')
    )


def downgrade():
    op.drop_table('holidays')
    op.drop_table('sla_policies')
    op.drop_table('business_calendars')
