"""Handlers made by a function: a family of routes alike but for a few values (the steps
of a score, the security administrator's actions on an account), written once; and the
three shapes most handlers have, each written once here (`handler`, when given, is the
handler's own name, which OpenAPI makes the operation's summary and id; by default the
route's name):

- `show_page`: a page of what the path names, `show(request, tenant, actor, *ids)`;
- `post_form`: a form posted to one service call, `action(tenant, actor, *ids, fields)`,
  then on to a page of the tenant, or the form shown again with its messages;
- `api_call`: an API operation that is one service call, `action(tenant, actor, *ids[, body])`,
  answered in its schema.

`ids` are the values of the route's own path parameters, in the order the path names them
(the tenant's slug, which the controller's path holds, aside). `template_page` makes the
`show` of a page that is a template and what the path names; `list_page` is the page of a
list with filters, which many pages show."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody
from litestar.response import Template

from server.actor import Actor
from server.core.errors import ValidationFailed
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, paging, show_again, show_refusal, submit_form
from server.web.templating import page
from tenants.service import TenantRef

# shows a page: (request, tenant, actor, *ids, status=200, **context)
Show = Callable[..., Awaitable[Response]]
# a service call: (tenant, actor, *ids, ...) -> what it made or changed
Action = Callable[..., Awaitable[Any]]
_PARAM = re.compile(r"{(\w+):\w+}")


def named(name: str, route: Callable[[Any], HTTPRouteHandler], fn: Callable[..., Any]) -> HTTPRouteHandler:
    """`fn` made the handler of `route` (a decorator such as `post(...)`) under `name`, as
    if written out: the name is the route's OpenAPI summary and operation id."""
    fn.__name__ = fn.__qualname__ = name
    return route(fn)


def path_ids(path: str, taker: Callable[..., Any] | None = None) -> Callable[[Request], list[Any]]:
    """The values of the path's parameters in a request, in the path's order; of those a
    `taker` names, when one is given (the page of an item shown again from a form on one
    of its parts)."""
    names = _PARAM.findall(path)
    if taker is not None:
        names = [n for n in names if n in inspect.signature(taker).parameters]
    return lambda request: [request.path_params[n] for n in names]


def _place(then: str | Callable[..., str], result: Any, params: dict[str, Any]) -> str:
    return then.format(**params, result=result) if isinstance(then, str) else then(result, **params)


def _arguments(show: Show, path: str) -> Callable[[Request, TenantRef, Actor], list[Any]]:
    """What `show` is called with: the request, the tenant, the actor when it names one,
    the path's parameters it names."""
    takes_actor = "actor" in inspect.signature(show).parameters
    ids = path_ids(path, show)
    return lambda request, tenant, actor: [request, tenant, *([actor] if takes_actor else []), *ids(request)]


def _handler_name(route_name: str, handler: str) -> str:
    return handler or route_name.replace(".", "_")


def without_fields(action: Action) -> Action:
    """A service call that takes no fields, as `post_form` calls it: the form's fields
    left out (a button: approve, close, apply)."""
    return lambda *args: action(*args[:-1])


def template_page(template: str, *ids: str, **context: Any) -> Show:
    """The `show` of a page of `template` about what the path's parameters `ids` name:
    `show(request, tenant, actor, *ids, status=200, **extra)` shows `context` and `extra`;
    a function in `context` is a service call, `call(tenant, actor, *ids)`, and the page
    shows what it gives."""

    async def show(request: Request, tenant: TenantRef, actor: Actor, *args: Any, **extra: Any) -> Template:
        values, status = args[: len(ids)], args[len(ids)] if len(args) > len(ids) else 200
        shown = {k: await v(tenant, actor, *values) if callable(v) else v for k, v in context.items()}
        return page(request, template, status, **shown, **extra)

    # the ids by name, as show_page and post_form read them
    names = ("request", "tenant", "actor", *ids)
    show.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    return show


