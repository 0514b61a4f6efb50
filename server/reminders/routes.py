"""Reminder pages and API: the office's rules, channels and outbox; everyone's inbox
and notification preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from server import roles
from server.core.errors import NotFound
from server.core.pagination import Page
from server.documents.xlsx import MEDIA_TYPE as XLSX
from server.reminders import rules as rulebook
from server.reminders import schemas, service
from server.reminders.channels import PRESETS, SECURITY, MailServer
from server.web.deps import ActorDep, SettingsDep, TenantDep
from server.web.forms import body_data, file_response, form_data, is_htmx, page_json, paging, submit_form
from server.web.guards import allow, any_member
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

OFFICE = allow(roles.OFFICE_ADMIN)
# the mail server and the robot: the system admin's to keep, the office's to use
SETTINGS = allow(roles.SETTINGS_KEEPERS)
FILTERS = ("status", "channel", "kind", "q", "from", "to")


async def _lists(request: Request, *names: str) -> dict[str, list[str]]:
    """Checkbox groups as lists (an empty group is an empty list)."""
    form = await request.form()
    return {name: [v for v in form.getall(name) if v] if name in form else [] for name in names}


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


# ---------------------------------------------------------------- pages


async def _channel_context(tenant: TenantDep, settings: SettingsDep) -> dict[str, Any]:
    own = await service.notify_settings(tenant)
    return {
        "settings": service.public_settings(own),
        "mail_ready": MailServer.of(own, settings) is not None,
        "presets": PRESETS,
        "security": SECURITY,
        "settings_errors": {},
        "settings_form": None,
    }


async def _rules_page(
    request: Request, tenant: TenantDep, settings: SettingsDep, status: int = 200, **context: Any
) -> Template:
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
        **await _channel_context(tenant, settings) | {"errors": {}, "form": None, "editing": None} | context,
    )


async def _settings_page(
    request: Request, tenant: TenantDep, settings: SettingsDep, status: int = 200, **context: Any
) -> Template:
    """The system admin's page of the same settings (it sees no rules: they are business)."""
    return page(request, "reminders/settings.html", status, **await _channel_context(tenant, settings) | context)


async def _preferences_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **context: Any
) -> Template:
    return page(
        request,
        "reminders/preferences.html",
        status,
        pref=await service.preference(tenant, actor.id),
        channels={k: rulebook.CHANNELS[k] for k in rulebook.PERSONAL_CHANNELS},
        **{"errors": {}, "form": None} | context,
    )


