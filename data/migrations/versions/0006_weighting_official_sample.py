"""official sample size per round, for the forecast of the official evaluation (达标概率)

Revision ID: 0006_weighting
Revises: 0005
Create Date: 2026-12-02 15:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_weighting'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_sample_size', sa.Integer(), nullable=False, server_default='600'))


def downgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_column('official_sample_size')
