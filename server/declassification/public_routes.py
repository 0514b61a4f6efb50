"""Declassification: the publication of declassified items. The office's list of items
waiting for a decision (publish or withhold) and of published entries (withdraw), as
pages and API; and the public page of a tenant, its JSON and its Atom feed, which anyone
may read without signing in and which show the Publication copies alone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.response import Template

from server import roles
from server.core.i18n import _
from server.declassification import public_schemas as schemas
from server.declassification import publication as service
from server.web.deps import ActorDep, TenantDep
from server.web.forms import body_data, page_json, paging
from server.web.guards import allow
from server.web.handlers import Action, post_form, show_page
from server.web.templating import page
from server.web.urls import TENANT_API, TENANT_PAGES
from tenants.service import TenantRef

OFFICE = allow(roles.OFFICE_ADMIN)
ATOM = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"


# ---------------------------------------------------------------- the office


async def _office_page(
    request: Request, tenant: TenantDep, actor: ActorDep, status: int = 200, **extra: Any
) -> Template:
    p, n = paging(request)
    return page(
        request,
        "declassification/public_office.html",
        status,
        waiting=await service.waiting(tenant, actor, p, n),
        entries=await service.entries(tenant, actor, 1, n),
        levels=service.LEVELS,
        statuses=service.STATUSES,
        **{"focus": "", **extra},
    )


def _office_form(path: str, action: Action, *, focus: str, name: str, handler: str) -> HTTPRouteHandler:
    """A form of the office's page about an item, or a publication (`focus`: the path's
    parameter that names it): back to the page, or the page again with the form's messages,
    by the form they belong to, or the refusal."""
    return post_form(
        path,
        action,
        guards=[OFFICE],
        name=name,
        handler=handler,
        then="declassification/publication",
        again=_office_page,
        refused=_office_page,
        focus=focus,
    )


class PublicationPages(Controller):
    path = TENANT_PAGES

    office_page = show_page(
        "/declassification/publication",
        _office_page,
        guards=[OFFICE],
        name="declass.publication",
        handler="office_page",
    )
    decide_form = _office_form(
        "/declassification/publication/{item_id:str}",
        service.decide,
        focus="{item_id}",
        name="declass.publication_decide",
        handler="decide_form",
    )
    withdraw_form = _office_form(
        "/declassification/publications/{publication_id:str}/withdraw",
        service.withdraw,
        focus="{publication_id}",
        name="declass.publication_withdraw",
        handler="withdraw_form",
    )


class PublicationApi(Controller):
    path = TENANT_API

    @post(
        "/classified-items/{item_id:str}/publication", guards=[OFFICE], status_code=200, name="api.declass.publication"
    )
    async def api_decide(
        self, tenant: TenantDep, actor: ActorDep, item_id: FromPath[str], data: JSONBody[schemas.PublicationDecision]
    ) -> schemas.DecisionResult:
        return msgspec.convert(await service.decide(tenant, actor, item_id, body_data(data)), schemas.DecisionResult)

    @post(
        "/publications/{publication_id:str}/withdraw",
        guards=[OFFICE],
        status_code=200,
        name="api.declass.publication_withdraw",
    )
    async def api_withdraw(
        self, tenant: TenantDep, actor: ActorDep, publication_id: FromPath[str], data: JSONBody[schemas.Withdrawal]
    ) -> schemas.Entry:
        return msgspec.convert(await service.withdraw(tenant, actor, publication_id, body_data(data)), schemas.Entry)

    @get("/publications", guards=[OFFICE], name="api.declass.publications")
    async def api_entries(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.EntryPage:
        p, n = paging(request)
        return msgspec.convert(page_json(await service.entries(tenant, actor, p, n)), schemas.EntryPage)

    @get("/publications/waiting", guards=[OFFICE], name="api.declass.publications_waiting")
    async def api_waiting(self, request: Request, tenant: TenantDep, actor: ActorDep) -> schemas.WaitingPage:
        p, n = paging(request)
        return msgspec.convert(page_json(await service.waiting(tenant, actor, p, n)), schemas.WaitingPage)


# ---------------------------------------------------------------- the public side


def _filters(request: Request) -> dict[str, Any]:
    return service.public_filters(dict(request.query_params))


def _query_of(filters: dict[str, Any], **more: Any) -> str:
    params = {k: v for k, v in {**filters, **more}.items() if v not in (None, "")}
    return "?" + urlencode(params) if params else ""


class PublicPages(Controller):
    """No sign-in: the edge admits anyone to these (opt public); they read the Publication
    copies of one tenant and nothing of the register."""

    path = TENANT_PAGES
    opt = {"public": True}

    @get("/public/declassified", name="declass.public")
    async def public_page(self, request: Request, tenant: TenantDep) -> Template:
        filters = _filters(request)
        p, n = paging(request)
        return page(
            request,
            "declassification/public_list.html",
            result=await service.public_list(tenant, filters, p, n),
            choices=await service.public_choices(tenant),
            form={k: "" if v is None else str(v) for k, v in filters.items()},
            json_link=f"/t/{tenant.slug}/public/declassified.json{_query_of(filters)}",
        )

    @get("/public/declassified.json", name="declass.public_json")
    async def public_json(self, request: Request, tenant: TenantDep) -> schemas.PublicPage:
        filters = _filters(request)
        p, n = paging(request)
        result = await service.public_list(tenant, filters, p, n)
        following = None
        if result.has_next:
            following = f"/t/{tenant.slug}/public/declassified.json{_query_of(filters, page=p + 1, per_page=n)}"
        return msgspec.convert({**page_json(result), "next": following}, schemas.PublicPage)

    @get("/public/declassified.atom", media_type=ATOM, name="declass.public_atom")
    async def public_atom(self, request: Request, tenant: TenantDep) -> Response:
        entries = await service.public_feed(tenant)
        base = str(request.base_url).rstrip("/")
        return Response(content=_atom(tenant, entries, base), media_type=ATOM)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _atom(tenant: TenantRef, entries: list[dict], base: str) -> bytes:
    """An Atom feed (RFC 4287) of the newest entries; a withdrawn one says so, with why."""
    page_url = f"{base}/t/{tenant.slug}/public/declassified"
    feed = ET.Element("feed", xmlns=ATOM_NS)
    ET.SubElement(feed, "id").text = f"{page_url}.atom"
    ET.SubElement(feed, "title").text = _("Declassified matters of %(name)s", name=tenant.name)
    moments = [e["withdrawn_at"] or e["published_at"] for e in entries]
    newest = max(moments) if moments else datetime.combine(datetime.now(UTC).date(), time(), UTC)
    ET.SubElement(feed, "updated").text = _stamp(newest)
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = tenant.name
    ET.SubElement(feed, "link", rel="self", type=ATOM, href=f"{page_url}.atom")
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=page_url)
    for entry, moment in zip(entries, moments, strict=True):
        node = ET.SubElement(feed, "entry")
        ET.SubElement(node, "id").text = f"urn:uuid:{entry['id']}"
        title = f"{entry['reference']} {entry['public_title']}"
        if entry["withdrawn"]:
            title = _("Withdrawn: %(title)s", title=title)
        ET.SubElement(node, "title").text = title
        ET.SubElement(node, "updated").text = _stamp(moment)
        ET.SubElement(node, "published").text = _stamp(entry["published_at"])
        ET.SubElement(
            node, "link", rel="alternate", type="text/html", href=f"{page_url}?{urlencode({'q': entry['reference']})}"
        )
        ET.SubElement(node, "summary", type="text").text = _summary(entry)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _summary(entry: dict) -> str:
    """The entry in words; its days in ISO form, as a feed's readers take them (and a
    hundred localised dates would cost the feed more than its query)."""
    lines = [
        _("Unit: %(unit)s", unit=entry["unit"]),
        _("Declassified on: %(date)s", date=entry["declassified_on"].isoformat()),
        _("What was declassified: %(what)s", what=entry["what"] or _("The whole item")),
    ]
    if entry["withdrawn"]:
        lines.append(
            _(
                "Withdrawn on %(date)s: %(reason)s",
                date=entry["withdrawn_on"].isoformat(),
                reason=entry["withdrawn_reason"],
            )
        )
    return "\n".join(lines)


ROUTES = [PublicationPages, PublicationApi, PublicPages]
