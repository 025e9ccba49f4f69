"""One page of a long list: its rows, the total count and the numbers the pagination macro needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import current_app

from .extensions import db


def page_size() -> int:
    """Rows per page of every long list on the site: the one setting CONSULT_PAGE_SIZE (config.py, default 50)."""
    return current_app.config["CONSULT_PAGE_SIZE"]


@dataclass
class Page:
    """A page of results; `page` counts from 1."""

    items: list = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 50

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1, so an empty list still has a page to show)."""
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        """True when there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        """The previous page number, or None."""
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        """The next page number, or None."""
        return self.page + 1 if self.has_next else None

    @property
    def first(self) -> int:
        """The 1-based position of the first row shown (0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The 1-based position of the last row shown (0 when there is none)."""
        return self.first + len(self.items) - 1 if self.items else 0

    def numbers(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last and `around` either side of this one; None marks a gap."""
        wanted = {1, self.pages} | set(range(self.page - around, self.page + around + 1))
        shown: list[int | None] = []
        for n in sorted(n for n in wanted if 1 <= n <= self.pages):
            if shown and shown[-1] is not None and n - shown[-1] > 1:
                shown.append(None)
            shown.append(n)
        return shown


def paginate(stmt, page: int | None, per_page: int, *, scalars: bool = True, clamp: bool = True) -> Page:
    """Run `stmt` as one count query and one page query; a page past the end shows the last page (or, with
    clamp=False, no rows: an API client reads pages until one comes back empty)."""
    per_page = max(1, int(per_page or 1))
    count_stmt = db.select(db.func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(count_stmt) or 0
    pages = max(1, math.ceil(total / per_page))
    page = max(1, int(page or 1))
    if clamp:
        page = min(page, pages)
    limited = stmt.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    return Page(items=list(result.all()), total=total, page=page, per_page=per_page)
