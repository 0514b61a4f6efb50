"""Changes that happen once: a conditional UPDATE names the state the row must still be
in, so of two requests at the same moment the database lets one match and the other
finds nothing, and is told why rather than writing twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table


async def update_once(
    table: type[Table], values: Mapping[Column, Any], where: Sequence[Any], refused: Exception | None = None
) -> bool:
    """Set `values` on the rows of `table` matching every condition of `where`; whether
    one matched. None matching: `refused` is raised when given (the caller's own answer,
    such as a Conflict naming what was done first)."""
    matched = bool(await table.update(dict(values)).where(*where).returning(table.id))
    if not matched and refused is not None:
        raise refused
    return matched
