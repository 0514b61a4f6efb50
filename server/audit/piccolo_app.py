from server.audit import tables
from server.core.apps import domain_app

APP_CONFIG = domain_app(tables, after=["tenants.piccolo_app"])
