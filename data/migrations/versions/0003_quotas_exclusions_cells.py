"""round quotas, exclusions, demographic cell tally, population

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:09:36.174829
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('population',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('age_group', sa.String(length=12), nullable=False),
    sa.Column('sex', sa.String(length=12), nullable=False),
    sa.Column('population', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_population_area_id_area')),
    sa.PrimaryKeyConstraint('area_id', 'age_group', 'sex', name=op.f('pk_population'))
    )
    op.create_table('cell_tally',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('age_group', sa.String(length=12), nullable=False),
    sa.Column('sex', sa.String(length=12), nullable=False),
    sa.Column('indicator', sa.String(length=20), nullable=False),
    sa.Column('item', sa.String(length=60), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('positive', sa.Integer(), nullable=False),
    sa.Column('valid_sq', sa.BigInteger(), nullable=False),
    sa.Column('positive_sq', sa.BigInteger(), nullable=False),
    sa.Column('valid_positive', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['area.id'], name=op.f('fk_cell_tally_district_id_area')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_cell_tally_round_id_survey_round')),
    sa.PrimaryKeyConstraint('round_id', 'district_id', 'age_group', 'sex', 'indicator', 'item', name=op.f('pk_cell_tally'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exclusion_reason', sa.String(length=200), nullable=True))

    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        # Existing rounds get no quotas and no invitation requirement.
        batch_op.add_column(sa.Column('quotas', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('requires_invitation', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_column('requires_invitation')
        batch_op.drop_column('quotas')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('exclusion_reason')

    op.drop_table('cell_tally')
    op.drop_table('population')
