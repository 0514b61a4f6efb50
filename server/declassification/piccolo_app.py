from server.core.apps import domain_app
from server.declassification import tables

APP_CONFIG = domain_app(tables, after=["server.units.piccolo_app"])
