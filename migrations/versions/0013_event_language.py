"""The language of the request that made a notification event (the receipt is written after the response)

Revision ID: 0013_event_language
Revises: 0012_adoption
Create Date: 2026-12-02 02:45:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_event_language'
down_revision = '0012_adoption'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_event', schema=None) as batch_op:
        batch_op.drop_column('language')
