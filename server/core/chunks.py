"""Batches for queries: SQLite binds at most 999 parameters per statement, so lists of ids
go to the database a slice at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from piccolo.columns import Column

T = TypeVar("T")
SIZE = 500


def chunks(items: Sequence[T], size: int = SIZE) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def rows_in(key: Column, keys: Sequence[Any], *columns: Any, where: Sequence[Any] = ()) -> list[dict]:
    """The `columns` (all without any) of the rows of `key`'s table whose `key` is one of
    `keys` and that match every condition of `where`, read a slice of `keys` at a time."""
    table = key._meta.table
    rows: list[dict] = []
    for batch in chunks(keys):
        rows += await table.select(*columns).where(key.is_in(list(batch)), *where)
    return rows
