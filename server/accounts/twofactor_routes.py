"""Pages of two-factor sign-in: enrolment from the account page, and the sign-in's second
step, which opens the session that a password alone opens for accounts without it."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from server.accounts import service as accounts
from server.accounts import twofactor
from server.audit import service as audit
from server.core.errors import ActionRequired
from server.core.i18n import _, _l
from server.web.deps import ActorDep, SettingsDep, TenantDep
from server.web.forms import form_data
from server.web.guards import actor_of, any_member
from server.web.handlers import named
from server.web.refusals import anonymous, remember_refusal
from server.web.templating import page
from server.web.urls import TENANT_PAGES

# an account that must enrol before anything else still reaches these (the edge's rule)
ENROLMENT = {"restricted_ok": True}
SIGN_IN = {"public": True, "restricted_ok": True}
PENDING_COOKIE = "luzhi_2fa"


# ---------------------------------------------------------------- sessions


async def start_session(request: Request, tenant: TenantDep, user: dict, target: str) -> Redirect:
    """Open the session of a completed sign-in (the old one of this browser ends) and go
    to `target`, a path already checked to be inside the tenant."""
    edge = request.state.edge
    await accounts.note_login(user)
    if edge.session is not None:
        await edge.sessions.delete(edge.session.key)
    edge.login(await edge.sessions.create(tenant_id=tenant.id, user_id=user["id"]))
    actor = accounts.actor_for(tenant, user, client=edge.client, agent=edge.agent)
    await audit.record(tenant.id, actor, "auth.login", "user", user["uuid"])
    if user["locale"]:
        edge.set_lang = user["locale"]
    return Redirect(target, status_code=303)


def begin_second_step(request: Request, tenant: TenantDep, settings: SettingsDep, user: dict, target: str) -> Redirect:
    """The password was right; remember that (signed, for five minutes, in this browser
    only) and ask for the code. `target` is where the completed sign-in goes."""
    edge = request.state.edge
    # base64url: cookie-safe, and nothing that a cookie parser would unquote
    target = base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")
    token = twofactor.pending_token(settings.secret_key, tenant.id, user["id"], f"{edge.csrf_token}|{target}")
    value = f"{token}.{target}"
    return Redirect(
        f"/t/{tenant.slug}/login/twofactor",
        status_code=303,
        cookies=[
            Cookie(
                key=PENDING_COOKIE,
                value=value,
                path=f"/t/{tenant.slug}/login",
                max_age=twofactor.PENDING_SECONDS,
                httponly=True,
                secure=edge.secure,
                samesite="lax",
            )
        ],
    )


def _pending(request: Request, tenant: TenantDep, settings: SettingsDep) -> tuple[int, str] | None:
    """(user id, target) of this browser's pending sign-in, if still valid."""
    token, _dot, target = request.cookies.get(PENDING_COOKIE, "").rpartition(".")
    if not token:
        return None
    # the token's MAC covers the browser and the target
    browser = request.state.edge.csrf_token
    user_id = twofactor.pending_user_id(settings.secret_key, tenant.id, token, f"{browser}|{target}")
    if user_id is None:
        return None
    return user_id, base64.urlsafe_b64decode(target + "=" * (-len(target) % 4)).decode()


# ---------------------------------------------------------------- refusals


def _remember(
    request: Request, tenant: TenantDep, actor: ActorDep, action: str, object_id: Any, exc: twofactor.Refused
) -> None:
    """Audit a refused step and, when it was a wrong password or code, count it towards the
    account's sign-in lock."""
    edge = request.state.edge
    keys = accounts.throttle_keys(str(tenant.id), actor.name, edge.client)
    remember_refusal(edge, keys, actor, action, object_id, reason=exc.reason, counts=exc.counts)


async def _locked(request: Request, tenant: TenantDep, username: str) -> twofactor.Refused | None:
    keys = accounts.throttle_keys(str(tenant.id), username, request.state.edge.client)
    message = await accounts.locked_message(keys)
    return twofactor.Refused({"code": message}, "locked") if message else None


# ---------------------------------------------------------------- enrolment


