"""Report reason categories; revoked invitations

Revision ID: 0009_first_use
Revises: 0004_consultation
Create Date: 2026-12-01 21:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_first_use'
down_revision = '0006_lineage_relations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=20), server_default='other', nullable=False))
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('category')
