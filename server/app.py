"""create_app(settings): the one place that wires Litestar."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.types import Message, Scope

from server import (
    db,
    documents,
    subscribers,  # noqa: F401  (its import subscribes the events' handlers)
)
from server.accounts import passwords
from server.accounts.routes import ROUTES as ACCOUNT_ROUTES
from server.accounts.twofactor_routes import ROUTES as TWOFACTOR_ROUTES
from server.assessment.routes import ROUTES as ASSESSMENT_ROUTES
from server.audit.routes import ROUTES as AUDIT_ROUTES
from server.declassification.routes import ROUTES as DECLASSIFICATION_ROUTES
from server.inspections.devices_routes import ROUTES as DEVICE_ROUTES
from server.inspections.fieldwork_routes import ROUTES as FIELDWORK_ROUTES
from server.inspections.findings_routes import ROUTES as FINDING_ROUTES
from server.inspections.reports_routes import ROUTES as INSPECTION_REPORT_ROUTES
from server.inspections.routes import ROUTES as INSPECTION_ROUTES
from server.platform.routes import ROUTES as PLATFORM_ROUTES
from server.reminders.routes import ROUTES as REMINDER_ROUTES
from server.responsibility.routes import ROUTES as RESPONSIBILITY_ROUTES
from server.scheduler import make_scheduler
from server.settings import ROOT, Settings
from server.training.routes import ROUTES as TRAINING_ROUTES
from server.units.routes import ROUTES as UNIT_ROUTES
from server.web.deps import DEPENDENCIES
from server.web.edge import EdgeMiddleware
from server.web.errors import EXCEPTION_HANDLERS, document_errors
from server.web.routes import ROUTES as WEB_ROUTES
from server.web.sessions import make_store
from server.web.templating import template_config

API_TOKENS = "A personal API token (Account → API tokens), sent as `Authorization: Bearer <token>`."

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers += [h for h in SECURITY_HEADERS if h[0] not in present]
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    if not scope["path"].startswith("/static/"):
        # pages carry personal data: never cache them in shared caches
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await db.open_pool()
        # what the start made (modules, routes, templates) lives as long as the process: out
        # of the collector's way, so that no request pays for walking it (p99 under load)
        gc.collect()
        gc.freeze()
        # the PDF workers load WeasyPrint and the fonts now, not on the first signature
        warming = asyncio.create_task(documents.warm_up())
        scheduler = make_scheduler(settings) if settings.scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            warming.cancel()
            documents.shutdown()
            await db.close_pool()

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    db.bind(db.make_engine(settings))
    documents.configure(settings)
    passwords.configure(settings)
    stores = StoreRegistry()
    sessions = make_store(settings, stores)
    static = create_static_files_router(
        path="/static",
        directories=[ROOT / "server" / "web" / "static"],
        opt={"static": True, "public": True},
        include_in_schema=False,
    )
    app = Litestar(
        route_handlers=[
            *WEB_ROUTES,
            *PLATFORM_ROUTES,
            *ACCOUNT_ROUTES,
            *TWOFACTOR_ROUTES,
            *UNIT_ROUTES,
            *RESPONSIBILITY_ROUTES,
            *TRAINING_ROUTES,
            *ASSESSMENT_ROUTES,
            *INSPECTION_ROUTES,
            *DEVICE_ROUTES,
            *FIELDWORK_ROUTES,
            *FINDING_ROUTES,
            *DECLASSIFICATION_ROUTES,
            *INSPECTION_REPORT_ROUTES,
            *REMINDER_ROUTES,
            *AUDIT_ROUTES,
            static,
        ],
        middleware=[EdgeMiddleware(settings, sessions)],
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[security_headers],
        lifespan=[_lifespan(settings)],
        dependencies=DEPENDENCIES,
        openapi_config=OpenAPIConfig(
            title="Luzhi API",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description=API_TOKENS)}
            ),
        ),
        request_max_body_size=settings.max_body_bytes,
        stores=stores,
        state=State({"settings": settings, "sessions": sessions}),
    )
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            document_errors(handler, route.path)
    return app
