"""Reminder pages and API: the office's rules, channels and outbox; everyone's inbox
and notification preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from server.accounts import roles
from server.core.errors import NotFound, ValidationFailed
from server.core.pagination import Page, page_args
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.reminders import rules as rulebook
from server.reminders import service
from server.reminders.channels import PRESETS, SECURITY, MailServer
from server.reminders.schemas import NotifySettings, NotifySettingsBody
from server.web.forms import body_data, file_response, form_data, is_htmx, page_json
from server.web.guards import allow, any_member
from server.web.templating import page

T = "/t/{slug:str}"
API = "/api/v1/t/{slug:str}"
OFFICE = allow(roles.OFFICE_ADMIN)
# the mail server and the robot: the system admin's to keep, the office's to use
SETTINGS = allow(roles.SETTINGS_KEEPERS)
FILTERS = ("status", "channel", "kind", "q", "from", "to")


def _ctx(request: Request):
    edge = request.state.edge
    return edge.tenant, edge.actor


async def _form_with_lists(request: Request, *lists: str) -> dict[str, Any]:
    """Form fields, with the checkbox groups as lists (an empty group is an empty list)."""
    data = await form_data(request)
    form = await request.form()
    for name in lists:
        data[name] = [v for v in form.getall(name) if v] if name in form else []
    return data


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


# ---------------------------------------------------------------- office: rules and channels


async def _channel_context(request: Request) -> dict[str, Any]:
    tenant, _actor = _ctx(request)
    own = await service.notify_settings(tenant)
    return {
        "settings": service.public_settings(own),
        "mail_ready": MailServer.of(own, request.state.edge.settings) is not None,
        "presets": PRESETS,
        "security": SECURITY,
        "settings_errors": {},
        "settings_form": None,
    }


async def _rules_page(request: Request, status: int = 200, **context: Any) -> Template:
    tenant, _actor = _ctx(request)
    rules = await service.rules_of(tenant)
    return page(
        request,
        "reminders/rules.html",
        status,
        rules=rules,
        kinds=rulebook.KINDS,
        channels=rulebook.CHANNELS,
        defaults={k: {loc: rulebook.template_text({"kind": k}, loc) for loc in ("zh_CN", "en")} for k in rules},
        summary=await service.outbox_summary(tenant, since=datetime.now(UTC) - timedelta(days=7)),
        mail_only=await service.mail_only(tenant),
        **await _channel_context(request) | {"errors": {}, "form": None, "editing": None} | context,
    )


async def _settings_page(request: Request, status: int = 200, **context: Any) -> Template:
    """The system admin's page of the same settings (it sees no rules: they are business)."""
    return page(request, "reminders/settings.html", status, **await _channel_context(request) | context)


@get(f"{T}/admin/notifications", guards=[SETTINGS], name="reminders.settings")
async def settings_page(request: Request) -> Template:
    return await _settings_page(request)


@get(f"{T}/reminders", guards=[OFFICE], name="reminders.rules")
async def rules_page(request: Request) -> Template:
    return await _rules_page(request)


