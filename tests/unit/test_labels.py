"""consult/labels.py names clauses for the web layer and the services alike, with no request and no app."""

import ast
from pathlib import Path
from types import SimpleNamespace

from consult.labels import clause_label, clause_number

ROOT = Path(__file__).resolve().parents[2] / "consult"


def test_a_clause_label_names_the_number_once():
    assert clause_label(SimpleNamespace(number="3.2", heading="Retention")) == "3.2 Retention"
    assert clause_label(SimpleNamespace(number="II.4", heading="Measure II.4. Margins")) == "Measure II.4. Margins"
    assert clause_label(SimpleNamespace(number="0", heading="Preamble")) == "Preamble"
    assert clause_label(None) == "the whole version (general comment)"  # outside a request: the English text


def test_a_clause_number_keeps_its_label_word():
    assert clause_number(SimpleNamespace(number="3.4", heading="Measure 3.4 Records")) == "Measure 3.4"
    assert clause_number(SimpleNamespace(number="1.2", heading="No number here")) == "1.2"


def _imports(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every name a module imports, relative modules written with their dots."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.update(("." * node.level + (node.module or ""), alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update((alias.name, "") for alias in node.names)
    return found


def test_labels_is_pure_and_no_service_takes_clause_label_from_the_web_layer():
    assert {module for module, _name in _imports(ROOT / "labels.py")} <= {"__future__", "re", "flask_babel"}
    for path in (ROOT / "services").glob("*.py"):
        sources = {module for module, name in _imports(path) if name == "clause_label"}
        assert sources <= {"..labels"}, path.name
    assert ("..labels", "clause_label") in _imports(ROOT / "services" / "lineage.py")
