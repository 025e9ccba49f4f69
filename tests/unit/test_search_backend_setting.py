"""SEARCH_BACKEND: whoosh by default; postgres only on a PostgreSQL database, with a clear error otherwise."""

import pytest

from consult.config import search_backend


def test_default_is_whoosh(monkeypatch):
    monkeypatch.delenv("SEARCH_BACKEND", raising=False)
    assert search_backend("sqlite:///x.db") == "whoosh"


def test_postgres_needs_a_postgresql_database(monkeypatch):
    monkeypatch.setenv("SEARCH_BACKEND", "postgres")
    assert search_backend("postgresql+psycopg://db/consult") == "postgres"
    with pytest.raises(ValueError, match="needs DATABASE_URL=postgresql"):
        search_backend("sqlite:///x.db")


def test_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("SEARCH_BACKEND", "elastic")
    with pytest.raises(ValueError, match="not known"):
        search_backend("sqlite:///x.db")
