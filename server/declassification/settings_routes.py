"""The tenant's declassification settings as a page and API: everyone who reads the
register sees them, the bureau's office changes them."""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody
from litestar.response import Template

from server import roles
from server.declassification import access
from server.declassification import settings as declass_settings
from server.declassification import settings_schemas as schemas
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, show_again, submit_form
from server.web.guards import allow
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES

SETTINGS = "/declassification/settings"
READ = allow(access.READERS)
EDIT = allow(roles.OFFICE_ADMIN)


async def _settings_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any
) -> Template:
    current = await declass_settings.declass_settings(tenant)
    extra.setdefault("form", current)
    return page(
        request,
        "declassification/settings.html",
        status,
        current=current,
        bounds=declass_settings.BOUNDS,
        saved=request.query_params.get("saved") == "1",
        **extra,
    )


class DeclassSettingsPages(Controller):
    path = TENANT_PAGES

    @get(SETTINGS, guards=[READ], name="declass.settings")
    async def settings_page(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Template:
        return await _settings_page(request, tenant, actor)

    @post(SETTINGS, guards=[EDIT], name="declass.settings_update")
    async def settings_form(self, request: Request, tenant: TenantDep, actor: ActorDep) -> Response:
        return await submit_form(
            request,
            partial(declass_settings.update_declass_settings, tenant, actor),
            redirect=lambda _done: f"/t/{tenant.slug}{SETTINGS}?saved=1",
            on_error=show_again(_settings_page, request, tenant, actor),
        )


class DeclassSettingsApi(Controller):
    path = TENANT_API

    @get(SETTINGS, guards=[READ], name="api.declass.settings")
    async def api_settings(self, tenant: TenantDep, actor: ActorDep) -> schemas.DeclassSettings:
        """The tenant's declassification settings as they apply now."""
        return msgspec.convert(await declass_settings.declass_settings(tenant), schemas.DeclassSettings)

    @patch(SETTINGS, guards=[EDIT], name="api.declass.settings_update")
    async def api_settings_update(
        self, tenant: TenantDep, actor: ActorDep, data: JSONBody[schemas.DeclassSettingsChange]
    ) -> schemas.DeclassSettings:
        """Change some of the settings (the office only): 422 naming a field out of its
        bounds (the lead time is never under 90 days)."""
        changed = await declass_settings.update_declass_settings(tenant, actor, body_data(data))
        return msgspec.convert(changed, schemas.DeclassSettings)


ROUTES = [DeclassSettingsPages, DeclassSettingsApi]
