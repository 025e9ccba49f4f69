"""Template helpers that name things: a version's name does not repeat its number."""

from types import SimpleNamespace

from consult import create_app
from consult.web import version_name


def _name(label, number):
    app = create_app({"TESTING": True})
    with app.test_request_context():
        return version_name(SimpleNamespace(label=label, number=number))


def test_a_label_that_names_the_number_stands_alone():
    assert _name("Version 2", 2) == "Version 2"
    assert _name("Draft 3 of the code", 3) == "Draft 3 of the code"


def test_a_label_without_the_number_gets_it():
    assert _name("Second draft", 2) == "Second draft (version 2)"
    # "12" in a label does not stand for version 2.
    assert _name("Draft of 12 March", 2) == "Draft of 12 March (version 2)"
