"""Field-by-field checking of raw input (form strings or JSON values), collecting
one translated message per field; nothing is written unless everything passes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from server.core.errors import NotFound, ValidationFailed
from server.core.i18n import LazyString, _

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# the field an empty change is refused under
CHANGES = "body"
MOBILE_RE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")
T = TypeVar("T")


class Checker:
    def __init__(self, data: dict[str, Any], labels: dict[str, LazyString]) -> None:
        self.data = data
        self.labels = labels
        self.errors: dict[str, str] = {}

    def label(self, field: str) -> str:
        return str(self.labels.get(field, field))

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def present(self, field: str) -> bool:
        return field in self.data

    def _raw(self, field: str) -> Any:
        value = self.data.get(field)
        # NUL cannot be stored in PostgreSQL text and is never meant: drop it
        return value.replace("\x00", "").strip() if isinstance(value, str) else value

    def text(self, field: str, *, required: bool = False, max_len: int = 200, default: str = "") -> str:
        value = self._raw(field)
        if value is None or value == "":
            if required:
                self.fail(field, _("%(field)s is required.", field=self.label(field)))
            return default
        if not isinstance(value, str):
            self.fail(field, _("%(field)s must be text.", field=self.label(field)))
            return default
        if len(value) > max_len:
            self.fail(
                field,
                _(
                    "%(field)s is too long (at most %(max)d characters).",
                    field=self.label(field),
                    max=max_len,
                ),
            )
        return value

    def choice(self, field: str, choices: dict[str, Any], *, required: bool = True, default: str = "") -> str:
        value = self._raw(field)
        if value is None or value == "":
            if required:
                self.fail(field, _("%(field)s is required.", field=self.label(field)))
            return default
        if value not in choices:
            self.fail(field, _("%(field)s is not one of the allowed values.", field=self.label(field)))
            return default
        return value

    def boolean(self, field: str, default: bool = False) -> bool:
        value = self._raw(field)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"1", "true", "on", "yes"}:
            return True
        if str(value).lower() in {"0", "false", "off", "no"}:
            return False
        self.fail(field, _("%(field)s must be yes or no.", field=self.label(field)))
        return default

    def integer(self, field: str, *, default: int = 0, minimum: int = -(2**31), maximum: int = 2**31 - 1) -> int:
        value = self._raw(field)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(field, _("%(field)s must be a whole number.", field=self.label(field)))
            return default
        if isinstance(value, bool) or not minimum <= number <= maximum:
            self.fail(field, _("%(field)s is out of range.", field=self.label(field)))
        return number

    def required_integer(self, field: str, maximum: int, outside: str) -> int | None:
        """A whole number that must be given, from 1 to `maximum` (None when it is not
        given); `outside`: the error for one beyond that, saying why it is the most."""
        if self.data.get(field) in (None, ""):
            self.fail(field, _("%(field)s is required.", field=self.label(field)))
            return None
        number = self.integer(field)
        if field not in self.errors and not 1 <= number <= maximum:
            self.fail(field, outside)
        return number

    def date(self, field: str, *, required: bool = False) -> date | None:
        value = self._raw(field)
        if value is None or value == "":
            if required:
                self.fail(field, _("%(field)s is required.", field=self.label(field)))
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(field, _("%(field)s must be a date like 2026-01-31.", field=self.label(field)))
            return None

    def uuid(self, field: str, *, required: bool = False) -> uuid.UUID | None:
        value = self._raw(field)
        if value is None or value == "":
            if required:
                self.fail(field, _("%(field)s is required.", field=self.label(field)))
            return None
        try:
            return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        except ValueError:
            self.fail(field, _("%(field)s is not a valid identifier.", field=self.label(field)))
            return None

    async def found(
        self, field: str, find: Callable[[uuid.UUID], Awaitable[T]], missing: str, *, required: bool = False
    ) -> T | None:
        """What the public id in `field` names, looked up by `find`; None when it is not
        given, or when `find` raises NotFound, which is this field's error `missing`."""
        public_id = self.uuid(field, required=required)
        if public_id is None:
            return None
        try:
            return await find(public_id)
        except NotFound:
            self.fail(field, missing)
            return None

    def email(self, field: str) -> str:
        value = self.text(field, max_len=254)
        if value and not EMAIL_RE.match(value):
            self.fail(field, _("%(field)s is not a valid email address.", field=self.label(field)))
        return value

    def mobile(self, field: str) -> str:
        value = self.text(field, max_len=32)
        if value and not MOBILE_RE.match(value):
            self.fail(field, _("%(field)s is not a valid phone number.", field=self.label(field)))
        return value

    def fields(self, readers: dict[str, Callable[[], Any]], *, partial: bool = False) -> dict[str, Any]:
        """Each field as its reader checks it, in order: all of them, or (`partial`: a
        change) only those given."""
        return {field: read() for field, read in readers.items() if not partial or self.present(field)}

    def changes(self, fields: Iterable[str]) -> None:
        """A change names at least one thing it changes: an empty one is refused,
        naming what it may hold, rather than written as nothing."""
        fields = list(fields)
        if not any(self.present(field) for field in fields):
            names = ", ".join(self.label(field) for field in fields)
            self.fail(CHANGES, _("Nothing to change: give at least one of %(fields)s.", fields=names))

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
