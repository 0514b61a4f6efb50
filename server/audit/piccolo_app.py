from piccolo.conf.apps import AppConfig

from server.audit.tables import AuditDayHead, AuditEvent, AuditHead
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(ROOT / "migrations" / "audit"),
    table_classes=[AuditEvent, AuditHead, AuditDayHead],
    migration_dependencies=["tenants.piccolo_app"],
)
