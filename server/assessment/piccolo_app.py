from piccolo.conf.apps import AppConfig

from server.assessment.tables import (
    Adjustment,
    AssessedUnit,
    Assessment,
    Evidence,
    ReportJob,
    Scheme,
    Score,
    ScoreEvent,
)
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="assessment",
    migrations_folder_path=str(ROOT / "migrations" / "assessment"),
    table_classes=[Scheme, Assessment, AssessedUnit, Score, Evidence, Adjustment, ScoreEvent, ReportJob],
    migration_dependencies=["server.units.piccolo_app"],
)
