"""The fence around the search fast path: Whoosh's private names are read in consult/search/fastpath.py only."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import whoosh

ROOT = Path(__file__).resolve().parents[2]
CONSULT = ROOT / "consult"
FASTPATH = CONSULT / "search" / "fastpath.py"
# Objects of Whoosh's that a module holds under these names: no `._x` on them outside the fast path.
WHOOSH_OBJECTS = {
    "reader",
    "matcher",
    "m",
    "searcher",
    "sub",
    "ix",
    "index",
    "writer",
    "segment",
    "postings",
    "results",
    "hit",
    "weighting",
    "cursor",
    "field",
    "schema",
    "storage",
    "parser",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _fastpath_private_names() -> set[str]:
    """The Whoosh private names the fast path reads: attributes of objects other than its own, and imports."""
    names = set()
    for node in ast.walk(ast.parse(FASTPATH.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):
            names.add(node.attr)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            names.update(alias.name for alias in node.names if _private(alias.name))
    return names


def _violations(path: Path, private_names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            if node.module.startswith("whoosh.codec"):
                found.append(f"{where} imports Whoosh's codec internals ({node.module})")
            found += [
                f"{where} imports {alias.name} from {node.module}" for alias in node.names if _private(alias.name)
            ]
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in ("self", "cls"):
                continue
            if node.attr in private_names:
                found.append(f"{where} reads {node.attr}, a Whoosh private name the fast path uses")
            elif owner in WHOOSH_OBJECTS:
                found.append(f"{where} reads {owner}.{node.attr}")
    return found


def test_the_fast_path_is_where_the_private_names_are():
    names = _fastpath_private_names()
    assert {"_perdoc", "_next_block", "_ids", "_data", "_INT_SIZE"} <= names  # the scan sees what it should


def test_no_module_outside_the_fast_path_touches_whoosh_private_names():
    names = _fastpath_private_names()
    violations = []
    for path in sorted(CONSULT.rglob("*.py")):
        if path != FASTPATH:
            violations += _violations(path, names)
    assert violations == []


def test_the_scan_catches_a_private_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from whoosh.system import _INT_SIZE\n"
        "def f(reader, matcher, other):\n"
        "    reader._perdoc.deleted_docs()\n"
        "    matcher._anything\n"
        "    return other._ids\n"
    )
    # Paths are reported relative to the repository.
    sample = ROOT / "tests" / "unit" / f".fence_sample_{id(sample)}.py"
    sample.write_text((tmp_path / "sample.py").read_text())
    try:
        assert len(_violations(sample, _fastpath_private_names())) == 4
    finally:
        sample.unlink()


def test_the_service_imports_no_private_name_of_the_query_module():
    tree = ast.parse((CONSULT / "search" / "service.py").read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if _private(alias.name)
    ]
    assert imported == []


def test_another_whoosh_version_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 5))
    spec = importlib.util.spec_from_file_location("consult.search._fastpath_version_probe", FASTPATH)
    with pytest.raises(ImportError) as refused:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    message = str(refused.value)
    assert "2.7.4" in message and "2.7.5" in message
    assert "CONSULT_SEARCH_FASTPATH=0" in message and "Whoosh==2.7.4" in message


def test_with_the_switch_off_the_fast_path_is_never_imported(tmp_path):
    """CONSULT_SEARCH_FASTPATH=0 must keep working when fastpath.py cannot be imported (another Whoosh)."""
    script = f"""
import sys
from whoosh import index
from consult.search import query
from consult.search.index import comment_document
from consult.search.schema import build_schema
ix = index.create_in({str(tmp_path)!r}, build_schema())
writer = ix.writer()
for n in range(3):
    writer.add_document(**comment_document({{"id": n, "body": "model evaluation " * (n + 1), "slug": "code",
        "version_number": 1, "key": "k", "author_group": "academia", "type": "remark", "visibility": "public",
        "status": "visible", "author_id": 1, "created_at": None, "clause_id": 1}}))
writer.commit()
with ix.searcher() as searcher:
    for q, total in (("model", 3), ("model evaluation", 3), ('"model evaluation model"', 2), ("mod*", 3)):
        result = query.run_query(searcher, query.parse(q, None), None, fast=False)
        assert result.total == total, (q, result.total)
assert "consult.search.fastpath" not in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
