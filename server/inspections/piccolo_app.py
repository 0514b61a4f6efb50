from piccolo.conf.apps import AppConfig

from server.inspections.tables import (
    Attachment,
    ChecklistTemplate,
    Clue,
    Device,
    DeviceCheck,
    Finding,
    FindingEvent,
    Inspection,
    Interview,
    ItemResult,
    Measure,
    Round,
    Team,
    TeamMember,
)
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=str(ROOT / "migrations" / "inspections"),
    table_classes=[
        ChecklistTemplate,
        Round,
        Team,
        TeamMember,
        Inspection,
        Clue,
        ItemResult,
        Interview,
        Device,
        DeviceCheck,
        Finding,
        FindingEvent,
        Measure,
        Attachment,
    ],
    migration_dependencies=["server.units.piccolo_app"],
)
