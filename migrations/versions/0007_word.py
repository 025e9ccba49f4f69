"""The original Word file of a version imported from .docx

Revision ID: 0007_word
Revises: 0004_consultation
Create Date: 2026-12-01 21:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = '0007_word'
down_revision = '0011_search_pg'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_docx', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('version', schema=None) as batch_op:
        batch_op.drop_column('source_docx')
