"""initial schema: areas, questionnaires, rounds, responses, tally

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:43:42.668785
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['area.id'], name=op.f('fk_area_parent_id_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area')),
    sa.UniqueConstraint('code', name=op.f('uq_area_code'))
    )
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_parent_id'), ['parent_id'], unique=False)

    op.create_table('questionnaire_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_version')),
    sa.UniqueConstraint('code', 'version', name='uq_questionnaire_version_code_version')
    )
    op.create_table('survey_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=True),
    sa.Column('closes_at', sa.DateTime(), nullable=True),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire_version.id'], name=op.f('fk_survey_round_questionnaire_id_questionnaire_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_round')),
    sa.UniqueConstraint('code', name=op.f('uq_survey_round_code'))
    )
    op.create_table('response',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('interviewer', sa.String(length=40), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('age_group', sa.String(length=12), nullable=True),
    sa.Column('sex', sa.String(length=12), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], name=op.f('fk_response_community_id_area')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire_version.id'], name=op.f('fk_response_questionnaire_id_questionnaire_version')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_response_round_id_survey_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_round_community', ['round_id', 'community_id'], unique=False)
        batch_op.create_index('ix_response_round_submitted', ['round_id', 'submitted_at'], unique=False)

    op.create_table('tally',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=20), nullable=False),
    sa.Column('item', sa.String(length=60), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('positive', sa.Integer(), nullable=False),
    sa.Column('valid_sq', sa.BigInteger(), nullable=False),
    sa.Column('positive_sq', sa.BigInteger(), nullable=False),
    sa.Column('valid_positive', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['area.id'], name=op.f('fk_tally_community_id_area')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_tally_round_id_survey_round')),
    sa.PrimaryKeyConstraint('round_id', 'community_id', 'indicator', 'item', name=op.f('pk_tally'))
    )


def downgrade() -> None:
    op.drop_table('tally')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_round_submitted')
        batch_op.drop_index('ix_response_round_community')

    op.drop_table('response')
    op.drop_table('survey_round')
    op.drop_table('questionnaire_version')
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_parent_id'))

    op.drop_table('area')
