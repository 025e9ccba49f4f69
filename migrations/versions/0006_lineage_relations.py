"""Lineage links with a relation and a confidence: splits and merges between clauses of consecutive versions

Revision ID: 0006_lineage_relations
Revises: 0004_consultation

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_lineage_relations'
down_revision = '0004_consultation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clause_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('old_clause_id', sa.Integer(), nullable=False),
        sa.Column('new_clause_id', sa.Integer(), nullable=False),
        sa.Column('relation', sa.String(length=20), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('primary', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['new_clause_id'], ['clause.id'], name=op.f('fk_clause_link_new_clause_id_clause')),
        sa.ForeignKeyConstraint(['old_clause_id'], ['clause.id'], name=op.f('fk_clause_link_old_clause_id_clause')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clause_link')),
        sa.UniqueConstraint('old_clause_id', 'new_clause_id', name='uq_clause_link_pair'),
    )
    with op.batch_alter_table('clause_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clause_link_new_clause_id'), ['new_clause_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clause_link_old_clause_id'), ['old_clause_id'], unique=False)


def downgrade():
    with op.batch_alter_table('clause_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clause_link_old_clause_id'))
        batch_op.drop_index(batch_op.f('ix_clause_link_new_clause_id'))
    op.drop_table('clause_link')