def own_password_first(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """Enrolment proves the person by their password: one set by an administrator (or
    expired) is replaced first, as the edge asks of every other page."""
    actor = actor_of(connection)
    if actor is not None and actor.restricted == "password":
        raise ActionRequired(
            f"/t/{connection.path_params['slug']}/account/password",
            _("Choose your own password first: the current one was set by an administrator or has expired."),
        )


async def _settings_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status_code: int = 200, **extra: Any
) -> Template:
    state = await twofactor.status(tenant, actor)
    return page(request, "accounts/twofactor.html", status_code, state=state, **extra)


# the changes of the account's two-factor settings: what each is audited as, the call that
# makes it (answering the new recovery codes, if any) and what the page says once it is made
CHANGES = {
    "enable": ("totp.enable", twofactor.enable, _l("Two-factor sign-in is on. Keep your recovery codes safe.")),
    "recovery-codes": (
        "totp.recovery_codes",
        twofactor.regenerate_recovery_codes,
        _l("New recovery codes are ready; the old ones no longer work."),
    ),
    "disable": ("totp.disable", twofactor.disable, _l("Two-factor sign-in is off.")),
}


def _change(step: str) -> HTTPRouteHandler:
    """The post of one change: the page again, saying it is made, or why it was refused."""
    action, change, notice = CHANGES[step]

    async def handler(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        data = await form_data(request)
        try:
            if refused := await _locked(request, tenant, actor.name):
                raise refused
            codes = await change(tenant, actor, data)
        except twofactor.Refused as exc:
            _remember(request, tenant, actor, action, actor.name, exc)
            return await _settings_page(request, tenant, actor, 422, errors=exc.errors)
        return await _settings_page(request, tenant, actor, recovery_codes=codes, notice=str(notice))

    name = f"twofactor_{step.replace('-', '_')}"
    return named(name, post(f"/account/twofactor/{step}", name=f"accounts.{name}"), handler)


class EnrolmentPages(Controller):
    path = TENANT_PAGES
    guards = [any_member, own_password_first]
    opt = ENROLMENT

    @get("/account/twofactor", opt={"writes": True}, name="accounts.twofactor")
    async def twofactor_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _settings_page(request, tenant, actor)

    twofactor_enable = _change("enable")
    twofactor_recovery_codes = _change("recovery-codes")
    twofactor_disable = _change("disable")


# ---------------------------------------------------------------- the sign-in's second step


def _expired(request: Request) -> Template:
    return page(
        request,
        "accounts/login.html",
        400,
        next="",
        problem=_("Your sign-in took too long or was interrupted. Please enter your password again."),
    )


class SecondStepPages(Controller):
    path = TENANT_PAGES
    opt = SIGN_IN

    @get("/login/twofactor", name="accounts.login_twofactor_form")
    async def login_twofactor_form(self, request: Request, tenant: TenantDep, settings: SettingsDep) -> Any:
        if actor_of(request) is not None:
            return Redirect(f"/t/{tenant.slug}/", status_code=303)
        if _pending(request, tenant, settings) is None:
            return Redirect(f"/t/{tenant.slug}/login", status_code=303)
        return page(request, "accounts/twofactor_login.html")

    @post("/login/twofactor", name="accounts.login_twofactor")
    async def login_twofactor(self, request: Request, tenant: TenantDep, settings: SettingsDep) -> Any:
        edge = request.state.edge
        pending = _pending(request, tenant, settings)
        user = await accounts.active_user(tenant, pending[0]) if pending else None
        if user is None or not user["totp_enabled"]:  # (reset meanwhile: the password alone will do)
            return _expired(request)
        data = await form_data(request)
        try:
            if refused := await _locked(request, tenant, user["username"]):
                raise refused
            actor = accounts.actor_for(tenant, user, client=edge.client, agent=edge.agent)
            await twofactor.second_step(tenant, actor, data)
        except twofactor.Refused as exc:
            _remember(request, tenant, anonymous(edge, user["username"]), "auth.totp", user["username"], exc)
            return page(request, "accounts/twofactor_login.html", 400, errors=exc.errors)
        await accounts.note_success(accounts.throttle_keys(str(tenant.id), user["username"], edge.client))
        response = await start_session(request, tenant, user, pending[1])
        response.delete_cookie(PENDING_COOKIE, path=f"/t/{tenant.slug}/login")
        return response


ROUTES = [EnrolmentPages, SecondStepPages]
