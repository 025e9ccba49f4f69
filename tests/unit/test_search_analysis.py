"""The search analysers and query rewriting, without an index."""

from types import SimpleNamespace

import pytest
from whoosh import query as wq
from whoosh.fields import TEXT

from consult.search.query import MarkFormatter, parse, plain_words, query_problem, snippet
from consult.search.schema import build_schema, pair_terms

ANON = None
STAFF = SimpleNamespace(is_authenticated=True, status="active", role="drafter", id=1)


def tokens(field, text):
    return [t.text for t in build_schema()[field].analyzer(text)]


def test_accents_fold_before_stemming():
    assert tokens("text", "Évaluations règlement") == tokens("text", "evaluation reglement")


def test_pairs_follow_the_text_tokens():
    assert tokens("pairs", "copyright opt-out of the model") == ["copyright opt", "opt out", "out model"]
    assert pair_terms(["a", "b", "c"]) == ["a b", "b c"]


def test_unstemmed_words_keep_only_what_the_stems_cannot_answer():
    # 'risk' is its own stem (found among the stems); 'evaluations' and the stop word 'the' are not.
    assert tokens("words", "The risk of evaluations") == ["the", "of", "evaluations"]


TEXTS = [
    "The Évaluations of the règlement, a 3.5 x  œuvre ÆON naïve-ly  I a an of the",
    "",
    "the of",
    "x",
    "straße Straße İstanbul  copyright opt-out of the model: opt-out, OPT-OUT; models' modelling.",
    "Model evaluations should include red-teaming by outside experts. " * 3,
]


@pytest.mark.parametrize("field", ["text", "words", "pairs"])
def test_indexing_fast_path_gives_the_analysers_postings(field):
    schema = build_schema()
    for text in TEXTS:
        assert sorted(schema[field].index(text)) == sorted(TEXT.index(schema[field], text)), text


def test_two_word_phrase_is_one_pair_lookup_and_longer_ones_keep_positions():
    assert parse('"copyright opt-out"', ANON).query == wq.And(
        [wq.Term("pairs", "copyright opt"), wq.Term("pairs", "opt out"), wq.Phrase("text", ["copyright", "opt", "out"])]
    )
    assert parse('"outside experts"', ANON).query == wq.Term("pairs", "outsid expert")


def test_prefixes_look_in_stems_and_unstemmed_words():
    assert parse("evaluat*", ANON).query == wq.Or([wq.Prefix("text", "evaluat"), wq.Prefix("words", "evaluat")])


def test_readers_name_only_their_fields():
    assert parse("author_id:5 risk", ANON).query == wq.And([wq.Term("text", "author_id"), wq.Term("text", "risk")])
    assert parse("status:hidden", STAFF).query == wq.Term("status", "hidden")
    assert {t.fieldname for t in parse("status:hidden", ANON).query.leaves()} == {"text"}
    assert parse("group:Academia", ANON).query == wq.Term("group", "academia")


@pytest.mark.parametrize("q", ['"open', "AND", "NOT", ")", "(risk", "risk OR", "AND risk", "risk AND OR model"])
def test_malformed_queries_are_named(q):
    assert query_problem(q) is not None


@pytest.mark.parametrize("q", ['"open source"', "risk AND NOT model", "(risk OR harm) model", "NOT risk", "evaluat*"])
def test_wellformed_queries_pass(q):
    assert query_problem(q) is None


def test_fallback_keeps_the_words():
    assert plain_words('"copyright AND opt-out') == ["copyright", "opt", "out"]
    parsed = parse('"copyright opt-out', ANON)
    assert parsed.query is not None and "words only" in str(parsed.message)
    assert parse("AND", ANON).query is None and parse("AND", ANON).message


def test_snippets_escape_everything_but_mark():
    out = str(snippet("<b>Risk</b> & <script>x</script> risks", frozenset({"risk"})))
    assert out.count("<mark>") == 2 and "<b>" not in out and "&lt;script&gt;" in out and "&amp;" in out
    assert str(snippet("<i>plain</i>", frozenset())) == "&lt;i&gt;plain&lt;/i&gt;"
    assert MarkFormatter()._text('"<') == "&quot;&lt;"


@pytest.mark.parametrize("poslist", [[0], [3, 4, 9], list(range(0, 3000, 7)), [5, 70000, 70001]])
def test_positions_decoder_agrees_with_the_format(poslist):
    from consult.search.fastpath import positions

    field = build_schema()["text"]
    value = field.format.encode(poslist)
    assert positions(value) == set(field.format.decode_positions(value)) == set(poslist)
    assert positions(value.rstrip(b".")) == set(poslist)  # stored values may lose pickle's final stop byte
