"""tally version per round

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:59:19.967223
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tally_version', sa.BigInteger(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_column('tally_version')

