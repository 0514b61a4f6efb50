from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