async def list_page(
    request: Request,
    template: str,
    read: Callable[[dict[str, Any], int, int], Awaitable[Any]],
    query: dict[str, Any],
    **context: Any,
) -> Template:
    """The page of a list: the page the request asks for of what `read(query, page,
    per_page)` finds, as `result`, with the filters as `form`; filters the service refuses,
    the list without them and their messages (422)."""
    p, n = paging(request)
    try:
        result, errors = await read(query, p, n), {}
    except ValidationFailed as exc:
        result, errors = await read({}, p, n), exc.errors
    return page(request, template, 422 if errors else 200, result=result, form=query, errors=errors, **context)


def show_page(path: str, show: Show, *, name: str, handler: str = "", **options: Any) -> HTTPRouteHandler:
    """A page of what `path` names: `show(request, tenant, actor, *ids)` (of the actor and
    the ids, those it names). `options` go to Litestar's `get` (guards, opt, …)."""
    arguments = _arguments(show, path)

    async def shown(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await show(*arguments(request, tenant, actor))

    return named(_handler_name(name, handler), get(path, name=name, **options), shown)


def post_form(
    path: str,
    action: Action,
    *,
    name: str,
    then: str | Callable[..., str],
    again: Show | None = None,
    refused: Show | None = None,
    focus: str | Callable[[dict[str, Any]], str] = "",
    fields: Callable[[dict[str, Any]], Any] | None = None,
    handler: str = "",
    **options: Any,
) -> HTTPRouteHandler:
    """A form posted to `action(tenant, actor, *ids, fields)`, then on to `then`: a place
    of the tenant's pages formatted with the path's parameters and the action's `result`
    ("training/courses/{result[id]}"), or made by `then(result, **parameters)`. Wrong
    fields show `again` (called as `show_page` calls its page) with the fields and their
    messages; a refusal shows `refused` with the problem (without them, the error page says
    what went wrong). `focus` is the form to open again with the fields: formatted with the path's
    parameters, or a function of the fields. `fields`, when the service takes them in
    another shape, makes that of the fields."""
    ids, names = path_ids(path), _PARAM.findall(path)
    again_args = _arguments(again, path) if again else None
    refused_args = _arguments(refused, path) if refused else None

    async def posted(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        values = ids(request)
        params = dict(zip(names, values, strict=True))
        opened = {"focus": focus.format(**params) if isinstance(focus, str) else focus} if focus else {}
        return await submit_form(
            request,
            lambda data: action(tenant, actor, *values, fields(data) if fields else data),
            redirect=lambda result: f"/t/{tenant.slug}/" + _place(then, result, params),
            on_error=again and show_again(again, *again_args(request, tenant, actor), **opened),
            on_refusal=refused and show_refusal(refused, *refused_args(request, tenant, actor)),
        )

    return named(_handler_name(name, handler), post(path, name=name, **options), posted)


def api_call(
    route: Callable[..., HTTPRouteHandler],
    path: str,
    action: Action,
    *,
    name: str,
    answer: Any,
    body: type[msgspec.Struct] | None = None,
    handler: str = "",
    **options: Any,
) -> HTTPRouteHandler:
    """An API operation (`route`: Litestar's `get`, `post`, …) that is one service call,
    `action(tenant, actor, *ids)`, or with a `body`, `action(tenant, actor, *ids, fields
    sent)`; answered as `answer` (a schema, or a list of one)."""
    ids = path_ids(path)

    async def called(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        return msgspec.convert(await action(tenant, actor, *ids(request)), answer)

    async def called_with_body(self, request: Request, tenant: TenantDep, actor: ActorDep, data: Any) -> Any:
        return msgspec.convert(await action(tenant, actor, *ids(request), body_data(data)), answer)

    made = called if body is None else called_with_body
    # the body and the answer where Litestar (and so the OpenAPI document) reads them
    made.__annotations__ |= {"return": answer} | ({} if body is None else {"data": JSONBody[body]})
    return named(_handler_name(name, handler), route(path, name=name, **options), made)
