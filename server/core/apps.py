"""A domain's Piccolo app, made from its tables module: every domain's app is the same
three facts (its name, its tables, the apps its migrations come after)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import ModuleType

from piccolo.conf.apps import AppConfig
from piccolo.table import Table

from server.settings import ROOT


def domain_app(tables: ModuleType, *, after: Sequence[str]) -> AppConfig:
    """The app of the package holding `tables` (`server.training.tables` → `training`):
    the tables that module defines, in the order it defines them (a table after those its
    foreign keys point at; tables it imports for those keys belong to their own apps), with
    its migrations in `migrations/<name>/`, applied after the apps `after` names."""
    name = tables.__name__.split(".")[-2]
    own = [
        t
        for t in vars(tables).values()
        if inspect.isclass(t) and issubclass(t, Table) and t.__module__ == tables.__name__
    ]
    return AppConfig(
        app_name=name,
        migrations_folder_path=str(ROOT / "migrations" / name),
        table_classes=own,
        migration_dependencies=list(after),
    )
