"""What Piccolo's own tooling loads (PICCOLO_CONF=server.piccolo_conf): the apps, and DB,
the connection migrations run on, as the tables' owner.

The application does not import this module: it binds its own engine
(server.db.bind(server.db.make_engine(settings))). DB is made when first asked for,
from the settings `luzhi migrate` was given, or else from the LUZHI_* environment,
so importing this module reads and creates nothing.
"""

from __future__ import annotations

from piccolo.engine.base import Engine

from server.db import app_registry, make_engine
from server.settings import Settings

APP_REGISTRY = app_registry()

_owner: Engine | None = None


def use(settings: Settings) -> Engine:
    """Make DB the owner's connection of these settings."""
    global _owner
    _owner = make_engine(settings, as_owner=True)
    return _owner


def __getattr__(name: str) -> Engine:
    # PEP 562: `DB` as Piccolo's finder and `from server.piccolo_conf import DB` ask for it
    if name == "DB":
        return _owner or use(Settings.from_env())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
