"""Rows in bulk: many rows written through one prepared statement on the caller's
transaction, for the domains' bulk operations (each domain's `bulk` module). The ORM
composes and binds each row's SQL in Python, most of a millisecond a row; these bind
the values straight to the driver.

The engine is the one the table is bound to (server.db binds them all), so the
foundation needs no import of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from uuid import uuid4

from piccolo.columns import JSON, Column, Numeric
from piccolo.columns.defaults.base import Default
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from server.core.chunks import chunks


def _postgres(table: type[Table]) -> bool:
    return isinstance(table._meta.db, PostgresEngine)


def _connection(table: type[Table]) -> Any:
    tx = table._meta.db.current_transaction.get()
    if tx is None:
        raise RuntimeError("bulk writes run inside the caller's transaction")
    return tx.connection


def _sql(table: type[Table], text: str) -> str:
    """`?` placeholders as the engine takes them (asyncpg's are numbered)."""
    if not _postgres(table):
        return text
    head, *rest = text.split("?")
    return head + "".join(f"${i}{part}" for i, part in enumerate(rest, start=1))


def new_row(**values: Any) -> dict[str, Any]:
    """A new row's values with its public id drawn now (each table's `uuid` is a UUID4
    column), so that the caller can find the row again by it."""
    return {"uuid": uuid4(), **values}


async def insert_rows(table: type[Table], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT many rows through one prepared statement. Columns left out take their
    defaults, as Table(...) gives them."""
    if not rows:
        return
    columns = [c for c in table._meta.columns if not c._meta.primary_key]
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    placeholders = ", ".join("?" for _ in columns)
    sql = _sql(table, f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({placeholders})')
    plan = [(c._meta.name, c.get_default_value(), _converter(table, c)) for c in columns]
    values = []
    for row in rows:
        out = []
        for name, default, convert in plan:
            value = row.get(name, default)
            if value is default and isinstance(default, Default):
                value = default.python()
            out.append(value if convert is None or value is None else convert(value))
        values.append(out)
    await _connection(table).executemany(sql, values)


def _converter(table: type[Table], column: Column) -> Callable[[Any], Any] | None:
    if isinstance(column, JSON):
        return lambda value: value if isinstance(value, str) else dump_json(value)
    if isinstance(column, Numeric) and _postgres(table):
        # asyncpg binds a Decimal, not a float
        return lambda value: Decimal(str(value)) if isinstance(value, float) else value
    return None


async def insert_new(table: type[Table], rows: Sequence[dict[str, Any]]) -> None:
    """insert_rows for rows made by new_row, each then given its row id as `id`."""
    await insert_rows(table, rows)
    ids = await row_ids(table, [row["uuid"] for row in rows])
    for row in rows:
        row["id"] = ids[str(row["uuid"])]


async def update_rows(table: type[Table], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """UPDATE rows by id: each of `rows` holds the new values of `columns`, then the row's
    id (a row given twice takes its last values)."""
    if not rows:
        return
    rows = list({row[-1]: row for row in rows}.values())
    if _postgres(table):
        await _update_joined(table, columns, rows)
        return
    sets = ", ".join(f'"{name}" = ?' for name in columns)
    sql = f'UPDATE "{table._meta.tablename}" SET {sets} WHERE "id" = ?'
    await _connection(table).executemany(sql, rows)


async def _update_joined(table: type[Table], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """PostgreSQL: one UPDATE joined to the rows' values, an array a column. Not a statement
    a row: the row-level security policy adds `tenant = ...` to each, and while the planner's
    statistics predate the tenant's rows (a bulk load in one transaction) it reads that
    index instead of the primary key's, so that each row's UPDATE scans all the tenant's."""
    connection = _connection(table)
    name = table._meta.tablename
    types = {
        r["attname"]: r["type"]
        for r in await connection.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute"
            " WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
            f'"{name}"',
        )
    }
    keys = [*columns, "id"]
    arrays = ", ".join(f"${i}::{types[key]}[]" for i, key in enumerate(keys, start=1))
    sets = ", ".join(f'"{key}" = v."{key}"' for key in columns)
    aliases = ", ".join(f'"{key}"' for key in keys)
    sql = f'UPDATE "{name}" AS t SET {sets} FROM unnest({arrays}) AS v({aliases}) WHERE t."id" = v."id"'
    await connection.execute(sql, *(list(values) for values in zip(*rows, strict=True)))


async def row_ids(table: type[Table], uuids: Sequence[Any]) -> dict[str, int]:
    """Row ids by public id (of rows just inserted). On PostgreSQL in one statement, which
    reads the tenant's rows at most once (see _update_joined), not once a slice."""
    if _postgres(table):
        rows = await _connection(table).fetch(
            f'SELECT "id", "uuid" FROM "{table._meta.tablename}" WHERE "uuid" = ANY($1::uuid[])', list(uuids)
        )
        return {str(r["uuid"]): r["id"] for r in rows}
    out: dict[str, int] = {}
    for batch in chunks(list(uuids)):
        rows = await table.select(table.id, table.uuid).where(table.uuid.is_in(list(batch)))
        out.update({str(r["uuid"]): r["id"] for r in rows})
    return out
