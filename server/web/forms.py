"""Small helpers shared by route modules: form and API bodies to plain dicts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.response import Redirect

from server.core.errors import ValidationFailed
from server.core.pagination import Page
from server.web.edge import CSRF_FIELD


async def form_data(request: Request) -> dict[str, Any]:
    """Form fields, the last value winning (a hidden "0" before a checkbox)."""
    form = await request.form()
    return {key: _clean(value) for key, value in form.items() if key != CSRF_FIELD}


def _clean(value: Any) -> Any:
    # NUL cannot be stored in PostgreSQL text and is never meant
    return value.replace("\x00", "") if isinstance(value, str) else value


def body_data(data: msgspec.Struct) -> dict[str, Any]:
    """The fields an API client actually sent (PATCH semantics)."""
    return {
        name: _clean(getattr(data, name)) for name in data.__struct_fields__ if getattr(data, name) is not msgspec.UNSET
    }


def page_json(page: Page) -> dict[str, Any]:
    return {
        "items": page.items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }


async def uploaded_file(request: Request, missing: str, field: str = "file") -> tuple[str, bytes]:
    """The name and bytes of a multipart upload, or the field's message when none was chosen."""
    upload = (await request.form()).get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed({field: missing})
    return upload.filename, await upload.read()


def file_response(content: bytes, media_type: str, name: str, *, inline: bool = False) -> Response:
    """A download; the name may hold any characters (RFC 6266 filename*)."""
    disposition = "inline" if inline else "attachment"
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"},
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def submit_form(
    request: Request,
    action: Callable[[dict[str, Any]], Awaitable[Any]],
    *,
    redirect: Callable[[Any], str],
    on_error: Callable[[dict[str, Any], dict[str, str]], Awaitable[Response]],
) -> Response:
    """A form post: run the service call and go on to `redirect(result)`, or show
    the form again with the messages of the fields that were wrong."""
    data = await form_data(request)
    try:
        result = await action(data)
    except ValidationFailed as exc:
        return await on_error(data, exc.errors)
    return Redirect(redirect(result), status_code=303)
