"""The /platform console for operators: sign-in, tenants, suspension."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.accounts import service as accounts
from server.accounts.routes import remember_refusal
from server.audit import service as audit
from server.core.errors import Conflict, ValidationFailed
from server.platform import service
from server.web.forms import form_data
from server.web.guards import platform_operator
from server.web.templating import page
from tenants import service as tenants

PLATFORM = {"platform": True}


@get("/platform/login", opt={"public": True}, name="platform.login_form")
async def login_form(request: Request) -> Any:
    if request.state.edge.actor is not None:
        return Redirect("/platform", status_code=303)
    return page(request, "platform/login.html")


@post("/platform/login", opt={"public": True}, name="platform.login")
async def login(request: Request) -> Any:
    edge = request.state.edge
    data = await form_data(request)
    username = str(data.get("username", ""))[:64]
    keys = accounts.throttle_keys("platform", username, edge.client)
    operator = await service.operator_by_name(username)
    result = await accounts.check_credentials(operator, str(data.get("password", ""))[:200], keys)
    if result.refused:
        remember_refusal(edge, keys, result, None, username)
        return page(request, "platform/login.html", 400, username=username, problem=result.refused)
    await accounts.note_success(keys)
    if edge.session is not None:
        await edge.sessions.delete(edge.session.key)
    edge.login(await edge.sessions.create(operator_id=operator["id"]))
    return Redirect("/platform", status_code=303)


@post("/platform/logout", opt={"public": True}, name="platform.logout")
async def logout(request: Request) -> Redirect:
    edge = request.state.edge
    if edge.session is not None:
        await edge.sessions.delete(edge.session.key)
    edge.logout()
    return Redirect("/platform/login", status_code=303)


async def _console(request: Request, status: int = 200, **extra: Any) -> Template:
    events, _total = await audit.events(None, limit=20)
    return page(request, "platform/index.html", status, tenants=await tenants.list_tenants(), events=events, **extra)


@get("/platform", guards=[platform_operator], opt=PLATFORM, name="platform.index")
async def console(request: Request) -> Template:
    return await _console(request)


@post("/platform/tenants", guards=[platform_operator], opt=PLATFORM, name="platform.tenant_create")
async def tenant_create(request: Request) -> Any:
    data = await form_data(request)
    try:
        ref, passwords = await service.create_tenant_with_administrators(request.state.edge.actor, data)
    except ValidationFailed as exc:
        return await _console(request, 422, form=data, errors=exc.errors)
    except Conflict as exc:
        return await _console(request, 409, form=data, errors={"slug": exc.message})
    # shown once, here: the passwords are temporary and stored only as hashes
    return await _console(request, 201, created=ref, administrators=passwords)


@post(
    "/platform/tenants/{tenant_slug:str}/status",
    guards=[platform_operator],
    opt=PLATFORM,
    name="platform.tenant_status",
)
async def tenant_status(request: Request, tenant_slug: FromPath[str]) -> Redirect:
    data = await form_data(request)
    status = "suspended" if data.get("status") == "suspended" else "active"
    await service.set_tenant_status(request.state.edge.actor, tenant_slug, status)
    return Redirect("/platform", status_code=303)


ROUTES = [login_form, login, logout, console, tenant_create, tenant_status]
