"""Split a Markdown draft into a tree of clauses. Pure: no Flask, no database."""
from __future__ import annotations

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
    key: str              # unique in the draft, [a-z0-9-]+
    number: str           # "II.4.12", "3.2", "" never (positional when the heading has none)
    heading: str          # heading text as written, without #'s and without {#key}
    body: str             # exact Markdown after the heading, up to the next clause
    level: int            # heading level 2..6 (the preamble has level 2)
    parent_key: str | None
    position: int         # 0-based through the whole draft
    explicit_key: bool    # True only when the heading carried {#key}
    line: int             # 1-based line of the heading in the source (1 for a preamble)


@dataclass(frozen=True)
class ParsedDraft:
    title: str | None
    clauses: list[ParsedClause] = field(default_factory=list)


def parse_draft(text: str) -> ParsedDraft:  # pragma: no cover - replaced by the implementation
    raise NotImplementedError


def decode_draft(data: bytes) -> str:  # pragma: no cover - replaced by the implementation
    raise NotImplementedError
