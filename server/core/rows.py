"""Rows as services read and hand them on: the columns of a joined row a list shows, the
columns a page, the API or an audit event shows, the public id (a UUID) in place of the
row id, and one row's columns read by its id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from piccolo.columns import Column, ForeignKey
from piccolo.table import Table


def joined(key: ForeignKey, *names: str, prefix: str | None = None) -> tuple[Column, ...]:
    """These columns of the row a foreign key points at, each named "<key>_<column>" in
    the result (or "<prefix><column>"): `joined(Post.unit, "uuid", "name")` reads
    "unit_uuid" and "unit_name"."""
    stem = f"{key._meta.name}_" if prefix is None else prefix
    return tuple(getattr(key, name).as_alias(stem + name) for name in names)


def pick(row: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """These columns of a row, as they are."""
    return {key: row[key] for key in keys}


def public(row: Mapping[str, Any], *keys: str, **values: Any) -> dict[str, Any]:
    """A row as it is shown: its public id as "id", these columns as they are, then
    `values` (what is computed or renamed)."""
    return {"id": str(row["uuid"]), **pick(row, *keys), **values}


async def read_row(table: type[Table], pk: int, *columns: Column) -> dict[str, Any] | None:
    """These columns of the row of `table` with this id, JSON ones parsed (None when
    there is no such row)."""
    return await table.select(*columns).where(table.id == pk).output(load_json=True).first()


def json_value(value: Any) -> Any:
    """A JSON column's value: Piccolo parses it only where asked (`load_json`), and a
    column read through a join or `get_owned` comes as text."""
    return json.loads(value) if isinstance(value, str) else value
