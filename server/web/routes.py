"""Routes outside any tenant: the landing page, health, language choice."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from server import db
from server.core.i18n import normalize
from server.web.forms import form_data
from server.web.templating import page


class Health(msgspec.Struct):
    status: str


class PublicPages(Controller):
    path = "/"
    opt = {"public": True}

    @get("/", name="landing")
    async def landing(self, request: Request) -> Template:
        return page(request, "landing.html")

    @get("/healthz", name="healthz")
    async def healthz(self) -> Health:
        await db.ping()
        return Health(status="ok")

    @get("/go", name="go")
    async def go(self, slug: FromQuery[str] = "") -> Redirect:
        """The landing page's "sign in to your bureau" box."""
        slug = slug.strip().lower()
        return Redirect(f"/t/{slug}/login" if slug.replace("-", "").isalnum() else "/", status_code=303)

    @post("/locale", name="locale")
    async def choose_locale(self, request: Request) -> Redirect:
        data = await form_data(request)
        target = str(data.get("next") or "/")
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        request.state.edge.set_lang = normalize(str(data.get("locale", ""))) or None
        return Redirect(target, status_code=303)


ROUTES = [PublicPages]
