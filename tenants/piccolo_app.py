from piccolo.conf.apps import AppConfig

from server.settings import ROOT
from tenants.tables import Operator, Tenant

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(ROOT / "migrations" / "tenants"),
    table_classes=[Tenant, Operator],
    migration_dependencies=[],
)
