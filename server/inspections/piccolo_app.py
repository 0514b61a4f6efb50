from server.core.apps import domain_app
from server.inspections import tables

APP_CONFIG = domain_app(tables, after=["server.units.piccolo_app"])
