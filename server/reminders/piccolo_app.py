from server.core.apps import domain_app
from server.reminders import tables

APP_CONFIG = domain_app(tables, after=["server.accounts.piccolo_app", "server.units.piccolo_app"])
