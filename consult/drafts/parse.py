"""Split a Markdown draft into a tree of clauses. Pure: no Flask, no database.

The format, in short:

* An optional `# Title` as the first non-blank line sets the draft's title.
* Every `##` to `######` heading written in the first column, outside fenced
  code, starts a clause. Headings inside blockquotes, list items or indented
  code belong to the body of the clause they are in.
* A clause's body is the Markdown between its heading line and the next
  clause heading, kept verbatim except that leading and trailing blank lines
  are dropped.
* Non-blank text before the first clause heading becomes a "Preamble" clause
  (key "preamble", no number). It stands outside the tree: it is nobody's
  parent.
* A clause has a number only when its heading starts with one ("Measure
  II.4.12.", "Appendix 1.2", "II."); other clauses have the number "". Numbers
  are never invented from positions: readers would take them for the draft's own.
* `{#some-key}` at the end of a heading pins the clause's key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_DRAFT_BYTES = 5 * 1024 * 1024


class DraftError(ValueError):
    """A draft that cannot be imported; `line` is 1-based where known."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class ParsedClause:
    key: str  # unique in the draft, [a-z0-9-]+
    number: str  # "II.4.12" as the heading says it, "" when the heading has no number
    heading: str  # heading text as written, without #'s and without {#key}
    body: str  # exact Markdown after the heading, up to the next clause
    level: int  # heading level 2..6 (the preamble has level 2)
    parent_key: str | None
    position: int  # 0-based through the whole draft
    explicit_key: bool  # True only when the heading carried {#key}
    line: int  # 1-based line of the heading in the source (1 for a preamble)
    preamble: bool = False  # the text before the first heading, under a made-up "Preamble" heading


@dataclass(frozen=True)
class ParsedDraft:
    title: str | None
    clauses: list[ParsedClause] = field(default_factory=list)


PREAMBLE_KEY = "preamble"
PREAMBLE_NUMBER = ""
MAX_KEY_LENGTH = 60

_ATX = re.compile(r"(#{1,6})[ \t](.*)")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_KEY_SUFFIX = re.compile(r"\{#([^{}]*)\}[ \t]*$")
_VALID_KEY = re.compile(r"[a-z0-9-]+")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t])#+[ \t]*$")

_ROMAN = r"(?=[IVXLC])C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_LABELS = "commitment|measure|article|appendix|annex|section|chapter|part|recital|clause|schedule"
_NUMBER = re.compile(
    rf"(?:(?P<label>(?i:{_LABELS}))\s+)?"
    rf"(?P<number>(?P<first>\d+|{_ROMAN})(?P<rest>(?:\.(?:\d+|{_ROMAN}|[A-Za-z]))*))"
    r"(?P<end>[.:]?)(?:\s|$)"
)


@dataclass
class _Clause:
    line: int
    level: int
    heading: str
    body: str
    number: str | None = None  # from the heading; None when it has none
    key_base: str = ""  # what the key is derived from when not explicit
    explicit_key: str | None = None
    key: str = ""
    parent: _Clause | None = None
    children: int = 0
    is_preamble: bool = False


