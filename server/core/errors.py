"""The errors a service raises: what went wrong, in the reader's language, and the HTTP
status the web layer answers it with (services know no HTTP beyond that number)."""

from __future__ import annotations

from server.core.i18n import _


class LuzhiError(Exception):
    status_code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(LuzhiError):
    status_code = 404

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("Not found."))


class Forbidden(LuzhiError):
    status_code = 403

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("You do not have permission to do this."))


class Conflict(LuzhiError):
    """Refused as things stand; `errors` may name each reason (what is still missing)."""

    status_code = 409

    def __init__(self, message: str = "", errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class ValidationFailed(LuzhiError):
    """Bad input: one translated message per field."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SignInRequired(LuzhiError):
    """Pages send the visitor to sign in; the API answers 401."""

    status_code = 401

    def __init__(self, login_url: str) -> None:
        super().__init__(_("Please sign in to continue."))
        self.login_url = login_url


class ActionRequired(LuzhiError):
    """The account must do one thing first (choose its own password, enrol a second
    factor): pages go there, the API answers 403 saying what."""

    status_code = 403

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url


class TenantSuspended(LuzhiError):
    status_code = 403
