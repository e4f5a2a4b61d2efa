"""index responses by round and status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:56:46.444701
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_round_status', ['round_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_round_status')

