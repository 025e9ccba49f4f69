"""Adopted wording stored on the disposition (adopted_at), moved there from the audit log

Revision ID: 0012_adoption
Revises: 0012_page_counts
Create Date: 2026-12-02 01:50:00

Until now an adoption was known only from its "adopt-wording" audit row. Each disposition whose comment has such
rows gets the time of the latest one. The audit rows stay (the log is append-only); a downgrade drops the column
and the audit rows still tell the story.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_adoption'
down_revision = '0012_page_counts'
branch_labels = None
depends_on = None

LATEST_ADOPTION = """
    SELECT MAX(a.created_at) FROM audit_entry a
    WHERE a.action = 'adopt-wording' AND a.target_type = 'comment' AND a.target_id = disposition.comment_id
"""


def upgrade():
    with op.batch_alter_table('disposition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adopted_at', sa.DateTime(timezone=True), nullable=True))
    # One statement, valid on SQLite and PostgreSQL alike (both store created_at and adopted_at the same way).
    op.execute(f"UPDATE disposition SET adopted_at = ({LATEST_ADOPTION}) WHERE EXISTS ({LATEST_ADOPTION})")


def downgrade():
    with op.batch_alter_table('disposition', schema=None) as batch_op:
        batch_op.drop_column('adopted_at')
