"""The registry in bulk: what units.create_unit, create_person and add_post do, for a
whole tree and its people at once (the demo, a test world), with the same rows, audit
events and indicator events. No user input here: the callers pass valid data, and a
wrong value is a programming error (ValueError), not a message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server import events
from server.actor import Actor
from server.audit import bulk as audit
from server.core.bulk import insert_new, new_row, update_rows
from server.units import service as units
from server.units.tables import Person, Post, Unit
from tenants.service import TenantRef


def _must(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


async def add_units(tenant: TenantRef, actor: Actor, specs: Sequence[dict[str, Any]]) -> list[dict]:
    """units.create_unit for each {name, kind, code, sort_order, parent: index of an
    earlier spec or None}; returns {pk, uuid, name, kind, path, depth} in spec order."""
    for i, spec in enumerate(specs):
        _must(bool(spec["name"]) and spec["kind"] in units.KINDS, f"unit {i}: {spec}")
        _must(spec.get("parent") is None or 0 <= spec["parent"] < i, f"unit {i}: its parent comes first")
    made: list[dict] = [{} for _ in specs]
    level = [i for i, spec in enumerate(specs) if spec.get("parent") is None]
    while level:  # a tree level at a time: children name their parent's row id
        rows = []
        for i in level:
            spec = specs[i]
            parent = made[spec["parent"]] if spec.get("parent") is not None else None
            rows.append(
                new_row(
                    tenant=tenant.id,
                    parent=parent["pk"] if parent else None,
                    name=spec["name"],
                    kind=spec["kind"],
                    code=spec.get("code"),
                    sort_order=spec.get("sort_order", 0),
                )
            )
            made[i] = {"name": spec["name"], "kind": spec["kind"], "parent": parent}
        await insert_new(Unit, rows)
        for i, row in zip(level, rows, strict=True):
            parent = made[i].pop("parent")
            made[i].update(
                pk=row["id"],
                uuid=row["uuid"],
                path=(parent["path"] if parent else "") + units.path_segment(row["id"]),
                depth=parent["depth"] + 1 if parent else 0,
            )
        await update_rows(Unit, ("path", "depth"), [(made[i]["path"], made[i]["depth"], made[i]["pk"]) for i in level])
        placed = set(level)
        level = [i for i, spec in enumerate(specs) if spec.get("parent") in placed]
    await audit.record_each(tenant.id, "unit.create", "unit", [(actor, u["uuid"], {"name": u["name"]}) for u in made])
    return made


# the columns of a person that create_person takes, as NewPerson names them
_IDENTITY = ("name", "email", "mobile", "classified_level", "military_transfer")


@dataclass
class NewPerson:
    """A person and their posts: the first as units.create_person makes it, the others
    (earlier or later ones) as units.add_post adds them."""

    name: str
    posts: list[dict[str, Any]]  # {unit: unit pk, position, title, start_date, end_date}
    email: str = ""
    mobile: str = ""
    classified_level: str = "none"
    military_transfer: bool = False
    pk: int = 0
    uuid: Any = None
    post_pks: list[int] = field(default_factory=list)


def new_post(unit_pk: int, position: str, start: date, *, title: str = "", end: date | None = None) -> dict[str, Any]:
    """A post of a NewPerson."""
    return {"unit": unit_pk, "position": position, "title": title, "start_date": start, "end_date": end}


def _check_person(p: NewPerson) -> None:
    _must(bool(p.name) and bool(p.posts) and p.classified_level in units.LEVELS, f"person {p.name}")
    for held in p.posts:
        _must(held["position"] in units.POSITIONS, f"{p.name}: position {held['position']}")
        _must(
            held["end_date"] is None or held["end_date"] >= held["start_date"],
            f"{p.name}: a post ends before it starts",
        )


async def add_people(tenant: TenantRef, actor: Actor, people: Sequence[NewPerson]) -> None:
    """units.create_person (then add_post) for each; sets pk, uuid and post_pks on each."""
    for p in people:
        _check_person(p)
    rows = [new_row(tenant=tenant.id, **{k: getattr(p, k) for k in _IDENTITY}) for p in people]
    await insert_new(Person, rows)
    for p, row in zip(people, rows, strict=True):
        p.pk, p.uuid = row["id"], row["uuid"]
    posts = [(p, new_row(tenant=tenant.id, person=p.pk, **held)) for p in people for held in p.posts]
    await insert_new(Post, [row for _p, row in posts])
    for p, row in posts:
        p.post_pks.append(row["id"])
    unit_uuids = {r["id"]: r["uuid"] for r in await Unit.select(Unit.id, Unit.uuid).where(Unit.tenant == tenant.id)}
    first = [
        (actor, p.uuid, {"unit": str(unit_uuids[p.posts[0]["unit"]]), "position": p.posts[0]["position"]})
        for p in people
    ]
    await audit.record_each(tenant.id, "person.create", "person", first)
    later = [(actor, row["uuid"], {"person": str(p.uuid)}) for p, row in posts if row["id"] != p.post_pks[0]]
    await audit.record_each(tenant.id, "post.create", "post", later)
    await events.publish(
        events.INDICATOR_INPUTS,
        tenant,
        people=[p.pk for p in people],
        units=sorted({held["unit"] for p in people for held in p.posts}),
    )
