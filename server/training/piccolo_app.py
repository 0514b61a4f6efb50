from piccolo.conf.apps import AppConfig

from server.settings import ROOT
from server.training.tables import Attendance, Course, TrainingImport, TrainingRequirement

APP_CONFIG = AppConfig(
    app_name="training",
    migrations_folder_path=str(ROOT / "migrations" / "training"),
    table_classes=[TrainingRequirement, Course, Attendance, TrainingImport],
    migration_dependencies=["server.units.piccolo_app"],
)
