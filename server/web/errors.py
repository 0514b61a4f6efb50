"""How the domain errors (server.core.errors) become responses: JSON under /api, pages elsewhere."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.exceptions import ValidationException as LitestarValidation
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.core.errors import ActionRequired, Conflict, LuzhiError, SignInRequired, TenantSuspended, ValidationFailed
from server.core.i18n import _, _l


def is_api(request: Request) -> bool:
    return request.scope["path"].startswith("/api/")


class FieldError(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct):
    """What every API error answers (see _json): a message, and one per field when
    the input was wrong."""

    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


def _json(status: int, detail: str, errors: dict[str, str] | None = None) -> Response:
    body: dict = {"detail": detail}
    if errors:
        body["errors"] = [{"field": k, "message": v} for k, v in errors.items()]
    return Response(content=body, status_code=status, media_type="application/json")


def _page(request: Request, status: int, title: str, message: str, template: str = "errors/error.html"):
    edge = request.scope.get("state", {}).get("edge")
    tenant = edge.tenant if edge else None
    return Template(
        template_name=template,
        context={
            "status": status,
            "title": title,
            "message": message,
            "edge": edge,
            "tenant": tenant,
            "actor": edge.actor if edge else None,
            "csrf_token": edge.csrf_token if edge else "",
            "t": f"/t/{tenant.slug}" if tenant else "",
        },
        status_code=status,
        media_type=MediaType.HTML,
    )


TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Please check your input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}


def _message_for(status: int, exc: Exception) -> str:
    if isinstance(exc, LuzhiError) and exc.message:
        return exc.message
    return {
        401: _("Please sign in to continue."),
        403: _("You do not have permission to do this."),
        404: _("The page or record you asked for does not exist."),
        405: _("This action is not available here."),
        413: _("The upload or request is too large."),
        429: _("Too many requests; please wait and try again."),
    }.get(status, _("The request could not be processed."))


def handle_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired) and not is_api(request):
        return Redirect(exc.login_url, status_code=303)
    if isinstance(exc, ActionRequired) and not is_api(request):
        return Redirect(exc.url, status_code=303)
    if isinstance(exc, ValidationFailed):
        status, errors = 422, exc.errors
    elif isinstance(exc, Conflict):
        status, errors = 409, exc.errors
    elif isinstance(exc, LuzhiError):
        status, errors = exc.status_code, None
    elif isinstance(exc, LitestarValidation):
        status = _validation_status(exc)
        errors = None if status == 404 else _validation_errors(exc)
    elif isinstance(exc, HTTPException):
        status, errors = exc.status_code, None
    elif isinstance(exc, UnicodeDecodeError):
        # a multipart part without a filename that is not UTF-8: Litestar decodes it unguarded
        status, errors = 400, None
    else:
        request.logger.exception("unhandled error")
        status, errors = HTTP_500_INTERNAL_SERVER_ERROR, None
    message = _message_for(status, exc)
    if errors and not isinstance(exc, (ValidationFailed, Conflict)):
        message = _("Please check your input.")
    if is_api(request):
        return _json(status, message, errors)
    if isinstance(exc, TenantSuspended):
        return _page(request, status, _("Service suspended"), message, "errors/suspended.html")
    return _page(request, status, str(TITLES.get(status, TITLES[400])), message)


def _validation_errors(exc: LitestarValidation) -> dict[str, str]:
    """Litestar/msgspec decoding errors, re-said in the user's language per field."""
    errors: dict[str, str] = {}
    for item in exc.extra or []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "body").removeprefix("$.")
        raw = str(item.get("message", ""))
        if "required" in raw.lower() or "missing" in raw.lower():
            errors[key] = _("%(field)s is required.", field=key)
        else:
            errors[key] = _("%(field)s has an invalid value.", field=key)
    if not errors:
        errors["body"] = _("The request body is not valid JSON of the expected shape.")
    return errors


def _validation_status(exc: LitestarValidation) -> int:
    """A body that does not decode is a bad request (400); a query value out of range,
    input to check (422); a path that cannot name a record (a year past any
    calendar) names none (404)."""
    items = [item for item in exc.extra or [] if isinstance(item, dict)]
    sources = {getattr(item.get("source"), "value", item.get("source")) for item in items}
    if "body" in sources or not sources:
        return 400
    if "query" in sources:
        return 422
    return 404 if sources == {"path"} else 400


EXCEPTION_HANDLERS = {Exception: handle_error}

# what any operation may answer besides its success
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422)


def document_errors(handler: HTTPRouteHandler, path: str) -> None:
    """Declare in the OpenAPI document the errors every operation can answer, in the
    shape they really have: ErrorBody under /api, an error page elsewhere, where a
    page may also send the visitor on (303) to sign in or to the next page."""
    api = path.startswith("/api/")
    specs: dict[int, ResponseSpec] = {
        status: ResponseSpec(
            data_container=ErrorBody if api else str,
            description=HTTPStatus(status).phrase,
            media_type=MediaType.JSON if api else MediaType.HTML,
            generate_examples=False,
        )
        for status in ERROR_STATUSES
    }
    if not api:
        # a page answers in HTML (a form post: the next page, or the form again with its
        # messages) or sends the visitor on: to sign in, to the next page
        returns = handler.parsed_fn_signature.return_type
        shows_page = handler.media_type in ("", MediaType.JSON) and (
            returns.annotation is Any or returns.is_subclass_of(Response)
        )
        if handler.status_code != 200 or shows_page:
            specs[200] = ResponseSpec(str, description="OK", media_type=MediaType.HTML, generate_examples=False)
        specs[303] = ResponseSpec(data_container=None, description="See Other", generate_examples=False)
    handler.responses = {**specs, **(handler.responses or {})}
    if api and not (handler.opt or {}).get("public"):
        handler.security = [{"bearer": []}]
