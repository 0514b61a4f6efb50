"""Pages composed from several domains' services (the web layer may read across domains;
the domains themselves may not)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.response import Template

from server import roles
from server.actor import Actor
from server.responsibility import catalog as catalogs
from server.training import service as training
from server.units import service as units
from server.web.templating import page
from tenants.service import TenantRef


async def person_page(
    request: Request, tenant: TenantRef, actor: Actor, person_id: str, status: int = 200, **extra: Any
) -> Template:
    """A person's page: their posts, the duties of those posts, this year's training; `extra`
    carries a form shown again with its messages (a duty or a notice that was refused)."""
    person = await units.person_detail(tenant, actor, person_id)
    choices = await units.unit_choices(tenant, actor) if actor.role in roles.PEOPLE_EDITORS else []
    assignments = await catalogs.assignments_of(tenant, [p["id"] for p in person["current_posts"]])
    hours = await training.person_training(tenant, actor, person_id, units.today(tenant).year)
    return page(
        request,
        "people/detail.html",
        status,
        person=person,
        choices=choices,
        assignments=assignments,
        leader_positions=units.LEADER_POSITIONS,
        training=hours,
        **extra,
    )


def person_form(form: str) -> Callable[..., Awaitable[Template]]:
    """The person page shown again with one of its forms (`form`: "post", "duty") as sent
    (`<form>_form`) and its messages (`<form>_errors`): the `again` of that form's post."""

    async def show(
        request: Request, tenant: TenantRef, actor: Actor, person_id: str, status: int = 200, **shown: Any
    ) -> Template:
        return await person_page(
            request, tenant, actor, person_id, status, **{f"{form}_{k}": v for k, v in shown.items()}
        )

    return show
