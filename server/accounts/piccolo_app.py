from piccolo.conf.apps import AppConfig

from server.accounts.tables import (
    ApiToken,
    LoginThrottle,
    PasswordHistory,
    SecurityPolicy,
    TotpRecoveryCode,
    TotpSecret,
    User,
    WebSession,
)
from server.settings import ROOT

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(ROOT / "migrations" / "accounts"),
    table_classes=[
        User,
        ApiToken,
        WebSession,
        LoginThrottle,
        PasswordHistory,
        SecurityPolicy,
        TotpSecret,
        TotpRecoveryCode,
    ],
    migration_dependencies=["server.units.piccolo_app"],
)
