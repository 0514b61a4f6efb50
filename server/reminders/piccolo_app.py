from piccolo.conf.apps import AppConfig

from server.reminders.tables import Delivery, NotifyPreference, NotifySettings, Reminder, ReminderRule, ReminderRun
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="reminders",
    migrations_folder_path=str(ROOT / "migrations" / "reminders"),
    table_classes=[ReminderRule, NotifySettings, NotifyPreference, ReminderRun, Reminder, Delivery],
    migration_dependencies=["server.accounts.piccolo_app", "server.units.piccolo_app"],
)
