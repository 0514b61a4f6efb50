"""The /platform console for operators: sign-in, tenants, suspension."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.accounts import service as accounts
from server.audit import service as audit
from server.core.errors import Conflict, ValidationFailed
from server.platform import service
from server.web.deps import ActorDep
from server.web.forms import form_data
from server.web.guards import actor_of, platform_operator
from server.web.refusals import refused_sign_in
from server.web.templating import page
from tenants import service as tenants


class SignInPages(Controller):
    path = "/platform"
    opt = {"public": True}

    @get("/login", name="platform.login_form")
    async def login_form(self, request: Request) -> Any:
        if actor_of(request) is not None:
            return Redirect("/platform", status_code=303)
        return page(request, "platform/login.html")

    @post("/login", name="platform.login")
    async def login(self, request: Request) -> Any:
        edge = request.state.edge
        data = await form_data(request)
        username = str(data.get("username", ""))[:64]
        keys = accounts.throttle_keys("platform", username, edge.client)
        operator = await service.operator_by_name(username)
        result = await accounts.check_credentials(operator, str(data.get("password", ""))[:200], keys)
        if result.refused:
            refused_sign_in(edge, keys, username, result)
            return page(request, "platform/login.html", 400, username=username, problem=result.refused)
        await accounts.note_success(keys)
        if edge.session is not None:
            await edge.sessions.delete(edge.session.key)
        edge.login(await edge.sessions.create(operator_id=operator["id"]))
        return Redirect("/platform", status_code=303)

    @post("/logout", name="platform.logout")
    async def logout(self, request: Request) -> Redirect:
        edge = request.state.edge
        if edge.session is not None:
            await edge.sessions.delete(edge.session.key)
        edge.logout()
        return Redirect("/platform/login", status_code=303)


async def _console(request: Request, status: int = 200, **extra: Any) -> Template:
    events, _total = await audit.events(None, limit=20)
    return page(request, "platform/index.html", status, tenants=await tenants.list_tenants(), events=events, **extra)


class ConsolePages(Controller):
    path = "/platform"
    guards = [platform_operator]
    opt = {"platform": True}

    @get("/", name="platform.index")
    async def console(self, request: Request) -> Template:
        return await _console(request)

    @post("/tenants", name="platform.tenant_create")
    async def tenant_create(self, request: Request, actor: ActorDep) -> Any:
        data = await form_data(request)
        try:
            ref, passwords = await service.create_tenant_with_administrators(actor, data)
        except ValidationFailed as exc:
            return await _console(request, 422, form=data, errors=exc.errors)
        except Conflict as exc:
            return await _console(request, 409, form=data, errors={"slug": exc.message})
        # shown once, here: the passwords are temporary and stored only as hashes
        return await _console(request, 201, created=ref, administrators=passwords)

    @post("/tenants/{tenant_slug:str}/status", name="platform.tenant_status")
    async def tenant_status(self, request: Request, actor: ActorDep, tenant_slug: FromPath[str]) -> Redirect:
        data = await form_data(request)
        status = "suspended" if data.get("status") == "suspended" else "active"
        await service.set_tenant_status(actor, tenant_slug, status)
        return Redirect("/platform", status_code=303)


ROUTES = [SignInPages, ConsolePages]
