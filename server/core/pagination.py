from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count
from piccolo.table import Table

PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class PageBody(msgspec.Struct):
    """A page of a list as the API answers it: a subclass names the type of its items
    (the field keeps its place, first)."""

    items: list[Any]
    total: int
    page: int
    per_page: int
    pages: int


def page_args(page: Any, per_page: Any = None) -> tuple[int, int]:
    """Lenient: a bad page number in a URL shows page 1 rather than an error."""
    try:
        p = min(1_000_000, max(1, int(page or 1)))
    except (TypeError, ValueError):
        p = 1
    try:
        n = min(MAX_PER_PAGE, max(1, int(per_page or PER_PAGE)))
    except (TypeError, ValueError):
        n = PER_PAGE
    return p, n


async def read_page(
    table: type[Table],
    where: Sequence[Any],
    columns: Sequence[Any],
    order: Sequence[Column],
    page: int,
    per_page: int,
    *,
    ascending: bool = True,
    shape: Callable[[dict], Any] | None = None,
) -> Page:
    """A page of the rows of `table` matching `where`: their number, and the `columns`
    of those on page `page` in `order` (every column the same way), each as `shape`
    makes it (the rows as they are without one)."""
    # counted through a select: a table may have a column named `count`
    total = (await table.select(Count(table.id).as_alias("n")).where(*where).first())["n"]
    rows = (
        await table.select(*columns)
        .where(*where)
        .order_by(*order, ascending=ascending)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page([shape(r) for r in rows] if shape else rows, total, page, per_page)
