"""Jinja2 set-up and the one helper handlers render pages with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from litestar import MediaType, Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from server import roles
from server.core import i18n
from server.responsibility import notices
from server.settings import ROOT
from server.units import service as units


def _query(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (pagination, filters)."""
    params = {k: v for k, v in request.query_params.items()}
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params) if params else "?"


def _unit_options(choices: list[dict]) -> list[tuple[str, str]]:
    """Unit choices for a select, indented by depth so the tree shows."""
    return [(c["id"], "\u3000" * c["depth"] + c["name"]) for c in choices]


def _setup(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        format_date=i18n.format_date,
        format_datetime=i18n.format_datetime,
        get_locale=i18n.get_locale,
        LOCALE_NAMES=i18n.LOCALE_NAMES,
        ROLES=roles.ROLES,
        KINDS=units.KINDS,
        POSITIONS=units.POSITIONS,
        LEVELS=units.LEVELS,
        GAPS=units.GAPS,
        NOTICE_STATUSES=notices.STATUSES,
        query=_query,
        unit_options=_unit_options,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config() -> TemplateConfig:
    return TemplateConfig(directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_setup)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    edge = request.state.edge
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return Template(
        template_name=template,
        context={
            "edge": edge,
            "tenant": edge.tenant,
            "actor": edge.actor,
            "csrf_token": edge.csrf_token,
            "t": f"/t/{edge.tenant.slug}" if edge.tenant else "",
            **context,
        },
        status_code=status_code,
        media_type=MediaType.HTML,
    )
