"""Routes outside any tenant: the landing page, health, language choice."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from server import db
from server.core.i18n import normalize
from server.web.forms import form_data
from server.web.templating import page

PUBLIC = {"public": True}


@get("/", opt=PUBLIC, name="landing")
async def landing(request: Request) -> Template:
    return page(request, "landing.html")


@get("/healthz", opt=PUBLIC, name="healthz")
async def healthz() -> dict[str, Any]:
    await db.ping()
    return {"status": "ok"}


@get("/go", opt=PUBLIC, name="go")
async def go(slug: FromQuery[str] = "") -> Redirect:
    """The landing page's "sign in to your bureau" box."""
    slug = slug.strip().lower()
    return Redirect(f"/t/{slug}/login" if slug.replace("-", "").isalnum() else "/", status_code=303)


@post("/locale", opt=PUBLIC, name="locale")
async def choose_locale(request: Request) -> Redirect:
    data = await form_data(request)
    target = str(data.get("next") or "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    request.state.edge.set_lang = normalize(str(data.get("locale", ""))) or None
    return Redirect(target, status_code=303)


ROUTES = [landing, healthz, go, choose_locale]