class ReminderPages(Controller):
    path = TENANT_PAGES

    # ------------------------------------------------------------ office: rules and channels

    @get("/admin/notifications", guards=[SETTINGS], name="reminders.settings")
    async def settings_page(self, request: Request, tenant: TenantDep, settings: SettingsDep) -> Template:
        return await _settings_page(request, tenant, settings)

    @get("/reminders", guards=[OFFICE], name="reminders.rules")
    async def rules_page(self, request: Request, tenant: TenantDep, settings: SettingsDep) -> Template:
        return await _rules_page(request, tenant, settings)

    @post("/reminders/rules/{kind:str}", guards=[OFFICE], name="reminders.rule_save")
    async def rule_save(
        self, request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep, kind: FromPath[str]
    ) -> Response:
        if kind not in rulebook.KINDS:
            raise NotFound()
        lists = await _lists(request, "channels")
        return await submit_form(
            request,
            lambda data: service.save_rule(tenant, actor, kind, data | lists),
            redirect=lambda _rule: f"/t/{tenant.slug}/reminders#rule-{kind}",
            on_error=lambda data, errors: _rules_page(
                request, tenant, settings, 422, errors=errors, form=data | lists, editing=kind
            ),
        )

    @post("/reminders/settings", guards=[SETTINGS], name="reminders.settings_save")
    async def settings_save(
        self, request: Request, tenant: TenantDep, actor: ActorDep, settings: SettingsDep
    ) -> Response:
        office = actor.role == roles.OFFICE_ADMIN
        again = _rules_page if office else _settings_page
        return await submit_form(
            request,
            lambda data: service.save_settings(tenant, actor, data),
            redirect=lambda _shown: f"/t/{tenant.slug}/{'reminders#channels' if office else 'admin/notifications'}",
            on_error=lambda data, errors: again(
                request, tenant, settings, 422, settings_errors=errors, settings_form=data
            ),
        )

    # ------------------------------------------------------------ office: outbox

    @get("/outbox", guards=[OFFICE], name="reminders.outbox")
    async def outbox_page(self, request: Request, tenant: TenantDep) -> Template:
        p, n = paging(request)
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

    @get("/outbox.xlsx", media_type=XLSX, guards=[OFFICE], name="reminders.outbox_export", opt={"writes": True})
    async def outbox_export(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return file_response(await service.export_outbox(tenant, actor, _filters(request)), XLSX, "outbox.xlsx")

    @post("/outbox/retry", guards=[OFFICE], name="reminders.retry_many")
    async def outbox_retry_many(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        """Send again every failed, uncertain or undeliverable delivery the filters select."""
        data = await form_data(request)
        filters = {k: str(data.get(k) or "").strip() for k in FILTERS}
        await service.retry_many(tenant, actor, filters)
        query = urlencode({k: v for k, v in filters.items() if v and k != "status"})
        return Redirect(f"/t/{tenant.slug}/outbox" + (f"?{query}" if query else ""), status_code=303)

    @post("/outbox/{delivery_id:str}/retry", guards=[OFFICE], name="reminders.retry")
    async def outbox_retry(
        self, request: Request, tenant: TenantDep, actor: ActorDep, delivery_id: FromPath[str]
    ) -> Response:
        await service.retry(tenant, actor, delivery_id)
        back = request.headers.get("referer", "")
        return Redirect(back if back.startswith(str(request.base_url)) else f"/t/{tenant.slug}/outbox", status_code=303)

    # ------------------------------------------------------------ everyone: inbox and preferences

    @get("/inbox", guards=[any_member], name="reminders.inbox")
    async def inbox_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        p, n = paging(request)
        items, total = await service.inbox(tenant, actor, limit=n, offset=(p - 1) * n)
        for item in items:
            item["sentence"] = rulebook.as_sentence(item["body"], item["recipient"])
            item["action"] = rulebook.ACTIONS.get(item["kind"], rulebook.DEFAULT_ACTION)
        return page(request, "reminders/inbox.html", result=Page(items, total, p, n), kinds=rulebook.KINDS)

    @get("/inbox/count", guards=[any_member], name="reminders.inbox_count")
    async def inbox_count(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return page(request, "reminders/_unread.html", unread=await service.unread(tenant, actor))

    @post("/inbox/{delivery_id:str}/open", guards=[any_member], name="reminders.inbox_open")
    async def inbox_open(self, tenant: TenantDep, actor: ActorDep, delivery_id: FromPath[str]) -> Redirect:
        """Read the message and go straight to the thing to do."""
        await service.mark_read(tenant, actor, delivery_id)
        item = await service.inbox_item(tenant, actor, delivery_id)
        return Redirect(item["link"] or f"/t/{tenant.slug}/inbox", status_code=303)

    @post("/inbox/read", guards=[any_member], name="reminders.inbox_read_all")
    async def inbox_read_all(self, tenant: TenantDep, actor: ActorDep) -> Redirect:
        await service.mark_read(tenant, actor)
        return Redirect(f"/t/{tenant.slug}/inbox", status_code=303)

    @get("/account/notifications", guards=[any_member], name="reminders.preferences")
    async def preferences_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _preferences_page(request, tenant, actor)

    @post("/account/notifications", guards=[any_member], name="reminders.preferences_save")
    async def preferences_save(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        lists = await _lists(request, "channels")
        return await submit_form(
            request,
            lambda data: service.save_preference(tenant, actor, data | lists),
            redirect=lambda _values: f"/t/{tenant.slug}/account/notifications?saved=1",
            on_error=lambda data, errors: _preferences_page(
                request, tenant, actor, 422, errors=errors, form=data | lists
            ),
        )


class ReminderApi(Controller):
    path = TENANT_API

    @get("/reminder-rules", guards=[OFFICE], name="api.reminders.rules")
    async def api_rules(self, tenant: TenantDep) -> schemas.Rules:
        return msgspec.convert({"rules": list((await service.rules_of(tenant)).values())}, schemas.Rules)

    @put("/reminder-rules/{kind:str}", guards=[OFFICE], name="api.reminders.rule_save")
    async def api_rule_save(
        self, tenant: TenantDep, actor: ActorDep, kind: FromPath[str], data: JSONBody[schemas.RuleBody]
    ) -> schemas.Rule:
        """Fields left out keep their current values."""
        if kind not in rulebook.KINDS:
            raise NotFound()
        sent = body_data(data)
        if "templates" in sent:
            sent["templates"] = msgspec.to_builtins(sent["templates"])
        merged = {**(await service.rules_of(tenant))[kind], **sent}
        # the rule's fields as the page's form sends them: a subject and a body per language
        flat = {k: v for k, v in merged.items() if k != "templates"}
        for loc, text in merged["templates"].items():
            flat[f"subject_{loc}"], flat[f"body_{loc}"] = text.get("subject", ""), text.get("body", "")
        return msgspec.convert(await service.save_rule(tenant, actor, kind, flat), schemas.Rule)

    @get("/notification-settings", guards=[SETTINGS], name="api.reminders.settings")
    async def api_settings(self, tenant: TenantDep) -> schemas.NotifySettings:
        return msgspec.convert(service.public_settings(await service.notify_settings(tenant)), schemas.NotifySettings)

    @put("/notification-settings", guards=[SETTINGS], name="api.reminders.settings_save")
    async def api_settings_save(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.NotifySettingsBody]
    ) -> schemas.NotifySettings:
        """Fields left out keep their current values; so do secrets sent empty."""
        shown = service.public_settings(await service.notify_settings(tenant))
        current = {k: v for k, v in shown.items() if k.removesuffix("_set") not in service.SECRETS}
        saved = await service.save_settings(tenant, actor, current | body_data(data))
        return msgspec.convert(saved, schemas.NotifySettings)

    @get("/outbox", guards=[OFFICE], name="api.reminders.outbox")
    async def api_outbox(self, request: Request, tenant: TenantDep) -> schemas.DeliveryPage:
        p, n = paging(request)
        items, total = await service.outbox(tenant, _filters(request), limit=n, offset=(p - 1) * n)
        return msgspec.convert(page_json(Page(items, total, p, n)), schemas.DeliveryPage)

    @post("/outbox/retry", guards=[OFFICE], name="api.reminders.retry_many", status_code=200)
    async def api_outbox_retry_many(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.Retried:
        """Send again every failed, uncertain or undeliverable delivery the query's filters select."""
        return schemas.Retried(count=await service.retry_many(tenant, actor, _filters(request)))

    @get("/inbox", guards=[any_member], name="api.reminders.inbox")
    async def api_inbox(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.InboxPage:
        p, n = paging(request)
        items, total = await service.inbox(tenant, actor, limit=n, offset=(p - 1) * n)
        inbox = page_json(Page(items, total, p, n)) | {"unread": await service.unread(tenant, actor)}
        return msgspec.convert(inbox, schemas.InboxPage)

    @post("/inbox/{delivery_id:str}/read", guards=[any_member], name="api.reminders.inbox_read")
    async def api_inbox_read(self, tenant: TenantDep, actor: ActorDep, delivery_id: FromPath[str]) -> schemas.Unread:
        await service.mark_read(tenant, actor, delivery_id)
        return schemas.Unread(unread=await service.unread(tenant, actor))

    @get("/me/notifications", guards=[any_member], name="api.reminders.preferences")
    async def api_preferences(self, tenant: TenantDep, actor: ActorDep) -> schemas.Preference:
        pref = await service.preference(tenant, actor.id)
        return schemas.Preference(channels=pref["channels"], email=pref["email"])

    @put("/me/notifications", guards=[any_member], name="api.reminders.preferences_save")
    async def api_preferences_save(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.PreferenceBody]
    ) -> schemas.Preference:
        return msgspec.convert(await service.save_preference(tenant, actor, body_data(data)), schemas.Preference)


ROUTES = [ReminderPages, ReminderApi]
