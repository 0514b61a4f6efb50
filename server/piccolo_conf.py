"""Piccolo's configuration: the owner connection that migrations use, and the apps."""

from piccolo.conf.apps import AppRegistry

from server.db import make_engine
from server.settings import Settings

DB = make_engine(Settings.from_env(), as_owner=True)

APP_REGISTRY = AppRegistry(
    apps=[
        "tenants.piccolo_app",
        "server.units.piccolo_app",
        "server.accounts.piccolo_app",
        "server.audit.piccolo_app",
        "server.responsibility.piccolo_app",
        "server.training.piccolo_app",
        "server.assessment.piccolo_app",
        "server.reminders.piccolo_app",
    ]
)
