"""The PostgreSQL search backend's table; on PostgreSQL also its tsvector column, GIN index and text configurations

Revision ID: 0011_search_pg
Revises: 0004_consultation
Create Date: 2026-12-01 21:05:00

On SQLite only the table is created (it stays empty: SQLite deployments use the Whoosh index). The `tsv` column,
its GIN index, the `unaccent` extension and the two text search configurations exist only on PostgreSQL and are
outside the models, so migrations/env.py leaves them out of `flask db check` (see consult/search/postgres.py).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_search_pg'
down_revision = '0009_first_use'
branch_labels = None
depends_on = None

TOKENS = "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart"

# consult_english: accents folded, then English stemming; consult_words: accents folded, words kept whole (for
# prefixes, as "evaluation" is stemmed to "evalu"). Hyphenated words are indexed as their parts only, so that
# "opt-out" and "opt out" are the same words at the same positions in texts and in queries. consult_pairs gives
# each pair of neighbouring stems as one lexeme ('red_team'; the parser never keeps "_" in a word), so that a phrase
# is first narrowed by the GIN index to the rows that have its pairs, as the Whoosh index does with its pair terms.
CONFIGURATIONS = f"""
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION consult_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION consult_english ALTER MAPPING FOR {TOKENS} WITH unaccent, english_stem;
ALTER TEXT SEARCH CONFIGURATION consult_english DROP MAPPING FOR asciihword, hword, numhword;
CREATE TEXT SEARCH CONFIGURATION consult_words (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION consult_words ALTER MAPPING FOR {TOKENS} WITH unaccent, simple;
ALTER TEXT SEARCH CONFIGURATION consult_words DROP MAPPING FOR asciihword, hword, numhword;
CREATE FUNCTION consult_pairs(v tsvector) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_to_tsvector(array_agg(DISTINCT pair)), ''::tsvector)
  FROM (SELECT lexeme || '_' || lead(lexeme) OVER (ORDER BY pos) AS pair
        FROM unnest(v) AS u(lexeme, positions, weights), unnest(positions) AS pos) AS p
  WHERE pair IS NOT NULL
$$;
ALTER TABLE search_document ADD COLUMN tsv tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv);
"""


def upgrade():
    op.create_table('search_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('clause_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('clause_key', sa.String(length=200), nullable=False),
    sa.Column('group', sa.String(length=40), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=True),
    sa.Column('disposition', sa.String(length=40), nullable=True),
    sa.Column('visibility', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_document')),
    sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_search_document_kind'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in CONFIGURATIONS.strip().split(";\n"):
            op.execute(statement.rstrip(";"))


def downgrade():
    op.drop_table('search_document')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS consult_pairs(tsvector)")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS consult_words")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS consult_english")
