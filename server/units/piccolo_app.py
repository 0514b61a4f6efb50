from piccolo.conf.apps import AppConfig

from server.settings import ROOT
from server.units.tables import Person, Post, Unit

APP_CONFIG = AppConfig(
    app_name="units",
    migrations_folder_path=str(ROOT / "migrations" / "units"),
    table_classes=[Unit, Person, Post],
    migration_dependencies=["tenants.piccolo_app"],
)
