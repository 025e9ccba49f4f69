"""An index that answers the version page's comment counts and its general comments from the index alone

Revision ID: 0012_page_counts
Revises: 0010_analysis
Create Date: 2026-12-02 01:10:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_page_counts'
down_revision = '0010_analysis'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_version_clause', ['version_id', 'clause_id', 'author_group', 'parent_id',
                                                            'question_id', 'visibility', 'author_id'], unique=False)


def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_version_clause')
