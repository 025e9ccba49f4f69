"""Unit tests for consult.drafts.parse: decoding uploads and splitting drafts into clauses."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.drafts.parse import (
    MAX_DRAFT_BYTES,
    DraftError,
    ParsedDraft,
    decode_draft,
    parse_draft,
)

ROOT = Path(__file__).resolve().parents[2]

DATA_DIR = ROOT.parent / "shared" / "data" / "gpai-cop"
V3_SAFETY = "v3-third-draft-2025-03-11_3-safety-security.md"
V4_FINAL = "v4-final-2025-07-10_3-safety-security.md"


def by_key(draft: ParsedDraft) -> dict:
    return {clause.key: clause for clause in draft.clauses}


def only_clause(text: str):
    draft = parse_draft(text)
    assert len(draft.clauses) == 1
    return draft.clauses[0]


# --- decode_draft -----------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_decode_rejects_empty_files(data):
    with pytest.raises(DraftError) as error:
        decode_draft(data)
    assert error.value.message == "the file is empty"
    assert error.value.line is None


def test_decode_strips_bom():
    assert decode_draft(b"\xef\xbb\xbf## A\nbody") == "## A\nbody"


def test_decode_keeps_a_later_feff():
    assert decode_draft("## A\n\ufeffx".encode()) == "## A\n\ufeffx"


def test_decode_normalises_line_endings():
    assert decode_draft(b"## A\r\none\rtwo\r\n\r\nthree\n") == "## A\none\ntwo\n\nthree\n"


def test_decode_keeps_non_ascii_text():
    assert decode_draft("## Évaluation – “risk”\n".encode()) == "## Évaluation – “risk”\n"


@pytest.mark.parametrize(
    "data, line",
    [
        (b"\xff## A", 1),
        (b"## A\nok\nbad \xe9 byte\n", 3),
        (b"## A\r\nok\r\nbad \xc3\r\n", 3),
        (b"## A\rok\rok\r\x80", 4),
    ],
)
def test_decode_names_the_line_of_the_first_bad_byte(data, line):
    with pytest.raises(DraftError) as error:
        decode_draft(data)
    assert error.value.line == line
    assert str(error.value) == f"line {line}: the file is not UTF-8 text"


def test_decode_rejects_files_over_5_mb():
    with pytest.raises(DraftError) as error:
        decode_draft(b"## A\n" + b"x" * MAX_DRAFT_BYTES)
    assert error.value.message == "the file is larger than 5 MB"


def test_decode_accepts_exactly_5_mb():
    data = b"## A\n" + b"x" * (MAX_DRAFT_BYTES - 5)
    assert len(decode_draft(data)) == MAX_DRAFT_BYTES


# --- numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading, number, key",
    [
        ("Commitment II.1 Documentation", "II.1", "commitment-ii-1"),
        ("Commitment II.1: Safety and Security Framework", "II.1", "commitment-ii-1"),
        ("Commitment II.1:", "II.1", "commitment-ii-1"),
        ("Measure II.4.12. Safety margins", "II.4.12", "measure-ii-4-12"),
        ("Measure 3.2", "3.2", "measure-3-2"),
        ("Measure II.3.1 Systemic risk selection", "II.3.1", "measure-ii-3-1"),
        ("Article 5", "5", "article-5"),
        ("Appendix 1.2.1 Essential characteristics", "1.2.1", "appendix-1-2-1"),
        ("1.2.3", "1.2.3", "1-2-3"),
        ("1.2.3 Scope", "1.2.3", "1-2-3"),
        ("II.", "II", "ii"),
        ("II. Commitments by providers", "II", "ii"),
        ("1.", "1", "1"),
        ("1. Introduction", "1", "1"),
        ("ANNEX IV", "IV", "annex-iv"),
        ("recital XL: Purpose", "XL", "recital-xl"),
        ("Measure 3.2.a Letters after the first part", "3.2.a", "measure-3-2-a"),
        ("Chapter II.B", "II.B", "chapter-ii-b"),
        ("Part 2: Obligations", "2", "part-2"),
        ("Schedule 10", "10", "schedule-10"),
    ],
)
def test_numbers_read_from_headings(heading, number, key):
    clause = only_clause(f"## {heading}\nbody")
    assert (clause.number, clause.key, clause.heading) == (number, key, heading)


@pytest.mark.parametrize(
    "heading, key",
    [
        ("A. Scope", "a-scope"),
        ("I think so", "i-think-so"),
        ("Introduction", "introduction"),
        ("II Without a dot", "ii-without-a-dot"),
        ("IV: colon is not enough for a bare numeral", "iv-colon-is-not-enough-for-a-bare-numeral"),
        ("CIVIL. matters", "civil-matters"),
        ("Measures to take", "measures-to-take"),
        ("Section Glossary", "section-glossary"),
        ("Appendix A", "appendix-a"),
        ("1.2.3x Not a number", "1-2-3x-not-a-number"),
        ("ii. lower-case numerals are words", "ii-lower-case-numerals-are-words"),
    ],
)
def test_headings_without_a_number_have_none(heading, key):
    clause = only_clause(f"## {heading}\nbody")
    assert (clause.number, clause.key) == ("", key)


def test_numbers_are_never_invented_from_positions():
    draft = parse_draft(
        "## One\n## Two\n## Three\n### Three one\n### Three two\n#### Deep\n## Measure 7.1 Numbered\n### Child"
    )
    assert [c.number for c in draft.clauses] == ["", "", "", "", "", "", "7.1", ""]


def test_numbered_and_unnumbered_siblings():
    draft = parse_draft("## Intro\n## Commitment II.1 x\n## Glossary")
    assert [c.number for c in draft.clauses] == ["", "II.1", ""]


# --- title ----------------------------------------------------------------------


def test_title_is_read_and_belongs_to_no_clause():
    draft = parse_draft("# The Code of Practice\n\n## Scope\nText.")
    assert draft.title == "The Code of Practice"
    assert [c.key for c in draft.clauses] == ["scope"]
    assert "Code of Practice" not in draft.clauses[0].body


def test_title_after_blank_lines_and_with_closing_hashes():
    assert parse_draft("\n\n# Title ##\n## A").title == "Title"


def test_no_title():
    assert parse_draft("## A\nbody").title is None


def test_later_level_one_heading_stays_in_the_body():
    draft = parse_draft("# Title\n## A\n# Not a title\ntext\n## B")
    assert draft.title == "Title"
    assert draft.clauses[0].body == "# Not a title\ntext"


def test_second_level_one_heading_before_clauses_goes_to_the_preamble():
    draft = parse_draft("# Title\n# Subtitle\n## A")
    assert draft.title == "Title"
    assert draft.clauses[0].key == "preamble"
    assert draft.clauses[0].body == "# Subtitle"


def test_level_one_heading_after_text_is_not_the_title():
    draft = parse_draft("Some words first.\n# Late\n## A")
    assert draft.title is None
    assert draft.clauses[0].body == "Some words first.\n# Late"


# --- preamble -------------------------------------------------------------------


def test_text_before_the_first_heading_becomes_the_preamble():
    draft = parse_draft("# Title\n\nIntroductory words.\n\nMore.\n\n## A\nbody\n### B")
    preamble, a, b = draft.clauses
    assert preamble.key == "preamble"
    assert preamble.number == ""
    assert preamble.heading == "Preamble"
    assert preamble.body == "Introductory words.\n\nMore."
    assert (preamble.level, preamble.parent_key, preamble.position, preamble.line) == (2, None, 0, 1)
    assert preamble.explicit_key is False
    # The preamble is outside the tree: it is nobody's parent.
    assert (a.number, a.position, a.parent_key) == ("", 1, None)
    assert (b.number, b.parent_key) == ("", "a")


def test_deeper_heading_after_a_preamble_is_top_level():
    draft = parse_draft("Intro.\n#### Deep")
    assert draft.clauses[1].parent_key is None
    assert draft.clauses[1].number == ""


def test_blank_text_before_the_first_heading_is_no_preamble():
    draft = parse_draft("# Title\n \n\t\n## A")
    assert [c.key for c in draft.clauses] == ["a"]


def test_preamble_yields_its_key_to_an_explicit_one():
    draft = parse_draft("Intro.\n## Foreword {#preamble}")
    assert [c.key for c in draft.clauses] == ["preamble-2", "preamble"]


def test_heading_called_preamble_does_not_clash_with_the_preamble():
    draft = parse_draft("Intro.\n## Preamble\ntext")
    assert [c.key for c in draft.clauses] == ["preamble", "preamble-2"]


# --- tree -----------------------------------------------------------------------


def test_parents_follow_heading_levels_including_skipped_levels():
    draft = parse_draft("## A\n### B\n#### C\n### D\n## E\n#### F\n### G\n###### H\n##### I")
    parents = {c.heading: c.parent_key for c in draft.clauses}
    assert parents == {
        "A": None,
        "B": "a",
        "C": "b",
        "D": "a",
        "E": None,
        "F": "e",
        "G": "e",
        "H": "g",
        "I": "g",
    }
    assert [c.level for c in draft.clauses] == [2, 3, 4, 3, 2, 4, 3, 6, 5]


def test_a_shallower_heading_after_a_deep_first_one_is_also_top_level():
    draft = parse_draft("### A\n## B\n### C")
    assert [(c.parent_key, c.number) for c in draft.clauses] == [(None, ""), (None, ""), ("b", "")]


def test_positions_and_lines():
    draft = parse_draft("# T\n\nIntro\n\n## A\ntext\n\n### B\n## C\n")
    assert [(c.key, c.position, c.line) for c in draft.clauses] == [
        ("preamble", 0, 1),
        ("a", 1, 5),
        ("b", 2, 8),
        ("c", 3, 9),
    ]


# --- bodies and what is (not) a heading -------------------------------------------


def test_body_is_kept_verbatim_apart_from_surrounding_blank_lines():
    body = "First line with a hard break  \n    indented code\n\n> quote\n\n* item\n\ttabbed"
    draft = parse_draft(f"## A\n\n  \n{body}\n\n\n## B\n")
    assert draft.clauses[0].body == body
    assert draft.clauses[1].body == ""


def test_crlf_input_is_handled():
    draft = parse_draft("## A\r\none\r\ntwo\r\n## B\rthree")
    assert [(c.heading, c.body) for c in draft.clauses] == [("A", "one\ntwo"), ("B", "three")]


@pytest.mark.parametrize(
    "inner",
    [
        "```\n## not a clause\n```",
        "```python\n## not a clause\n```",
        "~~~\n## not a clause\n~~~",
        "````\n```\n## not a clause\n````",
        "~~~\n```\n## not a clause\n~~~",
        "  ```\n## not a clause\n  ```",
        "> #### A box heading",
        "> > ## nested quote",
        "- ## list item",
        "1. ## numbered list item",
        "* item\n\n  ## continuation of the item",
        "    ## indented code",
        "   ## indented three spaces",
        "#hashtag",
        "####### seven hashes",
        "##no space",
    ],
)
def test_lines_that_stay_in_the_body(inner):
    draft = parse_draft(f"## A\n{inner}\n## B")
    assert [c.heading for c in draft.clauses] == ["A", "B"]
    assert draft.clauses[0].body == inner


def test_unclosed_fence_runs_to_the_end():
    draft = parse_draft("## A\n```\n## inside\n## still inside")
    assert len(draft.clauses) == 1


def test_backtick_line_with_backticks_in_info_string_is_not_a_fence():
    draft = parse_draft("## A\n``` a ` b\n## B")
    assert [c.heading for c in draft.clauses] == ["A", "B"]


def test_heading_text_drops_closing_hashes_but_keeps_other_hashes():
    draft = parse_draft("## Scope ##\n### C# tips\n#### Issue #5\n## ##")
    assert [c.heading for c in draft.clauses] == ["Scope", "C# tips", "Issue #5", ""]


def test_tab_after_hashes_starts_a_clause():
    assert only_clause("##\tTabbed").heading == "Tabbed"


# --- keys -----------------------------------------------------------------------


def test_explicit_key():
    draft = parse_draft("## Scope of the Code {#scope}\ntext\n## Measure 1.1. Something ## {#m-1-1}")
    scope, measure = draft.clauses
    assert (scope.key, scope.heading, scope.explicit_key) == ("scope", "Scope of the Code", True)
    assert (measure.key, measure.heading, measure.number) == ("m-1-1", "Measure 1.1. Something", "1.1")
    assert measure.explicit_key is True


def test_derived_keys_are_not_explicit():
    assert only_clause("## Scope").explicit_key is False


@pytest.mark.parametrize("bad", ["Scope", "under_score", "with space", "", "ümlaut"])
def test_invalid_explicit_key_names_the_line(bad):
    with pytest.raises(DraftError) as error:
        parse_draft(f"## A\ntext\n\n## B {{#{bad}}}")
    assert error.value.line == 4
    assert f"'{bad}'" in error.value.message


def test_duplicate_explicit_keys_name_both_lines():
    with pytest.raises(DraftError) as error:
        parse_draft("## A {#x}\n\n## B\n## C {#x}")
    assert error.value.message == "duplicate key 'x' (first used on line 1)"
    assert error.value.line == 4
    assert str(error.value) == "line 4: duplicate key 'x' (first used on line 1)"


def test_derived_keys_are_made_unique():
    draft = parse_draft("## Scope\n## Scope\n## Scope\n## Scope 2")
    assert [c.key for c in draft.clauses] == ["scope", "scope-2", "scope-3", "scope-2-2"]


def test_derived_key_never_takes_a_later_explicit_key():
    draft = parse_draft("## Scope\n## Measure 1.1\n## Other {#scope}\n## More {#measure-1-1}")
    assert [c.key for c in draft.clauses] == ["scope-2", "measure-1-1-2", "scope", "measure-1-1"]


def test_repeated_numbers_get_unique_keys():
    draft = parse_draft("## Commitment I.1 A\n## Commitment I.1 B")
    assert [c.key for c in draft.clauses] == ["commitment-i-1", "commitment-i-1-2"]
    assert [c.number for c in draft.clauses] == ["I.1", "I.1"]


def test_slug_folds_accents_and_punctuation():
    assert only_clause("## Évaluation des modèles — “état de l’art”!").key == "evaluation-des-modeles-etat-de-l-art"


def test_slug_casefolds():
    assert only_clause("## Straße ÖKOLOGIE").key == "strasse-okologie"


def test_slug_falls_back_to_clause():
    draft = parse_draft("## ???\n## 你好\n## ")
    assert [c.key for c in draft.clauses] == ["clause", "clause-2", "clause-3"]


def test_long_slug_is_cut_at_a_hyphen():
    heading = "Introductory note by the Chairs and Vice-Chairs of the Safety and Security Section"
    key = only_clause(f"## {heading}").key
    assert key == "introductory-note-by-the-chairs-and-vice-chairs-of-the"
    assert len(key) <= 60


def test_long_slug_without_hyphens_is_cut_at_60():
    assert only_clause("## " + "a" * 80).key == "a" * 60


# --- no clauses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["# Title\n\nSome text.", "Just text.", "```\n## fenced\n```", "> ## quoted", "", "# Only a title"],
)
def test_draft_without_clause_headings_is_rejected(text):
    with pytest.raises(DraftError) as error:
        parse_draft(text)
    assert error.value.message == "no clause headings: a draft needs at least one '## ' heading"


# --- word preservation ----------------------------------------------------------


def source_words(text: str) -> list[str]:
    text = re.sub(r"\{#[a-z0-9-]+\}", " ", text)
    return re.findall(r"\w+", re.sub(r"(?m)^#{1,6} ", "", text))


def is_preamble(clause) -> bool:
    return clause.preamble


def parsed_words(draft: ParsedDraft) -> list[str]:
    pieces = [draft.title or ""]
    for clause in sorted(draft.clauses, key=lambda c: c.position):
        # The preamble's heading is made up; only its body comes from the source.
        heading = "" if is_preamble(clause) else clause.heading
        pieces.append(heading + "\n" + clause.body)
    return re.findall(r"\w+", "\n".join(pieces))


def check_well_formed(draft: ParsedDraft) -> None:
    keys = [c.key for c in draft.clauses]
    assert [c.position for c in draft.clauses] == list(range(len(draft.clauses)))
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9-]+", key) for key in keys)
    assert all(c.number == "" or c.number in c.heading for c in draft.clauses)  # only the heading's own
    earlier: set[str] = set()
    for clause in draft.clauses:
        assert clause.parent_key is None or clause.parent_key in earlier
        earlier.add(clause.key)


def real_drafts() -> list[Path | None]:
    return sorted(DATA_DIR.glob("*.md")) if DATA_DIR.is_dir() else [None]


def require_shared_data(path: Path | None) -> Path:
    if path is None or not path.exists():
        message = "shared data not present"
        if os.environ.get("CONSULT_REQUIRE_ALL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.mark.parametrize("path", real_drafts(), ids=lambda p: p.name if p else "missing")
def test_real_drafts_lose_nothing(path):
    text = decode_draft(require_shared_data(path).read_bytes())
    draft = parse_draft(text)
    headings = len(re.findall(r"(?m)^#{2,6} ", text))
    has_preamble = is_preamble(draft.clauses[0])
    assert len(draft.clauses) == headings + has_preamble
    assert parsed_words(draft) == source_words(text)
    check_well_formed(draft)


def test_real_v3_draft_structure():
    path = require_shared_data(DATA_DIR / V3_SAFETY)
    draft = parse_draft(decode_draft(path.read_bytes()))
    clauses = by_key(draft)
    assert len(draft.clauses) == 95
    measure = clauses["measure-ii-4-12"]
    assert (measure.number, measure.heading, measure.parent_key) == (
        "II.4.12",
        "Measure II.4.12. Safety margins",
        "commitment-ii-4",
    )
    assert clauses["commitment-ii-1"].heading == "Commitment II.1: Safety and Security Framework"
    assert clauses["measure-ii-3-1"].number == "II.3.1"
    assert clauses["appendix-1-4-1"].parent_key == "appendix-1-4"
    # The boxes' "> ####" headings stay inside the clause bodies.
    assert sum(c.body.count("\n> #### ") + c.body.startswith("> #### ") for c in draft.clauses) == 73


def test_real_v4_draft_structure():
    path = require_shared_data(DATA_DIR / V4_FINAL)
    draft = parse_draft(decode_draft(path.read_bytes()))
    clauses = by_key(draft)
    assert len(draft.clauses) == 71
    assert [(c.number, c.key) for c in draft.clauses[:4]] == [
        ("", "objectives"),
        ("", "recitals"),
        ("1", "commitment-1"),
        ("1.1", "measure-1-1"),
    ]
    assert clauses["appendix-1-2-1"].parent_key == "appendix-1-2"
    assert clauses["appendix-1-2-1"].level == 5


WORDS = st.sampled_from(["alpha", "beta", "Gamma", "déjà", "risk", "model", "I", "II", "x1", "Measure", "3"])


def words(min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[str]:
    return st.lists(WORDS, min_size=min_size, max_size=max_size).map(" ".join)


PARAGRAPHS = st.one_of(
    words(),
    words().map(lambda w: f"{w}\n{w}."),
    words().map(lambda w: f"> #### {w}\n> {w}"),
    words().map(lambda w: f"- ## {w}"),
    words().map(lambda w: f"    ## {w}"),
    words().map(lambda w: f"```\n## {w}\n```"),
    words().map(lambda w: f"~~~~\n### {w}\n~~~~"),
    words().map(lambda w: f"# {w}"),
)
PREFIXES = st.sampled_from(["", "", "Measure II.4.12. ", "Commitment II.1: ", "1.2 ", "II. ", "Article 5 "])
EXPLICIT_KEYS = st.sampled_from([None, None, None, "scope", "measure-ii-4-12", "alpha", "preamble", "clause", "k1"])


@st.composite
def drafts(draw) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append("# " + draw(words()))
    parts.extend(draw(st.lists(PARAGRAPHS, max_size=2)))
    used_keys = set()
    for _ in range(draw(st.integers(1, 8))):
        heading = "#" * draw(st.integers(2, 6)) + " " + draw(PREFIXES) + draw(words(0, 4))
        if draw(st.booleans()):
            heading += " ##"
        key = draw(EXPLICIT_KEYS)
        if key and key not in used_keys:
            used_keys.add(key)
            heading += f" {{#{key}}}"
        parts.append(heading)
        parts.extend(draw(st.lists(PARAGRAPHS, max_size=3)))
    return draw(st.sampled_from(["\n", "\n\n", "\n \n"])).join(parts)


@settings(max_examples=300, deadline=None)
@given(drafts())
def test_random_drafts_lose_no_words(text):
    draft = parse_draft(text)
    assert parsed_words(draft) == source_words(text)
    check_well_formed(draft)
