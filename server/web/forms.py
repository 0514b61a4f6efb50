"""Small helpers shared by route modules: form and API bodies to plain dicts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.response import Redirect

from server.core.errors import Conflict, ValidationFailed
from server.core.pagination import Page, page_args
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


def paging(request: Request) -> tuple[int, int]:
    """The page number and size the query asks for (leniently: see page_args)."""
    return page_args(request.query_params.get("page"), request.query_params.get("per_page"))


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
    return await read_upload((await request.form()).get(field), missing, field)


async def read_upload(upload: Any, missing: str, field: str = "file") -> tuple[str, bytes]:
    """The same, of the value a form's field holds."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed({field: missing})
    return upload.filename, await upload.read()


def file_response(content: bytes, media_type: str, name: str, *, inline: bool = False, fallback: str = "") -> Response:
    """A download; the name may hold any characters (RFC 6266 filename*), the ASCII
    fallback (plain filename) is for clients that read no filename*."""
    disposition = "inline" if inline else "attachment"
    if fallback:
        disposition += f'; filename="{fallback}"'
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"},
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# what a form post does with the fields it was sent; how it shows the page again when they
# were wrong (the fields as sent, their messages), or when the action was refused (why)
FormAction = Callable[[dict[str, Any]], Awaitable[Any]]
OnError = Callable[[dict[str, Any], dict[str, str]], Awaitable[Response]]
OnRefusal = Callable[[str], Awaitable[Response]]


def show_again(show: Callable[..., Awaitable[Response]], *args: Any, **context: Any) -> OnError:
    """The usual `on_error`: `show(*args, 422, form=..., errors=..., **context)`. A `focus`
    (the element to scroll back to) may be a function of the fields as sent: which of the
    page's forms failed."""

    async def on_error(data: dict[str, Any], errors: dict[str, str]) -> Response:
        focus = context.get("focus")
        shown = context | {"focus": focus(data)} if callable(focus) else context
        return await show(*args, 422, form=data, errors=errors, **shown)

    return on_error


def show_refusal(show: Callable[..., Awaitable[Response]], *args: Any, **context: Any) -> OnRefusal:
    """The usual `on_refusal`: `show(*args, 409, problem=..., **context)`."""

    async def on_refusal(problem: str) -> Response:
        return await show(*args, 409, problem=problem, **context)

    return on_refusal


async def submit_form(
    request: Request,
    action: FormAction,
    *,
    redirect: Callable[[Any], str],
    on_error: OnError | None = None,
    on_refusal: OnRefusal | None = None,
) -> Response:
    """A form post: run the service call and go on to `redirect(result)`; or, when the
    fields were wrong, `on_error`, and when the action was refused (a conflict),
    `on_refusal`. Without one, the error page says what went wrong."""
    data = await form_data(request)
    try:
        result = await action(data)
    except ValidationFailed as exc:
        if on_error is None:
            raise
        return await on_error(data, exc.errors)
    except Conflict as exc:
        if on_refusal is None:
            raise
        return await on_refusal(exc.message)
    return Redirect(redirect(result), status_code=303)
