"""Rows as services hand them on: the columns a page, the API or an audit event shows,
and the public id (a UUID) in place of the row id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pick(row: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """These columns of a row, as they are."""
    return {key: row[key] for key in keys}


def public(row: Mapping[str, Any], *keys: str, **values: Any) -> dict[str, Any]:
    """A row as it is shown: its public id as "id", these columns as they are, then
    `values` (what is computed or renamed)."""
    return {"id": str(row["uuid"]), **pick(row, *keys), **values}
