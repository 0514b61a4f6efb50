"""Pages of two-factor sign-in: enrolment from the account page, and the sign-in's second
step, which opens the session that a password alone opens for accounts without it."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from server.accounts import service as accounts
from server.accounts import twofactor
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import ActionRequired
from server.core.i18n import _
from server.web.forms import form_data
from server.web.guards import actor_of, any_member
from server.web.templating import page

T = "/t/{slug:str}"
# an account that must enrol before anything else still reaches these (the edge's rule)
ENROLMENT = {"restricted_ok": True}
SIGN_IN = {"public": True, "restricted_ok": True}
PENDING_COOKIE = "luzhi_2fa"


# ---------------------------------------------------------------- sessions


async def start_session(request: Request, user: dict, target: str) -> Redirect:
    """Open the session of a completed sign-in (the old one of this browser ends) and go
    to `target`, a path already checked to be inside the tenant."""
    edge = request.state.edge
    tenant = edge.tenant
    await accounts.note_login(user)
    if edge.session is not None:
        await edge.sessions.delete(edge.session.key)
    edge.login(await edge.sessions.create(tenant_id=tenant.id, user_id=user["id"]))
    actor = accounts.actor_for(tenant, user, client=edge.client, agent=edge.agent)
    await audit.record(tenant.id, actor, "auth.login", "user", user["uuid"])
    if user["locale"]:
        edge.set_lang = user["locale"]
    return Redirect(target, status_code=303)


def begin_second_step(request: Request, user: dict, target: str) -> Redirect:
    """The password was right; remember that (signed, for five minutes, in this browser
    only) and ask for the code. `target` is where the completed sign-in goes."""
    edge = request.state.edge
    # base64url: cookie-safe, and nothing that a cookie parser would unquote
    target = base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")
    token = twofactor.pending_token(edge.settings.secret_key, edge.tenant.id, user["id"], f"{edge.csrf_token}|{target}")
    value = f"{token}.{target}"
    return Redirect(
        f"/t/{edge.tenant.slug}/login/twofactor",
        status_code=303,
        cookies=[
            Cookie(
                key=PENDING_COOKIE,
                value=value,
                path=f"/t/{edge.tenant.slug}/login",
                max_age=twofactor.PENDING_SECONDS,
                httponly=True,
                secure=edge.secure,
                samesite="lax",
            )
        ],
    )


def _pending(request: Request) -> tuple[int, str] | None:
    """(user id, target) of this browser's pending sign-in, if still valid."""
    edge = request.state.edge
    token, _dot, target = request.cookies.get(PENDING_COOKIE, "").rpartition(".")
    if not token:
        return None
    # the token's MAC covers the browser and the target
    user_id = twofactor.pending_user_id(edge.settings.secret_key, edge.tenant.id, token, f"{edge.csrf_token}|{target}")
    if user_id is None:
        return None
    return user_id, base64.urlsafe_b64decode(target + "=" * (-len(target) % 4)).decode()


# ---------------------------------------------------------------- refusals


def _remember(request: Request, actor: Actor, action: str, object_id: Any, exc: twofactor.Refused) -> None:
    """Audit a refused step and, when it was a wrong password or code, count it towards the
    account's sign-in lock, although the request itself rolls back."""
    edge = request.state.edge
    tenant_id = edge.tenant.id
    keys = accounts.throttle_keys(str(tenant_id), actor.name, edge.client)

    async def write() -> None:
        locked = exc.counts and await accounts.note_failure(keys, edge.settings)
        await audit.record(tenant_id, actor, action, "user", object_id, outcome="denied", detail={"reason": exc.reason})
        if locked:
            await audit.record(tenant_id, actor, "auth.lock", "user", actor.name, outcome="denied")

    edge.after.append(write)


async def _locked(request: Request, username: str) -> twofactor.Refused | None:
    edge = request.state.edge
    message = await accounts.locked_message(accounts.throttle_keys(str(edge.tenant.id), username, edge.client))
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


ENROL_GUARDS = [any_member, own_password_first]


async def _settings_page(request: Request, status_code: int = 200, **extra: Any) -> Template:
    edge = request.state.edge
    state = await twofactor.status(edge.tenant, edge.actor)
    return page(request, "accounts/twofactor.html", status_code, state=state, **extra)