@post(f"{T}/reminders/rules/{{kind:str}}", guards=[OFFICE], name="reminders.rule_save")
async def rule_save(request: Request, kind: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    if kind not in rulebook.KINDS:
        raise NotFound()
    data = await _form_with_lists(request, "channels")
    try:
        await service.save_rule(tenant, actor, kind, data)
    except ValidationFailed as exc:
        return await _rules_page(request, 422, errors=exc.errors, form=data, editing=kind)
    return Redirect(f"/t/{tenant.slug}/reminders#rule-{kind}", status_code=303)


@post(f"{T}/reminders/settings", guards=[SETTINGS], name="reminders.settings_save")
async def settings_save(request: Request) -> Response:
    tenant, actor = _ctx(request)
    data = await form_data(request)
    office = actor.role == roles.OFFICE_ADMIN
    try:
        await service.save_settings(tenant, actor, data)
    except ValidationFailed as exc:
        again = _rules_page if office else _settings_page
        return await again(request, 422, settings_errors=exc.errors, settings_form=data)
    back = "reminders#channels" if office else "admin/notifications"
    return Redirect(f"/t/{tenant.slug}/{back}", status_code=303)


# ---------------------------------------------------------------- office: outbox


@get(f"{T}/outbox", guards=[OFFICE], name="reminders.outbox")
async def outbox_page(request: Request) -> Template:
    tenant, _actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    filters = _filters(request)
    items, total = await service.outbox(tenant, filters, limit=n, offset=(p - 1) * n)
    return page(
        request,
        "reminders/_outbox_table.html" if is_htmx(request) else "reminders/outbox.html",
        result=Page(items, total, p, n),
        filters=filters,
        summary=await service.outbox_summary(tenant),
        kinds=rulebook.KINDS,
        channels=rulebook.CHANNELS,
        statuses=service.STATUSES,
    )


@get(f"{T}/outbox.xlsx", media_type=XLSX, guards=[OFFICE], name="reminders.outbox_export", opt={"writes": True})
async def outbox_export(request: Request) -> Response:
    tenant, actor = _ctx(request)
    return file_response(await service.export_outbox(tenant, actor, _filters(request)), XLSX, "outbox.xlsx")


@post(f"{T}/outbox/retry", guards=[OFFICE], name="reminders.retry_many")
async def outbox_retry_many(request: Request) -> Response:
    """Send again every failed, uncertain or undeliverable delivery the filters select."""
    tenant, actor = _ctx(request)
    data = await form_data(request)
    filters = {k: str(data.get(k) or "").strip() for k in FILTERS}
    await service.retry_many(tenant, actor, filters)
    query = urlencode({k: v for k, v in filters.items() if v and k != "status"})
    return Redirect(f"/t/{tenant.slug}/outbox" + (f"?{query}" if query else ""), status_code=303)


@post(f"{T}/outbox/{{delivery_id:str}}/retry", guards=[OFFICE], name="reminders.retry")
async def outbox_retry(request: Request, delivery_id: FromPath[str]) -> Response:
    tenant, actor = _ctx(request)
    await service.retry(tenant, actor, delivery_id)
    back = request.headers.get("referer", "")
    return Redirect(back if back.startswith(str(request.base_url)) else f"/t/{tenant.slug}/outbox", status_code=303)


# ---------------------------------------------------------------- everyone: inbox and preferences


@get(f"{T}/inbox", guards=[any_member], name="reminders.inbox")
async def inbox_page(request: Request) -> Template:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    items, total = await service.inbox(tenant, actor, limit=n, offset=(p - 1) * n)
    return page(request, "reminders/inbox.html", result=Page(items, total, p, n), kinds=rulebook.KINDS)


@get(f"{T}/inbox/count", guards=[any_member], name="reminders.inbox_count")
async def inbox_count(request: Request) -> Template:
    tenant, actor = _ctx(request)
    return page(request, "reminders/_unread.html", unread=await service.unread(tenant, actor))


@post(f"{T}/inbox/{{delivery_id:str}}/open", guards=[any_member], name="reminders.inbox_open")
async def inbox_open(request: Request, delivery_id: FromPath[str]) -> Redirect:
    """Read the message and go straight to the thing to do."""
    tenant, actor = _ctx(request)
    await service.mark_read(tenant, actor, delivery_id)
    item = await service.inbox_item(tenant, actor, delivery_id)
    return Redirect(item["link"] or f"/t/{tenant.slug}/inbox", status_code=303)


@post(f"{T}/inbox/read", guards=[any_member], name="reminders.inbox_read_all")
async def inbox_read_all(request: Request) -> Redirect:
    tenant, actor = _ctx(request)
    await service.mark_read(tenant, actor)
    return Redirect(f"/t/{tenant.slug}/inbox", status_code=303)


async def _preferences_page(request: Request, status: int = 200, **context: Any) -> Template:
    tenant, actor = _ctx(request)
    return page(
        request,
        "reminders/preferences.html",
        status,
        pref=await service.preference(tenant, actor.id),
        channels={k: rulebook.CHANNELS[k] for k in rulebook.PERSONAL_CHANNELS},
        **{"errors": {}, "form": None} | context,
    )


@get(f"{T}/account/notifications", guards=[any_member], name="reminders.preferences")
async def preferences_page(request: Request) -> Template:
    return await _preferences_page(request)


@post(f"{T}/account/notifications", guards=[any_member], name="reminders.preferences_save")
async def preferences_save(request: Request) -> Response:
    tenant, actor = _ctx(request)
    data = await _form_with_lists(request, "channels")
    try:
        await service.save_preference(tenant, actor, data)
    except ValidationFailed as exc:
        return await _preferences_page(request, 422, errors=exc.errors, form=data)
    return Redirect(f"/t/{tenant.slug}/account/notifications?saved=1", status_code=303)


# ---------------------------------------------------------------- API


@get(f"{API}/reminder-rules", guards=[OFFICE], name="api.reminders.rules")
async def api_rules(request: Request) -> dict[str, Any]:
    tenant, _actor = _ctx(request)
    return {"rules": list((await service.rules_of(tenant)).values())}


@put(f"{API}/reminder-rules/{{kind:str}}", guards=[OFFICE], name="api.reminders.rule_save")
async def api_rule_save(request: Request, kind: FromPath[str], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """Fields left out keep their current values."""
    tenant, actor = _ctx(request)
    if kind not in rulebook.KINDS:
        raise NotFound()
    current = (await service.rules_of(tenant))[kind]
    merged = {**current, **data}
    flat = {k: v for k, v in merged.items() if k != "templates"}
    templates = merged.get("templates")
    for loc, text in templates.items() if isinstance(templates, dict) else ():
        if isinstance(text, dict):
            flat[f"subject_{loc}"], flat[f"body_{loc}"] = text.get("subject", ""), text.get("body", "")
    return await service.save_rule(tenant, actor, kind, flat)


@get(f"{API}/notification-settings", guards=[SETTINGS], name="api.reminders.settings")
async def api_settings(request: Request) -> NotifySettings:
    tenant, _actor = _ctx(request)
    return NotifySettings(**service.public_settings(await service.notify_settings(tenant)))


@put(f"{API}/notification-settings", guards=[SETTINGS], name="api.reminders.settings_save")
async def api_settings_save(request: Request, data: JSONBody[NotifySettingsBody]) -> NotifySettings:
    """Fields left out keep their current values; so do secrets sent empty."""
    tenant, actor = _ctx(request)
    shown = service.public_settings(await service.notify_settings(tenant))
    current = {k: v for k, v in shown.items() if k.removesuffix("_set") not in service.SECRETS}
    return NotifySettings(**await service.save_settings(tenant, actor, current | body_data(data)))


@get(f"{API}/outbox", guards=[OFFICE], name="api.reminders.outbox")
async def api_outbox(request: Request) -> dict[str, Any]:
    tenant, _actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    items, total = await service.outbox(tenant, _filters(request), limit=n, offset=(p - 1) * n)
    return page_json(Page(items, total, p, n))


@post(f"{API}/outbox/retry", guards=[OFFICE], name="api.reminders.retry_many", status_code=200)
async def api_outbox_retry_many(request: Request) -> dict[str, int]:
    """Send again every failed, uncertain or undeliverable delivery the query's filters select."""
    tenant, actor = _ctx(request)
    return {"count": await service.retry_many(tenant, actor, _filters(request))}


@get(f"{API}/inbox", guards=[any_member], name="api.reminders.inbox")
async def api_inbox(request: Request) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    p, n = page_args(request.query_params.get("page"), request.query_params.get("per_page"))
    items, total = await service.inbox(tenant, actor, limit=n, offset=(p - 1) * n)
    return page_json(Page(items, total, p, n)) | {"unread": await service.unread(tenant, actor)}


@post(f"{API}/inbox/{{delivery_id:str}}/read", guards=[any_member], name="api.reminders.inbox_read")
async def api_inbox_read(request: Request, delivery_id: FromPath[str]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    await service.mark_read(tenant, actor, delivery_id)
    return {"unread": await service.unread(tenant, actor)}


@get(f"{API}/me/notifications", guards=[any_member], name="api.reminders.preferences")
async def api_preferences(request: Request) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    pref = await service.preference(tenant, actor.id)
    return {"channels": pref["channels"], "email": pref["email"]}


@put(f"{API}/me/notifications", guards=[any_member], name="api.reminders.preferences_save")
async def api_preferences_save(request: Request, data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    tenant, actor = _ctx(request)
    return await service.save_preference(tenant, actor, data)


ROUTES = [
    rules_page,
    rule_save,
    settings_page,
    settings_save,
    outbox_page,
    outbox_export,
    outbox_retry,
    outbox_retry_many,
    inbox_page,
    inbox_count,
    inbox_open,
    inbox_read_all,
    preferences_page,
    preferences_save,
    api_rules,
    api_rule_save,
    api_settings,
    api_settings_save,
    api_outbox,
    api_outbox_retry_many,
    api_inbox,
    api_inbox_read,
    api_preferences,
    api_preferences_save,
]
