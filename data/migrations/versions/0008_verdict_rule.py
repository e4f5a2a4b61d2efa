"""verdict rule per round (method, confidence level, sidedness); existing rounds get the default rule

Revision ID: 0008_verdict
Revises: 0007_auth
Create Date: 2026-12-02 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_verdict'
down_revision = '0007_auth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One-sided 95 % Clopper-Pearson: the planner's rule (299 interviews without a negative answer show 99 %).
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verdict_method', sa.String(length=20), nullable=False,
                                      server_default='clopper-pearson'))
        batch_op.add_column(sa.Column('verdict_confidence', sa.Float(), nullable=False, server_default='0.95'))
        batch_op.add_column(sa.Column('verdict_sided', sa.String(length=4), nullable=False, server_default='one'))


def downgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_column('verdict_sided')
        batch_op.drop_column('verdict_confidence')
        batch_op.drop_column('verdict_method')
