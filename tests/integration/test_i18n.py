"""The bilingual interface: a complete French catalogue, locale from the browser or the header switch, dates per locale,
and no visible text in the templates that bypasses the catalogue."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from consult.models import utcnow
from tests.factories import csrf_token, publish

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "consult" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
TEMPLATES = ROOT / "templates"

# The same extraction as `make translations-update`. Babel skips folders starting with "_" unless told otherwise,
# and templates/_macros and templates/_partials hold visible text.
EXTRACT_ARGS = [
    "-F",
    str(ROOT / "babel.cfg"),
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "-k",
    "ngettext:1,2",
    "-k",
    "lazy_ngettext:1,2",
    "--ignore-dirs",
    ".* __pycache__ node_modules",
    "--no-location",
]

PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the source as it is now, extracted afresh (not the committed messages.pot)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "--quiet", "extract", *EXTRACT_ARGS, "-o", str(pot), str(ROOT)])
    with pot.open("rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def french():
    with FRENCH_PO.open("rb") as fh:
        return read_po(fh, locale="fr")


def _key(message):
    return (message.context, message.id)


def test_extraction_finds_the_interface(extracted):
    ids = {m.id for m in extracted if m.id}
    # Python (a form label, a lazy vocabulary label), base.html, a macro under templates/_macros, a plural.
    for expected in (
        "Email address",
        "Accepted",
        "Skip to main content",
        "Open until",
        ("%(num)d comment", "%(num)d comments"),
    ):
        assert expected in ids, expected
    assert len(ids) > 500


def test_french_catalogue_is_complete(extracted, french):
    assert french.num_plurals == 2 and french.plural_expr == "(n > 1)"
    translated = {_key(m): m for m in french if m.id}
    missing, empty, fuzzy = [], [], []
    for message in extracted:
        if not message.id:
            continue
        entry = translated.get(_key(message))
        if entry is None:
            missing.append(message.id)
            continue
        if entry.fuzzy:
            fuzzy.append(message.id)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected_forms = 2 if message.pluralizable else 1
        if len(strings) != expected_forms or not all(s and s.strip() for s in strings):
            empty.append(message.id)
    assert not missing, f"not in fr/messages.po (run `make translations-update`, then translate): {missing}"
    assert not empty, f"untranslated in fr/messages.po: {empty}"
    assert not fuzzy, f"fuzzy (to check) in fr/messages.po: {fuzzy}"
    assert not french.fuzzy, "the catalogue header is marked fuzzy"


def test_french_translations_keep_the_placeholders(french):
    wrong = []
    for message in french:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = _placeholders(ids[-1])
        for text in strings:
            if _placeholders(text) != wanted:
                wrong.append((ids[0], text))
            # Flask-Babel formats with %: a translation must format with the names its source provides.
            names = {name: 1 for name in re.findall(r"%\((\w+)\)", ids[-1])}
            if names:
                try:
                    text % names
                except (KeyError, ValueError, TypeError) as exc:
                    wrong.append((ids[0], f"{text!r}: {exc}"))
            elif "%" in text.replace("%%", ""):
                wrong.append((ids[0], f"{text!r}: a lone % breaks formatting in templates"))
    assert not wrong, wrong
    assert not [error for _message, errors in french.check() for error in errors]


def test_browser_preference_gives_french_pages(client):
    html = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr"' in html
    assert "Documents soumis à consultation" in html
    assert "Documents under consultation" not in html
    assert 'lang="en">English</button>' in html  # the switch offers the other language
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en"' in english and "Documents under consultation" in english
    unknown = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in unknown  # not offered: the default


def test_dates_follow_the_locale(client):
    closes = utcnow().replace(year=2099, month=7, day=15, hour=12, minute=30, second=0, microsecond=0)
    publish(label="First draft", opens_at=utcnow() - timedelta(days=1), closes_at=closes)
    page = "/documents/sample-code/versions/1"
    french = client.get(page, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<time datetime="2099-07-15T12:30:00Z">15 juillet 2099, 12:30 UTC</time>' in french
    assert "Ouverte jusqu'au" in french
    english = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<time datetime="2099-07-15T12:30:00Z">15 July 2099, 12:30 UTC</time>' in english


def test_vocabulary_labels_are_translated(app):
    from flask_babel import force_locale

    from consult import vocabulary

    with app.test_request_context("/"), force_locale("fr"):
        assert str(vocabulary.DISPOSITIONS["out-of-scope"]) == "Hors champ"
        assert str(vocabulary.STAKEHOLDER_GROUPS["rightsholder"]) == "Titulaires de droits"


def test_header_switch_is_remembered_and_overrides_the_browser(client):
    french_browser = {"Accept-Language": "fr"}
    token = csrf_token(client, "/")
    response = client.post(
        "/language", data={"csrf_token": token, "lang": "en", "next": "/privacy"}, headers=french_browser
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/privacy")
    for _ in range(2):  # remembered across requests
        html = client.get("/", headers=french_browser).get_data(as_text=True)
        assert '<html lang="en"' in html and "Documents under consultation" in html

    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "lang": "fr", "next": "/"}, headers={"Accept-Language": "en"})
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr"' in html and "Documents soumis à consultation" in html


def test_header_switch_refuses_unknown_languages_and_missing_csrf(client):
    token = csrf_token(client, "/")
    assert client.post("/language", data={"csrf_token": token, "lang": "de"}).status_code == 400
    assert client.post("/language", data={"lang": "fr"}).status_code == 400
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


def test_switch_does_not_redirect_off_site(client):
    token = csrf_token(client, "/")
    response = client.post("/language", data={"csrf_token": token, "lang": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


# --- No visible text in templates outside the catalogue -------------------------------------------------------

# Language names in the switch are written in their own language, so they are the same in every interface.
ALLOWED_TEXT = {"English", "Français"}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "aria-description", "aria-roledescription"}
LETTER = re.compile(r"[^\W\d_]")


def _without_template_code(source: str) -> str:
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    return re.sub(r"\{%.*?%\}", " ", source, flags=re.S)


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden_depth += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f'<{tag} {name}="{value.strip()}">')
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset"):
            value = attributes.get("value") or ""
            if LETTER.search(value):
                self.found.append(f'<input value="{value.strip()}">')

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._hidden_depth and LETTER.search(text) and text not in ALLOWED_TEXT:
            self.found.append(text)


def visible_literal_text(source: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(_without_template_code(source))
    parser.close()
    return parser.found


def test_the_template_scan_catches_literal_text():
    assert visible_literal_text('<p>{{ _("Fine") }} · 3 →</p><button lang="fr">Français</button>') == []
    assert visible_literal_text("<p>{% if x %}Sign in{% endif %}</p>") == ["Sign in"]
    assert visible_literal_text('<input placeholder="Search">') == ['<input placeholder="Search">']
    assert visible_literal_text("{# a note #}<script>var a = 'x';</script>{% trans %}Hello{% endtrans %}") == []


def test_templates_have_no_visible_text_outside_the_catalogue():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    found = {
        str(path.relative_to(ROOT)): text
        for path in templates
        if (text := visible_literal_text(path.read_text(encoding="utf-8")))
    }
    assert not found, f"wrap these in _() or {{% trans %}}: {found}"


# A number before one of these words needs ngettext ("1 open sessions were ended" was a gettext string).
COUNTED_NOUNS = (
    "comment",
    "clause",
    "answer",
    "question",
    "endorsement",
    "session",
    "second",
    "minute",
    "hour",
    "day",
    "character",
    "report",
    "account",
    "invitation",
    "registration",
    "word",
    "version",
    "time",
)
# Owned by the sign-in throttling and mail code, to be moved to ngettext there (#14); listed so that no new one hides.
PLURAL_PENDING = {
    "Too many failed sign-in attempts. Try again in %(n)d minutes.",
    "Too many password reset requests from your network. Try again in %(n)d minutes.",
    "Choose between 1 and %(n)d days.",
}


def test_a_number_before_a_noun_uses_plural_forms(extracted):
    # "%(n)d open sessions" counts sessions; "version %(old)d to version %(new)d" counts nothing.
    counted = re.compile(r"%\(\w+\)d (?:(?!to |of |and |in )[a-z-]+ )?(?:" + "|".join(COUNTED_NOUNS) + r")s?\b")
    singular_only = [
        m.id
        for m in extracted
        if m.id
        and not m.pluralizable
        and counted.search(m.id)
        and m.id not in PLURAL_PENDING
        and not m.id.startswith("Someone (probably you)")
    ]
    assert not singular_only, f"use ngettext for: {singular_only}"


def test_french_plural_forms_agree(app, french):
    from flask_babel import force_locale, ngettext, pgettext

    # French counts 0 and 1 as singular and 2 up as plural; every plural entry has two different forms
    # when its English forms differ (a feminine or plural agreement is easy to forget).
    same = [m.id for m in french if m.id and m.pluralizable and m.id[0] != m.id[1] and m.string[0] == m.string[1]]
    assert not same, f"French singular and plural are identical: {same}"
    with force_locale("fr"):
        assert ngettext("%(num)d comment", "%(num)d comments", 0) == "0 commentaire"
        assert ngettext("%(num)d comment", "%(num)d comments", 1) == "1 commentaire"
        assert ngettext("%(num)d comment", "%(num)d comments", 57) == "57 commentaires"
        assert pgettext("clauses, in a table of counts", "Removed") == "Supprimées"


def test_french_dates_write_the_first_of_the_month_1er(client):
    closes = utcnow().replace(year=2099, month=12, day=1, hour=9, minute=5, second=0, microsecond=0)
    publish(label="First draft", opens_at=utcnow() - timedelta(days=1), closes_at=closes)
    page = "/documents/sample-code/versions/1"
    french = client.get(page, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert ">1er décembre 2099, 09:05 UTC</time>" in french
    english = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">1 December 2099, 09:05 UTC</time>" in english


def test_redline_summary_agrees_in_french(client):
    publish(label="First draft")
    from tests.integration.test_publish_lineage import NEXT_DRAFT

    publish(text=NEXT_DRAFT, label="Second draft")
    html = client.get("/documents/sample-code/redline?from=1&to=2", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    summary = html[html.index("<caption>Résumé") :]
    summary = summary[: summary.index("</table>")]
    for word in ("Ajoutées", "Supprimées", "Modifiées", "Renumérotées", "Déplacées", "Inchangées"):
        assert f">{word}</th>" in summary
