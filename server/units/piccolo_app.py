from server.core.apps import domain_app
from server.units import tables

APP_CONFIG = domain_app(tables, after=["tenants.piccolo_app"])
