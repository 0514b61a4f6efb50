"""Sign-in, the home page, the account page, user administration and tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from server.accounts import policy, roles, twofactor, twofactor_routes
from server.accounts import service as accounts
from server.actor import Actor
from server.assessment import results as assessments
from server.audit import service as audit
from server.core import i18n
from server.core.errors import ValidationFailed
from server.reminders import service as reminders
from server.units import service as units
from server.web.forms import body_data, form_data
from server.web.guards import allow, any_member
from server.web.templating import page

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
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


def remember_refusal(edge, keys: list[str], result: accounts.SignIn, tenant_id: int | None, username: str) -> None:
    """Count the failure and audit it even though the request itself rolls back."""
    anonymous = Actor(kind="anonymous", name=username, client_addr=edge.client, user_agent=edge.agent)

    async def write() -> None:
        locked = result.outcome != "locked" and await accounts.note_failure(keys, edge.settings)
        await audit.record(
            tenant_id,
            anonymous,
            "auth.login",
            "user",
            username,
            outcome="denied",
            detail={"reason": result.outcome},
        )
        if locked:
            await audit.record(tenant_id, anonymous, "auth.lock", "user", username, outcome="denied")

    edge.after.append(write)


@get(f"{T}/login", opt={"public": True}, name="accounts.login_form")
async def login_form(request: Request, next: FromQuery[str] = "") -> Any:
    edge = request.state.edge
    if edge.actor is not None:
        return Redirect(_safe_next(edge.tenant.slug, next), status_code=303)
    return page(request, "accounts/login.html", next=next)


@post(f"{T}/login", opt={"public": True}, name="accounts.login")
async def login(request: Request) -> Any:
    edge = request.state.edge
    tenant = edge.tenant
    data = await form_data(request)
    username = str(data.get("username", ""))[:64]
    password = str(data.get("password", ""))[:200]
    target = str(data.get("next", ""))
    keys = accounts.throttle_keys(str(tenant.id), username, edge.client)
    result = await accounts.sign_in(tenant, username, password, keys)
    if result.refused:
        remember_refusal(edge, keys, result, tenant.id, username)
        return page(request, "accounts/login.html", 400, next=target, username=username, problem=result.refused)
    user = result.user
    if user["totp_enabled"]:
        # no session before the second factor; until then failures keep counting
        return twofactor_routes.begin_second_step(request, user, _safe_next(tenant.slug, target))
    await accounts.note_success(keys)
    return await twofactor_routes.start_session(request, user, _safe_next(tenant.slug, target))


@post(f"{T}/logout", opt={"public": True}, name="accounts.logout")
async def logout(request: Request) -> Redirect:
    edge = request.state.edge
    if edge.session is not None:
        await edge.sessions.delete(edge.session.key)
        if edge.actor is not None:
            await audit.record(edge.tenant.id, edge.actor, "auth.logout", "user", edge.actor.id)
    edge.logout()
    return Redirect(f"/t/{edge.tenant.slug}/login", status_code=303)


# ---------------------------------------------------------------- home and portal


@get([T, f"{T}/"], guards=[any_member], name="home")
async def home(request: Request) -> Any:
    edge = request.state.edge
    actor, tenant = edge.actor, edge.tenant
    if actor.role == roles.LEADER:
        return Redirect(f"/t/{tenant.slug}/me", status_code=303)
    summary = await units.registry_summary(tenant, actor) if actor.role in roles.REGISTRY_READERS else None
    scoring = await assessments.home_summary(tenant, actor) if actor.role in assessments.READERS else None
    week = datetime.now(UTC) - timedelta(days=7)
    outbox = await reminders.outbox_summary(tenant, since=week) if actor.role == roles.OFFICE_ADMIN else None
    return page(
        request,
        "home.html",
        summary=summary,
        assessment=scoring,
        unit_statuses=assessments.UNIT_STATUSES,
        outbox=outbox,
        since=week.date().isoformat(),
        pending_accounts=await accounts.pending_count(tenant) if actor.role == roles.SECURITY_ADMIN else 0,
    )


@get(f"{API}/me", guards=[any_member], name="api.me")
async def api_me(request: Request) -> dict[str, Any]:
    edge = request.state.edge
    return {
        "user": await accounts.own_user(edge.tenant, edge.actor),
        "person": await units.own_person(edge.tenant, edge.actor),
        "tenant": {"slug": edge.tenant.slug, "name": edge.tenant.name},
    }


# ---------------------------------------------------------------- account


async def _account_page(request: Request, status: int = 200, **extra: Any) -> Template:
    edge = request.state.edge
    tokens = await accounts.list_tokens(edge.tenant, edge.actor.id)
    return page(request, "accounts/account.html", status, tokens=tokens, locales=i18n.LOCALE_NAMES, **extra)


@get(f"{T}/account", guards=[any_member], name="accounts.account")
async def account_page(request: Request) -> Template:
    return await _account_page(request)


@post(f"{T}/account/locale", guards=[any_member], name="accounts.locale", opt=FIRST_THINGS)
async def account_locale(request: Request) -> Any:
    edge = request.state.edge
    data = await form_data(request)
    try:
        locale = await accounts.set_locale(edge.tenant, edge.actor, data)
    except ValidationFailed as exc:
        return await _account_page(request, 422, errors=exc.errors)
    edge.set_lang = locale
    return Redirect(_safe_next(edge.tenant.slug, str(data.get("next", "")) or None), status_code=303)


@get(f"{T}/account/password", guards=[any_member], name="accounts.password_form", opt=FIRST_THINGS)
async def account_password_form(request: Request) -> Template:
    return page(request, "accounts/password.html")


@post(f"{T}/account/password", guards=[any_member], name="accounts.password", opt=FIRST_THINGS)
async def account_password(request: Request) -> Any:
    edge = request.state.edge
    forced = edge.actor.restricted == "password"
    try:
        await accounts.change_password(edge.tenant, edge.actor, await form_data(request))
    except ValidationFailed as exc:
        if forced:
            return page(request, "accounts/password.html", 422, errors=exc.errors)
        return await _account_page(request, 422, errors=exc.errors)
    # other sessions of this user end; this one continues under a new id
    await edge.sessions.delete_for_user(edge.actor.id)
    edge.login(await edge.sessions.create(tenant_id=edge.tenant.id, user_id=edge.actor.id))
    if forced:
        return Redirect(f"/t/{edge.tenant.slug}/", status_code=303)
    return await _account_page(request, notice=i18n._("Your password has been changed."))


@post(f"{T}/account/tokens", guards=[any_member], name="accounts.token_create")
async def account_token_create(request: Request) -> Template:
    edge = request.state.edge
    try:
        _token, raw = await accounts.create_token(edge.tenant, edge.actor, edge.actor.id, await form_data(request))
    except ValidationFailed as exc:
        return await _account_page(request, 422, errors=exc.errors)
    return await _account_page(request, new_token=raw)


@post(f"{T}/account/tokens/{{token_id:str}}/revoke", guards=[any_member], name="accounts.token_revoke")
async def account_token_revoke(request: Request, token_id: FromPath[str]) -> Redirect:
    edge = request.state.edge
    await accounts.revoke_token(edge.tenant, edge.actor, token_id)
    return Redirect(f"/t/{edge.tenant.slug}/account", status_code=303)


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    # the token stops working after this many days (at most a year)
    expires_in_days: int = accounts.TOKEN_DAYS_DEFAULT


@get(f"{API}/tokens", guards=[any_member], name="api.tokens.list")
async def api_tokens(request: Request) -> list[dict[str, Any]]:
    edge = request.state.edge
    return await accounts.list_tokens(edge.tenant, edge.actor.id)


@post(f"{API}/tokens", guards=[any_member], status_code=HTTP_201_CREATED, name="api.tokens.create")
async def api_token_create(request: Request, data: JSONBody[TokenCreate]) -> dict[str, Any]:
    edge = request.state.edge
    token, raw = await accounts.create_token(edge.tenant, edge.actor, edge.actor.id, body_data(data))
    return {**token, "token": raw}


@delete(
    f"{API}/tokens/{{token_id:str}}",
    guards=[any_member],
    status_code=HTTP_204_NO_CONTENT,
    name="api.tokens.revoke",
)
async def api_token_revoke(request: Request, token_id: FromPath[str]) -> None:
    edge = request.state.edge
    await accounts.revoke_token(edge.tenant, edge.actor, token_id)


# ---------------------------------------------------------------- user administration


async def _users_form(request: Request, user: dict | None, status: int = 200, **extra: Any) -> Template:
    edge = request.state.edge
    choices = await units.unit_choices(edge.tenant, edge.actor)
    # every leader: the account being edited must find its own person among them
    leaders = await units.list_people(edge.tenant, edge.actor, position="leaders", per_page=100_000)
    return page(request, "accounts/user_form.html", status, user=user, choices=choices, leaders=leaders.items, **extra)


@get(f"{T}/admin/users", guards=[READERS], name="accounts.users")
async def users_page(request: Request, q: FromQuery[str] = "", role: FromQuery[str] = "") -> Template:
    edge = request.state.edge
    return page(
        request,
        "accounts/users.html",
        users=await accounts.list_users(edge.tenant, q=q, role=role),
        q=q,
        role=role,
    )


@get(f"{T}/admin/users/new", guards=[CREATORS], name="accounts.user_new")
async def user_new(request: Request) -> Template:
    return await _users_form(request, None)


@post(f"{T}/admin/users", guards=[CREATORS], name="accounts.user_create")
async def user_create(request: Request) -> Template:
    edge = request.state.edge
    data = await form_data(request)
    try:
        user, generated = await accounts.create_user(edge.tenant, edge.actor, data)
    except ValidationFailed as exc:
        return await _users_form(request, None, 422, form=data, errors=exc.errors)
    return await _users_form(request, user, form=user, created=True, generated=generated)


@get(f"{T}/admin/users/{{user_id:str}}", guards=[READERS], name="accounts.user_edit")
async def user_edit(request: Request, user_id: FromPath[str]) -> Template:
    edge = request.state.edge
    user = await accounts.user_detail(edge.tenant, user_id)
    return await _users_form(request, user, form=user)


@post(f"{T}/admin/users/{{user_id:str}}", guards=[READERS], name="accounts.user_update")
async def user_update(request: Request, user_id: FromPath[str]) -> Any:
    edge = request.state.edge
    data = await form_data(request)
    try:
        await accounts.update_user(edge.tenant, edge.actor, user_id, data)
    except ValidationFailed as exc:
        user = await accounts.user_detail(edge.tenant, user_id)
        return await _users_form(request, user, 422, form=data, errors=exc.errors)
    return Redirect(f"/t/{edge.tenant.slug}/admin/users", status_code=303)


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    role: str
    display_name: str = ""
    password: str | None = None
    scope_unit_id: str | None = None
    person_id: str | None = None


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    display_name: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    password: str | UnsetType = UNSET
    scope_unit_id: str | None | UnsetType = UNSET
    person_id: str | None | UnsetType = UNSET


@get(f"{API}/users", guards=[READERS], name="api.users.list")
async def api_users(request: Request, q: FromQuery[str] = "", role: FromQuery[str] = "") -> list[dict[str, Any]]:
    return await accounts.list_users(request.state.edge.tenant, q=q, role=role)


@post(f"{API}/users", guards=[CREATORS], status_code=HTTP_201_CREATED, name="api.users.create")
async def api_user_create(request: Request, data: JSONBody[UserCreate]) -> dict[str, Any]:
    edge = request.state.edge
    user, generated = await accounts.create_user(edge.tenant, edge.actor, body_data(data))
    return {**user, "generated_password": generated} if generated else user


@get(f"{API}/users/{{user_id:str}}", guards=[READERS], name="api.users.detail")
async def api_user(request: Request, user_id: FromPath[str]) -> dict[str, Any]:
    return await accounts.user_detail(request.state.edge.tenant, user_id)


@patch(f"{API}/users/{{user_id:str}}", guards=[READERS], name="api.users.update")
async def api_user_update(request: Request, user_id: FromPath[str], data: JSONBody[UserPatch]) -> dict[str, Any]:
    edge = request.state.edge
    return await accounts.update_user(edge.tenant, edge.actor, user_id, body_data(data))


# ---------------------------------------------------------------- the security admin's actions


async def _reset_second_factor(tenant, actor, user_id: str) -> dict[str, Any]:
    await twofactor.reset_totp(tenant, actor, user_id)
    return await accounts.user_detail(tenant, user_id)


# the security admin's actions on one account, each a page form and an API call
SECURITY_ACTIONS = {
    "activate": accounts.activate_user,  # an account another administrator made: two people for each
    "unlock": accounts.unlock_user,
    "twofactor-reset": _reset_second_factor,  # lost phone and recovery codes: enrol again
}


def _security_action(action: str, act) -> tuple:
    @post(f"{T}/admin/users/{{user_id:str}}/{action}", guards=[SECURITY], name=f"accounts.user_{action}")
    async def form(request: Request, user_id: FromPath[str]) -> Redirect:
        edge = request.state.edge
        await act(edge.tenant, edge.actor, user_id)
        return Redirect(f"/t/{edge.tenant.slug}/admin/users/{user_id}", status_code=303)

    @post(
        f"{API}/users/{{user_id:str}}/{action}",
        guards=[SECURITY],
        status_code=HTTP_200_OK,
        name=f"api.users.{action}",
        description=f"The security administrator's `{action}` of one account.",
    )
    async def api(request: Request, user_id: FromPath[str]) -> dict[str, Any]:
        edge = request.state.edge
        return await act(edge.tenant, edge.actor, user_id)

    return form, api


SECURITY_ROUTES = [handler for action, act in SECURITY_ACTIONS.items() for handler in _security_action(action, act)]


def _policy_public(rules: policy.Policy) -> dict[str, Any]:
    return asdict(rules)


@get(f"{T}/admin/policy", guards=[SECURITY], name="accounts.policy")
async def policy_page(request: Request) -> Template:
    rules = await policy.security_policy(request.state.edge.tenant)
    return page(request, "accounts/policy.html", form=_policy_public(rules))


@post(f"{T}/admin/policy", guards=[SECURITY], name="accounts.policy_update")
async def policy_update(request: Request) -> Any:
    edge = request.state.edge
    data = await form_data(request)
    # an unticked box sends nothing: the form means "off"
    data = {"totp_admins": "", "totp_everyone": "", **data}
    data = {k: (v or "false") if k.startswith("totp_") else v for k, v in data.items()}
    try:
        rules = await policy.update_policy(edge.tenant, edge.actor, data)
    except ValidationFailed as exc:
        return page(request, "accounts/policy.html", 422, form=data, errors=exc.errors)
    return page(request, "accounts/policy.html", form=_policy_public(rules), saved=True)


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    min_length: int | UnsetType = UNSET
    max_age_days: int | UnsetType = UNSET
    warn_days: int | UnsetType = UNSET
    history: int | UnsetType = UNSET
    totp_admins: bool | UnsetType = UNSET
    totp_everyone: bool | UnsetType = UNSET


@get(f"{API}/security-policy", guards=[SECURITY], name="api.policy")
async def api_policy(request: Request) -> dict[str, Any]:
    return _policy_public(await policy.security_policy(request.state.edge.tenant))


@put(f"{API}/security-policy", guards=[SECURITY], name="api.policy.update")
async def api_policy_update(request: Request, data: JSONBody[PolicyUpdate]) -> dict[str, Any]:
    edge = request.state.edge
    return _policy_public(await policy.update_policy(edge.tenant, edge.actor, body_data(data)))


ROUTES = [
    login_form,
    login,
    logout,
    home,
    api_me,
    account_page,
    account_locale,
    account_password_form,
    account_password,
    account_token_create,
    account_token_revoke,
    api_tokens,
    api_token_create,
    api_token_revoke,
    users_page,
    user_new,
    user_create,
    user_edit,
    user_update,
    api_users,
    api_user_create,
    api_user,
    api_user_update,
    *SECURITY_ROUTES,
    policy_page,
    policy_update,
    api_policy,
    api_policy_update,
]
