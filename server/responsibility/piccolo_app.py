from piccolo.conf.apps import AppConfig

from server.responsibility.tables import (
    Confirmation,
    ConfirmationWaiver,
    Duty,
    DutyAssignment,
    DutyCatalog,
    Notice,
    NoticeTemplate,
    Signature,
    SignCode,
)
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="responsibility",
    migrations_folder_path=str(ROOT / "migrations" / "responsibility"),
    table_classes=[
        DutyCatalog,
        Duty,
        DutyAssignment,
        NoticeTemplate,
        Notice,
        Signature,
        Confirmation,
        SignCode,
        ConfirmationWaiver,
    ],
    migration_dependencies=["server.units.piccolo_app"],
)
