"""Batches for queries: SQLite binds at most 999 parameters per statement, so lists of ids
go to the database a slice at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
SIZE = 500


def chunks(items: Sequence[T], size: int = SIZE) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
