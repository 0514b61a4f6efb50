from server.accounts import tables
from server.core.apps import domain_app

APP_CONFIG = domain_app(tables, after=["server.units.piccolo_app"])
