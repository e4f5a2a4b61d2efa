"""response.interviewer as long as a user name (60): an interviewer whose user name has 41–60
characters could log in but none of their interviews could be stored on PostgreSQL.

Revision ID: 0009_harden
Revises: 0008_verdict
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_harden'
down_revision = '0008_verdict'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.alter_column('interviewer', existing_type=sa.String(length=40), type_=sa.String(length=60),
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.alter_column('interviewer', existing_type=sa.String(length=60), type_=sa.String(length=40),
                              existing_nullable=True)
