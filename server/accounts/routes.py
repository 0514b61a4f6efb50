"""Sign-in, the home page, the account page, user administration and tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server import roles
from server.accounts import policy, schemas, twofactor, twofactor_routes
from server.accounts import service as accounts
from server.actor import Actor
from server.assessment import results as assessments
from server.audit import service as audit
from server.core import i18n
from server.core.errors import ValidationFailed
from server.reminders import service as reminders
from server.units import service as units
from server.web.deps import ActorDep, SettingsDep, TenantDep
from server.web.forms import body_data, form_data, show_again, submit_form
from server.web.guards import actor_of, allow, any_member
from server.web.handlers import named
from server.web.refusals import refused_sign_in
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES
from tenants.service import TenantRef

READERS = allow(roles.ACCOUNT_READERS)
CREATORS = allow(roles.ACCOUNT_CREATORS)
SECURITY = allow(roles.SECURITY_ADMIN)
# what an account that must first choose its password may still reach
FIRST_THINGS = {"restricted_ok": True}


def _safe_next(slug: str, target: str | None) -> str:
    home = f"/t/{slug}/"
    if target and target.startswith(home) and "//" not in target[1:] and "\\" not in target:
        return target
    return home


# ---------------------------------------------------------------- sign-in


class SignInPages(Controller):
    path = TENANT_PAGES
    opt = {"public": True}

    @get("/login", name="accounts.login_form")
    async def login_form(self, request: Request, tenant: TenantDep, next: FromQuery[str] = "") -> Any:
        if actor_of(request) is not None:
            return Redirect(_safe_next(tenant.slug, next), status_code=303)
        return page(request, "accounts/login.html", next=next)

    @post("/login", name="accounts.login")
    async def login(self, request: Request, tenant: TenantDep, settings: SettingsDep) -> Any:
        edge = request.state.edge
        data = await form_data(request)
        username = str(data.get("username", ""))[:64]
        password = str(data.get("password", ""))[:200]
        target = str(data.get("next", ""))
        keys = accounts.throttle_keys(str(tenant.id), username, edge.client)
        result = await accounts.sign_in(tenant, username, password, keys)
        if result.refused:
            refused_sign_in(edge, keys, username, result)
            return page(request, "accounts/login.html", 400, next=target, username=username, problem=result.refused)
        user = result.user
        target = _safe_next(tenant.slug, target)
        if user["totp_enabled"]:
            # no session before the second factor; until then failures keep counting
            return twofactor_routes.begin_second_step(request, tenant, settings, user, target)
        await accounts.note_success(keys)
        return await twofactor_routes.start_session(request, tenant, user, target)

    @post("/logout", name="accounts.logout")
    async def logout(self, request: Request, tenant: TenantDep) -> Redirect:
        edge = request.state.edge
        if edge.session is not None:
            await edge.sessions.delete(edge.session.key)
            if edge.actor is not None:
                await audit.record(tenant.id, edge.actor, "auth.logout", "user", edge.actor.id)
        edge.logout()
        return Redirect(f"/t/{tenant.slug}/login", status_code=303)


# ---------------------------------------------------------------- home and the own account


async def _account_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any
) -> Template:
    tokens = await accounts.list_tokens(tenant, actor.id)
    return page(request, "accounts/account.html", status, tokens=tokens, locales=i18n.LOCALE_NAMES, **extra)


async def _outbox(tenant: TenantRef, actor: Actor) -> tuple[str, dict | None]:
    """The office's mail of the last seven days, and their first day. Mail goes out without
    an audit event, so the kept home page (web/kept.py) holds these in its key."""
    week = datetime.now(UTC) - timedelta(days=7)
    outbox = await reminders.outbox_summary(tenant, since=week) if actor.role == roles.OFFICE_ADMIN else None
    return week.date().isoformat(), outbox


class AccountPages(Controller):
    path = TENANT_PAGES
    guards = [any_member]

    @get("/", name="home", opt={"kept": _outbox})
    async def home(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        if actor.role == roles.LEADER:
            return Redirect(f"/t/{tenant.slug}/me", status_code=303)
        summary = await units.registry_summary(tenant, actor) if actor.role in roles.REGISTRY_READERS else None
        scoring = await assessments.home_summary(tenant, actor) if actor.role in assessments.READERS else None
        since, outbox = await _outbox(tenant, actor)
        return page(
            request,
            "home.html",
            summary=summary,
            assessment=scoring,
            unit_statuses=assessments.UNIT_STATUSES,
            outbox=outbox,
            since=since,
            pending_accounts=await accounts.pending_count(tenant) if actor.role == roles.SECURITY_ADMIN else 0,
        )

    @get("/account", name="accounts.account")
    async def account_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _account_page(request, tenant, actor)

    @post("/account/locale", name="accounts.locale", opt=FIRST_THINGS)
    async def account_locale(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        data = await form_data(request)
        try:
            locale = await accounts.set_locale(tenant, actor, data)
        except ValidationFailed as exc:
            return await _account_page(request, tenant, actor, 422, errors=exc.errors)
        request.state.edge.set_lang = locale
        return Redirect(_safe_next(tenant.slug, str(data.get("next", "")) or None), status_code=303)

    @get("/account/password", name="accounts.password_form", opt=FIRST_THINGS)
    async def account_password_form(self, request: Request) -> Template:
        return page(request, "accounts/password.html")

    @post("/account/password", name="accounts.password", opt=FIRST_THINGS)
    async def account_password(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        edge = request.state.edge
        forced = actor.restricted == "password"
        try:
            await accounts.change_password(tenant, actor, await form_data(request))
        except ValidationFailed as exc:
            if forced:
                return page(request, "accounts/password.html", 422, errors=exc.errors)
            return await _account_page(request, tenant, actor, 422, errors=exc.errors)
        # other sessions of this user end; this one continues under a new id
        await edge.sessions.delete_for_user(actor.id)
        edge.login(await edge.sessions.create(tenant_id=tenant.id, user_id=actor.id))
        if forced:
            return Redirect(f"/t/{tenant.slug}/", status_code=303)
        return await _account_page(request, tenant, actor, notice=i18n._("Your password has been changed."))

    @post("/account/tokens", name="accounts.token_create")
    async def account_token_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        try:
            _token, raw = await accounts.create_token(tenant, actor, actor.id, await form_data(request))
        except ValidationFailed as exc:
            return await _account_page(request, tenant, actor, 422, errors=exc.errors)
        return await _account_page(request, tenant, actor, new_token=raw)

    @post("/account/tokens/{token_id:str}/revoke", name="accounts.token_revoke")
    async def account_token_revoke(self, tenant: TenantDep, actor: ActorDep, token_id: FromPath[str]) -> Redirect:
        await accounts.revoke_token(tenant, actor, token_id)
        return Redirect(f"/t/{tenant.slug}/account", status_code=303)


class AccountApi(Controller):
    path = TENANT_API
    guards = [any_member]

    @get("/me", name="api.me")
    async def api_me(self, tenant: TenantDep, actor: ActorDep) -> schemas.Me:
        me = {
            "user": await accounts.own_user(tenant, actor),
            "person": await units.own_person(tenant, actor),
            "tenant": {"slug": tenant.slug, "name": tenant.name},
        }
        return msgspec.convert(me, schemas.Me)

    @get("/tokens", name="api.tokens.list")
    async def api_tokens(self, tenant: TenantDep, actor: ActorDep) -> list[schemas.Token]:
        return msgspec.convert(await accounts.list_tokens(tenant, actor.id), list[schemas.Token])

    @post("/tokens", status_code=HTTP_201_CREATED, name="api.tokens.create")
    async def api_token_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.TokenCreate]
    ) -> schemas.NewToken:
        token, raw = await accounts.create_token(tenant, actor, actor.id, body_data(data))
        return msgspec.convert({**token, "token": raw}, schemas.NewToken)

    @delete("/tokens/{token_id:str}", status_code=HTTP_204_NO_CONTENT, name="api.tokens.revoke")
    async def api_token_revoke(self, tenant: TenantDep, actor: ActorDep, token_id: FromPath[str]) -> None:
        await accounts.revoke_token(tenant, actor, token_id)


# ---------------------------------------------------------------- user administration


async def _users_form(
    request: Request, tenant: TenantDep, actor: ActorDep, user: dict | None, status: int = 200, **extra: Any
) -> Template:
    choices = await units.unit_choices(tenant, actor)
    # every leader: the account being edited must find its own person among them
    leaders = await units.list_people(tenant, actor, position="leaders", per_page=100_000)
    # offer only the roles the server would accept from this administrator
    allowed = roles.grantable(actor.role) if user else roles.creatable(actor.role)
    role_options = [(code, label) for code, label in roles.ROLES.items() if code in allowed]
    return page(
        request,
        "accounts/user_form.html",
        status,
        user=user,
        choices=choices,
        leaders=leaders.items,
        role_options=role_options,
        **extra,
    )


async def _reset_second_factor(tenant: TenantDep, actor: ActorDep, user_id: str) -> dict[str, Any]:
    """Lost phone and recovery codes: the account enrols again."""
    await twofactor.reset_totp(tenant, actor, user_id)
    return await accounts.user_detail(tenant, user_id)


# the security admin's actions on one account, each a button on its page and an API call
SECURITY_ACTIONS = {
    # an account another administrator made: two people for each
    "activate": accounts.activate_user,
    "unlock": accounts.unlock_user,
    "twofactor-reset": _reset_second_factor,
}


def _security_page(action: str) -> HTTPRouteHandler:
    act = SECURITY_ACTIONS[action]

    async def handler(self, tenant: TenantDep, actor: ActorDep, user_id: FromPath[str]) -> Redirect:
        await act(tenant, actor, user_id)
        return Redirect(f"/t/{tenant.slug}/admin/users/{user_id}", status_code=303)

    route = post(f"/admin/users/{{user_id:str}}/{action}", guards=[SECURITY], name=f"accounts.user_{action}")
    return named(f"user_{action.replace('-', '_')}", route, handler)


def _security_api(action: str) -> HTTPRouteHandler:
    act = SECURITY_ACTIONS[action]

    async def handler(self, tenant: TenantDep, actor: ActorDep, user_id: FromPath[str]) -> schemas.User:
        return msgspec.convert(await act(tenant, actor, user_id), schemas.User)

    route = post(
        f"/users/{{user_id:str}}/{action}",
        guards=[SECURITY],
        status_code=HTTP_200_OK,
        name=f"api.users.{action}",
        description=f"The security administrator's `{action}` of one account.",
    )
    return named(f"api_user_{action.replace('-', '_')}", route, handler)


def _policy_form(request: Request, rules: policy.Policy, **extra: Any) -> Template:
    return page(request, "accounts/policy.html", form=asdict(rules), **extra)


class UserPages(Controller):
    path = TENANT_PAGES

    @get("/admin/users", guards=[READERS], name="accounts.users")
    async def users_page(
        self, request: Request, tenant: TenantDep, q: FromQuery[str] = "", role: FromQuery[str] = ""
    ) -> Template:
        users = await accounts.list_users(tenant, q=q, role=role)
        return page(request, "accounts/users.html", users=users, q=q, role=role)

    @get("/admin/users/new", guards=[CREATORS], name="accounts.user_new")
    async def user_new(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _users_form(request, tenant, actor, None)

    @post("/admin/users", guards=[CREATORS], name="accounts.user_create")
    async def user_create(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        data = await form_data(request)
        try:
            user, generated = await accounts.create_user(tenant, actor, data)
        except ValidationFailed as exc:
            return await _users_form(request, tenant, actor, None, 422, form=data, errors=exc.errors)
        return await _users_form(request, tenant, actor, user, form=user, created=True, generated=generated)

    @get("/admin/users/{user_id:str}", guards=[READERS], name="accounts.user_edit")
    async def user_edit(self, request: Request, tenant: TenantDep, actor: ActorDep, user_id: FromPath[str]) -> Template:
        user = await accounts.user_detail(tenant, user_id)
        return await _users_form(request, tenant, actor, user, form=user)

    @post("/admin/users/{user_id:str}", guards=[READERS], name="accounts.user_update")
    async def user_update(self, request: Request, tenant: TenantDep, actor: ActorDep, user_id: FromPath[str]) -> Any:
        user = await accounts.user_detail(tenant, user_id)
        return await submit_form(
            request,
            partial(accounts.update_user, tenant, actor, user_id),
            redirect=lambda _user: f"/t/{tenant.slug}/admin/users",
            on_error=show_again(_users_form, request, tenant, actor, user),
        )

    user_activate = _security_page("activate")
    user_unlock = _security_page("unlock")
    user_twofactor_reset = _security_page("twofactor-reset")

    @get("/admin/policy", guards=[SECURITY], name="accounts.policy")
    async def policy_page(self, request: Request, tenant: TenantDep) -> Template:
        return _policy_form(request, await policy.security_policy(tenant))

    @post("/admin/policy", guards=[SECURITY], name="accounts.policy_update")
    async def policy_update(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Any:
        data = await form_data(request)
        # an unticked box sends nothing: the form means "off"
        data = {"totp_admins": "", "totp_everyone": "", **data}
        data = {k: (v or "false") if k.startswith("totp_") else v for k, v in data.items()}
        try:
            rules = await policy.update_policy(tenant, actor, data)
        except ValidationFailed as exc:
            return page(request, "accounts/policy.html", 422, form=data, errors=exc.errors)
        return _policy_form(request, rules, saved=True)


class UserApi(Controller):
    path = TENANT_API

    @get("/users", guards=[READERS], name="api.users.list")
    async def api_users(
        self, tenant: TenantDep, q: FromQuery[str] = "", role: FromQuery[str] = ""
    ) -> list[schemas.User]:
        return msgspec.convert(await accounts.list_users(tenant, q=q, role=role), list[schemas.User])

    @post("/users", guards=[CREATORS], status_code=HTTP_201_CREATED, name="api.users.create")
    async def api_user_create(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.UserCreate]
    ) -> schemas.CreatedUser:
        user, generated = await accounts.create_user(tenant, actor, body_data(data))
        return msgspec.convert({**user, "generated_password": generated} if generated else user, schemas.CreatedUser)

    @get("/users/{user_id:str}", guards=[READERS], name="api.users.detail")
    async def api_user(self, tenant: TenantDep, user_id: FromPath[str]) -> schemas.User:
        return msgspec.convert(await accounts.user_detail(tenant, user_id), schemas.User)

    @patch("/users/{user_id:str}", guards=[READERS], name="api.users.update")
    async def api_user_update(
        self, tenant: TenantDep, actor: ActorDep, user_id: FromPath[str], data: JSONBody[schemas.UserPatch]
    ) -> schemas.User:
        return msgspec.convert(await accounts.update_user(tenant, actor, user_id, body_data(data)), schemas.User)

    api_user_activate = _security_api("activate")
    api_user_unlock = _security_api("unlock")
    api_user_twofactor_reset = _security_api("twofactor-reset")

    @get("/security-policy", guards=[SECURITY], name="api.policy")
    async def api_policy(self, tenant: TenantDep) -> schemas.SecurityPolicy:
        return msgspec.convert(asdict(await policy.security_policy(tenant)), schemas.SecurityPolicy)

    @put("/security-policy", guards=[SECURITY], name="api.policy.update")
    async def api_policy_update(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.PolicyUpdate]
    ) -> schemas.SecurityPolicy:
        rules = await policy.update_policy(tenant, actor, body_data(data))
        return msgspec.convert(asdict(rules), schemas.SecurityPolicy)


ROUTES = [SignInPages, AccountPages, AccountApi, UserPages, UserApi]
