"""Uploaded documents (evidence, inspection files): PDF, PNG or JPEG, judged by their first
bytes (never by their name), bounded in size, their name made safe to show and send back."""

from __future__ import annotations

from server.core.errors import ValidationFailed
from server.core.i18n import _

TYPES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
# below the request body limit (LUZHI_MAX_BODY_BYTES), so that the message is ours, not a bare 413
MAX_BYTES = 8 * 1024 * 1024
# files on one thing (an indicator, a checklist item, a finding)
MAX_FILES = 10
NAME_LENGTH = 200


def sniff(data: bytes) -> str | None:
    """The file's real type, from its first bytes."""
    return next((kind for magic, kind in TYPES.items() if data.startswith(magic)), None)


def check_file(data: bytes) -> str:
    """The type of an uploaded document; ValidationFailed on "file" when it is empty, too
    large or not a PDF, PNG or JPEG file."""
    if not data:
        raise ValidationFailed({"file": _("Choose a file to upload.")})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("The file is larger than %(size)d MB.", size=MAX_BYTES // (1024 * 1024))})
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed({"file": _("Evidence must be a PDF, PNG or JPEG file.")})
    return kind


def clean_filename(filename: str, default: str) -> str:
    """The name as shown and sent back in a download header: no path, no NUL, not too long."""
    return (filename.replace("\x00", "").replace("/", "_").replace("\\", "_").strip() or default)[-NAME_LENGTH:]