def decode_draft(data: bytes) -> str:
    """Decode an uploaded draft as UTF-8 text with LF line endings."""
    if len(data) > MAX_DRAFT_BYTES:
        raise DraftError(f"the file is larger than {MAX_DRAFT_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        raise DraftError("the file is not UTF-8 text", before.count(b"\n") + 1) from None
    text = _normalise_newlines(text.removeprefix("\ufeff"))
    if not text.strip():
        raise DraftError("the file is empty")
    return text


def parse_draft(text: str) -> ParsedDraft:
    """Split draft Markdown into a title and an ordered tree of clauses."""
    lines = _normalise_newlines(text).split("\n")
    title, start = _find_title(lines)
    heads = _clause_headings(lines, start)
    if not heads:
        raise DraftError("no clause headings: a draft needs at least one '## ' heading")

    clauses: list[_Clause] = []
    preamble = _strip_blank_lines(lines[start : heads[0][0]])
    if preamble.strip():
        clauses.append(_Clause(1, 2, "Preamble", preamble, PREAMBLE_NUMBER, PREAMBLE_KEY, is_preamble=True))
    ends = [index for index, _, _ in heads[1:]] + [len(lines)]
    for (index, level, raw), end in zip(heads, ends, strict=True):
        clauses.append(_heading_clause(index + 1, level, raw, _strip_blank_lines(lines[index + 1 : end])))

    _build_tree(clauses)
    _assign_keys(clauses)
    return ParsedDraft(
        title=title,
        clauses=[
            ParsedClause(
                key=c.key,
                number=c.number or "",
                heading=c.heading,
                body=c.body,
                level=c.level,
                parent_key=c.parent.key if c.parent else None,
                position=position,
                explicit_key=c.explicit_key is not None,
                line=c.line,
                preamble=c.is_preamble,
            )
            for position, c in enumerate(clauses)
        ],
    )


def _normalise_newlines(text: str) -> str:
    """Turn CRLF and lone CR line endings into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _find_title(lines: list[str]) -> tuple[str | None, int]:
    """Return the title and the index of the first line after it."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = _ATX.match(line)
        if match and len(match.group(1)) == 1:
            return _CLOSING_HASHES.sub("", match.group(2)).strip() or None, index + 1
        break
    return None, 0


def _clause_headings(lines: list[str], start: int) -> list[tuple[int, int, str]]:
    """Find (line index, level, text after the #'s) of every clause heading."""
    heads = []
    fence = ""
    for index in range(start, len(lines)):
        line = lines[index]
        if fence:
            closing = _FENCE.fullmatch(line)
            if closing and closing.group(1).startswith(fence) and not closing.group(2).strip():
                fence = ""
            continue
        if line.startswith("#"):
            match = _ATX.match(line)
            if match and len(match.group(1)) >= 2:
                heads.append((index, len(match.group(1)), match.group(2)))
            continue
        opening = _FENCE.match(line)
        # A backtick fence's info string may not contain backticks (CommonMark).
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
    return heads


def _strip_blank_lines(lines: list[str]) -> str:
    """Join lines, dropping blank ones at the start and the end."""
    first, last = 0, len(lines)
    while first < last and not lines[first].strip():
        first += 1
    while last > first and not lines[last - 1].strip():
        last -= 1
    return "\n".join(lines[first:last])


def _heading_clause(line: int, level: int, raw: str, body: str) -> _Clause:
    """Read a heading's text, explicit key and number."""
    heading = raw.strip()
    explicit_key = None
    suffix = _KEY_SUFFIX.search(heading)
    if suffix:
        explicit_key = suffix.group(1)
        if not _VALID_KEY.fullmatch(explicit_key):
            raise DraftError(f"invalid key '{explicit_key}': use only lower-case letters, digits and '-'", line)
        heading = heading[: suffix.start()]
    heading = _CLOSING_HASHES.sub("", heading).strip()

    clause = _Clause(line, level, heading, body, explicit_key=explicit_key)
    number = _NUMBER.match(heading)
    # A lone Roman numeral counts only as "II." or after a label, so "I think" is not numbered.
    if number and (number["label"] or number["rest"] or number["first"].isdigit() or number["end"] == "."):
        clause.number = number["number"]
        clause.key_base = _slug(f"{number['label'] or ''} {number['number']}")
    else:
        clause.key_base = _slug(heading)
    return clause


def _build_tree(clauses: list[_Clause]) -> None:
    """Set each clause's parent from the heading levels."""
    stack: list[_Clause] = []
    for clause in clauses:
        if clause.is_preamble:
            continue
        while stack and stack[-1].level >= clause.level:
            stack.pop()
        if stack:
            clause.parent = stack[-1]
            clause.parent.children += 1
        stack.append(clause)


def _assign_keys(clauses: list[_Clause]) -> None:
    """Give every clause a unique key; explicit keys win over derived ones."""
    used: dict[str, int] = {}  # key -> line it was first used on
    # Explicit keys go first so that a derived key never takes one used further down.
    for clause in clauses:
        if clause.explicit_key is not None:
            if clause.explicit_key in used:
                raise DraftError(
                    f"duplicate key '{clause.explicit_key}' (first used on line {used[clause.explicit_key]})",
                    clause.line,
                )
            used[clause.explicit_key] = clause.line
            clause.key = clause.explicit_key
    for clause in clauses:
        if clause.explicit_key is None:
            base = clause.key_base or "clause"
            key, suffix = base, 1
            while key in used:
                suffix += 1
                key = f"{base}-{suffix}"
            used[key] = clause.line
            clause.key = key


def _slug(text: str) -> str:
    """Lower-case ASCII words joined by '-', at most MAX_KEY_LENGTH long."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if len(slug) > MAX_KEY_LENGTH:
        cut = slug[: MAX_KEY_LENGTH + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut[:MAX_KEY_LENGTH]
    return slug.strip("-")