@get(f"{T}/account/twofactor", guards=ENROL_GUARDS, opt={**ENROLMENT, "writes": True}, name="accounts.twofactor")
async def twofactor_page(request: Request) -> Template:
    return await _settings_page(request)


async def _change(request: Request, action: str, change) -> tuple[Any, Template | None]:
    """Run one change of the account's two-factor settings; on refusal, the page again."""
    edge = request.state.edge
    data = await form_data(request)
    try:
        if refused := await _locked(request, edge.actor.name):
            raise refused
        return await change(edge.tenant, edge.actor, data), None
    except twofactor.Refused as exc:
        _remember(request, edge.actor, action, edge.actor.name, exc)
        return None, await _settings_page(request, 422, errors=exc.errors)


@post(f"{T}/account/twofactor/enable", guards=ENROL_GUARDS, opt=ENROLMENT, name="accounts.twofactor_enable")
async def twofactor_enable(request: Request) -> Template:
    codes, refused = await _change(request, "totp.enable", twofactor.enable)
    return refused or await _settings_page(
        request, recovery_codes=codes, notice=_("Two-factor sign-in is on. Keep your recovery codes safe.")
    )


@post(
    f"{T}/account/twofactor/recovery-codes",
    guards=ENROL_GUARDS,
    opt=ENROLMENT,
    name="accounts.twofactor_recovery_codes",
)
async def twofactor_recovery_codes(request: Request) -> Template:
    codes, refused = await _change(request, "totp.recovery_codes", twofactor.regenerate_recovery_codes)
    return refused or await _settings_page(
        request, recovery_codes=codes, notice=_("New recovery codes are ready; the old ones no longer work.")
    )


@post(f"{T}/account/twofactor/disable", guards=ENROL_GUARDS, opt=ENROLMENT, name="accounts.twofactor_disable")
async def twofactor_disable(request: Request) -> Template:
    _none, refused = await _change(request, "totp.disable", twofactor.disable)
    return refused or await _settings_page(request, notice=_("Two-factor sign-in is off."))


# ---------------------------------------------------------------- the sign-in's second step


def _expired(request: Request) -> Template:
    return page(
        request,
        "accounts/login.html",
        400,
        next="",
        problem=_("Your sign-in took too long or was interrupted. Please enter your password again."),
    )


@get(f"{T}/login/twofactor", opt=SIGN_IN, name="accounts.login_twofactor_form")
async def login_twofactor_form(request: Request) -> Any:
    edge = request.state.edge
    if edge.actor is not None:
        return Redirect(f"/t/{edge.tenant.slug}/", status_code=303)
    if _pending(request) is None:
        return Redirect(f"/t/{edge.tenant.slug}/login", status_code=303)
    return page(request, "accounts/twofactor_login.html")


@post(f"{T}/login/twofactor", opt=SIGN_IN, name="accounts.login_twofactor")
async def login_twofactor(request: Request) -> Any:
    edge = request.state.edge
    tenant = edge.tenant
    pending = _pending(request)
    user = await accounts.active_user(tenant, pending[0]) if pending else None
    if user is None or not user["totp_enabled"]:  # (reset meanwhile: the password alone will do)
        return _expired(request)
    data = await form_data(request)
    anonymous = Actor(kind="anonymous", name=user["username"], client_addr=edge.client, user_agent=edge.agent)
    try:
        if refused := await _locked(request, user["username"]):
            raise refused
        actor = accounts.actor_for(tenant, user, client=edge.client, agent=edge.agent)
        await twofactor.second_step(tenant, actor, data)
    except twofactor.Refused as exc:
        _remember(request, anonymous, "auth.totp", user["username"], exc)
        return page(request, "accounts/twofactor_login.html", 400, errors=exc.errors)
    await accounts.note_success(accounts.throttle_keys(str(tenant.id), user["username"], edge.client))
    response = await start_session(request, user, pending[1])
    response.delete_cookie(PENDING_COOKIE, path=f"/t/{tenant.slug}/login")
    return response


ROUTES = [
    twofactor_page,
    twofactor_enable,
    twofactor_recovery_codes,
    twofactor_disable,
    login_twofactor_form,
    login_twofactor,
]
