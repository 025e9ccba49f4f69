"""The real third draft -> final Safety and Security chapter: lineage against the development sample of the expert
mapping, and the redline page a stakeholder reads."""

import json
import re

import pytest

from consult.drafts.lineage import match_clauses
from consult.drafts.parse import parse_draft
from tests.factories import publish

OLD = "gpai-cop/v3-third-draft-2025-03-11_3-safety-security.md"
NEW = "gpai-cop/v4-final-2025-07-10_3-safety-security.md"
MAPPING = "gpai-cop/lineage-dev-mapping.json"


def resolve(clauses, ident):
    """The one clause a mapping identifier names: the heading it opens, else the one heading that contains it."""
    opens = re.compile(re.escape(ident) + r"(?![\d.]*\d)", re.I)
    found = [c for c in clauses if opens.match(c.heading)]
    if len(found) != 1:
        found = [c for c in clauses if re.search(r"\b" + re.escape(ident) + r"\b", c.heading, re.I)]
    assert len(found) == 1, (ident, [c.heading for c in found])
    return found[0].key


def dev_accuracy(shared_data):
    """(continuing found, continuing), (split/merged/removed tied to a true counterpart, split/merged/removed)."""
    old = parse_draft((shared_data / OLD).read_text(encoding="utf-8")).clauses
    new = parse_draft((shared_data / NEW).read_text(encoding="utf-8")).clauses
    mapping = json.loads((shared_data / MAPPING).read_text(encoding="utf-8"))["v3_to_v4"]
    links: dict[str, set[str]] = {}
    for p in match_clauses(old, new):
        if p.old_key and p.new_key:
            links.setdefault(p.old_key, set()).add(p.new_key)
    same, other = [0, 0], [0, 0]
    for ident, row in mapping.items():
        got = links.get(resolve(old, ident), set())
        truth = {resolve(new, v) for v in row["v4"]}
        if row["relation"] == "same":
            same[0] += truth <= got
            same[1] += 1
        else:
            other[0] += bool(got & truth) if truth else not got
            other[1] += 1
    return same, other


def test_lineage_meets_the_targets_on_the_development_sample(shared_data):
    (same, n_same), (other, n_other) = dev_accuracy(shared_data)
    assert same / n_same >= 0.95
    assert other / n_other >= 0.6


@pytest.mark.usefixtures("app")
def test_real_redline_page_is_light_and_navigable(client, shared_data):
    publish(slug="safety", text=(shared_data / OLD).read_text(encoding="utf-8"), label="Third draft")
    publish(slug="safety", text=(shared_data / NEW).read_text(encoding="utf-8"), label="Final")
    full = client.get("/documents/safety/redline?from=1&to=2")
    assert full.status_code == 200 and len(full.data) < 1_000_000
    html = full.get_data(as_text=True)
    assert "Contents of changes" in html and 'rel="next"' in html
    # No Markdown syntax shows as a change (code blocks, such as lines indented past a list item's content, show
    # their text as written, as CommonMark renders them).
    prose = re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)
    for change in re.findall(r"<(?:ins|del)>(.*?)</(?:ins|del)>", prose, re.S):
        assert "####" not in change and "**" not in change and not change.startswith("&gt;")
    only = client.get("/documents/safety/redline?from=1&to=2&changes=1")
    assert len(only.data) < 300_000
    data = client.get("/api/documents/safety/redline?from=1&to=2").get_json()
    summary = data["summary"]
    continuing = [c for c in data["clauses"] if c["old"] and c["new"]]
    assert summary["renumbered"] == sum(1 for c in continuing if c["old"]["number"] != c["new"]["number"])
    assert summary["split"] + summary["merged"] > 0
