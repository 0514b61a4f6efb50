"""Training records: requirements per year, courses and attendance, hours against
what each person's role requires, and the all-or-nothing Excel import."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

from piccolo.query.functions.aggregate import Sum

from server import db, events
from server.actor import Actor
from server.audit import service as audit
from server.audit import summaries
from server.core.chunks import chunks, rows_in
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.core.i18n import _, _l
from server.core.rows import joined, pick, public, read_row
from server.core.validation import Checker
from server.documents import workbooks
from server.documents.xlsx import write_workbook
from server.training import workbook
from server.training.tables import Attendance, Course, TrainingImport, TrainingRequirement
from server.units import service as units
from tenants.service import TenantRef, get_owned, settings_of

KINDS = {"lecture": _l("Lecture"), "online": _l("Online course"), "exam": _l("Exam"), "exercise": _l("Exercise")}
MAX_HOURS = 40  # one course; more is a typing error, not a training
LABELS = {
    "title": _l("Course"),
    "kind": _l("Kind"),
    "hours": _l("Hours"),
    "date": _l("Date"),
    "organiser": _l("Organiser"),
    "pass_mark": _l("Pass mark"),
    "unit_id": _l("Unit"),
    "person_id": _l("Person"),
    "score": _l("Score"),
    "year": _l("Year"),
    "leader": _l("Leaders"),
    "core": _l("Core"),
    "important": _l("Important"),
    "general": _l("General"),
}


workbook_message = workbooks.upload_message


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _num_or_none(value: Any) -> float | None:
    return float(value) if value is not None else None


# ---------------------------------------------------------------- requirements


async def requirements(tenant: TenantRef, year: int) -> dict[str, float]:
    row = (
        await TrainingRequirement.select()
        .where(TrainingRequirement.tenant == tenant.id, TrainingRequirement.year == year)
        .first()
    )
    if row:
        return {k: _num(row[k]) for k in ("leader", "core", "important", "general")}
    defaults = (await settings_of(tenant))["training_hours"]
    return {k: float(defaults[k]) for k in ("leader", "core", "important", "general")}


async def set_requirements(tenant: TenantRef, actor: Actor, year: int, data: dict[str, Any]) -> dict:
    check = Checker(data, LABELS)
    values = {}
    for key in ("leader", "core", "important", "general"):
        values[key] = _hours(check, key, required=True, maximum=200)
    check.done()
    async with db.atomic():
        await TrainingRequirement.delete().where(
            TrainingRequirement.tenant == tenant.id, TrainingRequirement.year == year
        )
        await TrainingRequirement.insert(TrainingRequirement(tenant=tenant.id, year=year, **values))
        await audit.record(tenant.id, actor, "training.requirements", "year", year, detail=values)
    return await requirements(tenant, year)


def required_of(req: dict[str, float], leader: bool, level: str) -> float:
    """A person who is both a leader and classified personnel owes the higher figure."""
    return max(req["leader"] if leader else 0.0, req.get(level, 0.0) if level != "none" else 0.0)


def _hours(check: Checker, field: str, *, required: bool = False, maximum: float = MAX_HOURS) -> float | None:
    raw = check.data.get(field)
    if raw is None or raw == "":
        if required:
            check.fail(field, _("%(field)s is required.", field=check.label(field)))
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        check.fail(field, _("%(field)s must be a number.", field=check.label(field)))
        return None
    if isinstance(raw, bool) or not 0 < value <= maximum:
        check.fail(
            field, _("%(field)s must be more than 0 and at most %(max)s.", field=check.label(field), max=maximum)
        )
        return None
    return round(value, 1)


# ---------------------------------------------------------------- hours


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


async def hours_by_person(
    tenant: TenantRef, person_pks: list[int] | None, year: int, *, until: date | None = None
) -> dict[int, float]:
    """Hours in the year (up to `until`) by person: these people, or (None) everyone in the tenant at once."""
    start, end = _year_bounds(year)
    end = min(end, until) if until else end
    totals: dict[int, float] = defaultdict(float)
    for batch in [None] if person_pks is None else chunks(person_pks):
        rows = (
            await Attendance.select(Attendance.person, Sum(Attendance.hours, alias="h"))
            .where(
                Attendance.tenant == tenant.id,
                *([Attendance.person.is_in(batch)] if batch is not None else []),
                Attendance.course.date >= start,
                Attendance.course.date <= end,
            )
            .group_by(Attendance.person)
        )
        for r in rows:
            totals[r["person"]] += _num(r["h"])
    return totals


async def person_training(tenant: TenantRef, actor: Actor, person_id: Any, year: int) -> dict:
    person = await units.person_detail(tenant, actor, person_id)
    pk = await units.person_pk(tenant, actor, person_id)
    req = await requirements(tenant, year)
    leader = any(p["position"] in units.LEADER_POSITIONS for p in person["current_posts"])
    rows = (
        await Attendance.select(
            Attendance.hours,
            Attendance.score,
            *joined(Attendance.course, "title", "date", "kind", prefix=""),
            Attendance.course.uuid.as_alias("course_id"),
        )
        .where(Attendance.tenant == tenant.id, Attendance.person == pk)
        .order_by(Attendance.course.date, ascending=False)
    )
    by_year: dict[int, float] = defaultdict(float)
    for r in rows:
        by_year[r["date"].year] += _num(r["hours"])
    hours = by_year.get(year, 0.0)
    required = required_of(req, leader, person["classified_level"])
    return {
        "person_id": person["id"],
        "name": person["name"],
        "year": year,
        "hours": hours,
        "required": required,
        "shortfall": max(0.0, required - hours),
        "attendances": [
            {
                "course_id": str(r["course_id"]),
                **pick(r, "title", "date", "kind"),
                "hours": _num(r["hours"]),
                "score": _num_or_none(r["score"]),
            }
            for r in rows
            if r["date"].year == year
        ],
        "history": [{"year": y, "hours": h} for y, h in sorted(by_year.items(), reverse=True)],
    }


async def my_hours(tenant: TenantRef, actor: Actor) -> dict | None:
    """The portal's figure: this year's hours of the actor's own person record."""
    if not actor.person_id:
        return None
    try:
        person_id = await units.person_uuid(tenant, actor.person_id)
        return await person_training(tenant, actor, person_id, units.today(tenant).year)
    except NotFound:
        return None


@summaries.kept("training.unit_training")
async def unit_training(tenant: TenantRef, actor: Actor, unit_id: Any, year: int) -> dict:
    """People in post in a unit's subtree (the actor's whole scope when unit_id is None):
    their hours against what they owe, the shares meeting it, who is short."""
    people: dict[str, dict] = {}
    for post in await units.current_posts_with_pks(tenant, actor, within=unit_id or None):
        entry = people.setdefault(post["person_id"], {**post, "leader": False})
        entry["leader"] = entry["leader"] or post["position"] in units.LEADER_POSITIONS
    pks = {pid: p["person_pk"] for pid, p in people.items()}
    whole = actor.scope_path is None and not unit_id
    hours = await hours_by_person(tenant, None if whole else list(pks.values()), year)
    req = await requirements(tenant, year)
    rows = []
    for pid, p in people.items():
        required = required_of(req, p["leader"], p["classified_level"])
        done = hours.get(pks[pid], 0.0)
        rows.append(
            {
                "person_id": pid,
                "name": p["person_name"],
                **pick(p, "unit_id", "unit_name", "position", "leader", "classified_level"),
                "hours": done,
                "required": required,
                "shortfall": max(0.0, required - done),
            }
        )
    leaders = [r for r in rows if r["leader"]]
    classified = [r for r in rows if r["classified_level"] != "none"]

    def share(group: list[dict]) -> dict:
        met = sum(1 for r in group if r["shortfall"] == 0)
        return {"total": len(group), "met": met, "rate": round(met / len(group), 4) if group else 1.0}

    return {
        "year": year,
        "requirements": req,
        "leaders": share(leaders),
        "classified": share(classified),
        "short": sorted((r for r in rows if r["shortfall"] > 0), key=lambda r: (-r["shortfall"], r["name"])),
        "people": len(rows),
    }


# ---------------------------------------------------------------- courses and attendance


def _course_public(row: dict) -> dict:
    return public(
        row,
        "title",
        "kind",
        "date",
        "organiser",
        hours=_num(row["hours"]),
        pass_mark=_num_or_none(row["pass_mark"]),
        unit_name=row.get("unit_name") or "",
    )


def _check_date(check: Checker, tenant: TenantRef, field: str = "date", year: int | None = None) -> date | None:
    day = check.date(field, required=True)
    if day and day > units.today(tenant):
        check.fail(field, _("%(field)s cannot be in the future.", field=check.label(field)))
    elif day and year and day.year != year:
        check.fail(field, _("%(field)s is outside %(year)s.", field=check.label(field), year=year))
    return day


def course_title(text: Any) -> str:
    """A title as kept and compared: runs of spaces are one space (part of the natural key)."""
    return " ".join(str(text or "").split())


async def create_course(tenant: TenantRef, actor: Actor, data: dict[str, Any]) -> dict:
    check = Checker(data, LABELS)
    values = {
        "title": course_title(check.text("title", required=True, max_len=200)),
        "kind": check.choice("kind", KINDS),
        "hours": _hours(check, "hours", required=True),
        "date": _check_date(check, tenant),
        "organiser": course_title(check.text("organiser", max_len=200)),
        "pass_mark": _hours(check, "pass_mark", maximum=1000) if data.get("pass_mark") not in (None, "") else None,
    }
    unit_pk = actor.scope_unit_id  # a unit officer's courses belong to their unit
    if actor.scope_path is None:
        missing = _("%(field)s: no such unit.", field=check.label("unit_id"))
        unit_pk = await check.found("unit_id", partial(units.unit_pk, tenant, actor), missing) or unit_pk
    check.done()
    duplicate = ValidationFailed(
        {"title": _("A course with this title, date and organiser is already recorded; add the attendance to it.")}
    )
    async with db.atomic():
        course = Course(tenant=tenant.id, unit=unit_pk, **values)
        # the natural key decides, also between two requests at once
        if not await Course.insert(course).on_conflict(action="DO NOTHING").returning(Course.id):
            raise duplicate
        await audit.record(tenant.id, actor, "training.course", "course", course.uuid, detail=pick(values, "title"))
    return await course_detail(tenant, actor, course.uuid)


def _course_scope(actor: Actor) -> list:
    # the office's tenant-wide courses are everyone's; a unit's courses stay in its subtree
    return [Course.unit.is_null() | Course.unit.path.like(actor.scope_path + "%")] if actor.scope_path else []


@summaries.kept("training.list_courses")
async def list_courses(tenant: TenantRef, actor: Actor, year: int) -> list[dict]:
    start, end = _year_bounds(year)
    rows = (
        await Course.select(Course.all_columns(), Course.unit.name.as_alias("unit_name"))
        .where(Course.tenant == tenant.id, Course.date >= start, Course.date <= end, *_course_scope(actor))
        .order_by(Course.date, ascending=False)
    )
    counts = {}
    if rows:
        counts = {
            r["course"]: r["n"]
            for r in await Attendance.select(Attendance.course, Sum(Attendance.hours, alias="n"))
            .where(
                Attendance.tenant == tenant.id,
                Attendance.course.is_in([r["id"] for r in rows]),
                *_attendee_scope(tenant, actor),
            )
            .group_by(Attendance.course)
        }
    return [{**_course_public(r), "attendee_hours": _num(counts.get(r["id"]))} for r in rows]


def _attendee_scope(tenant: TenantRef, actor: Actor) -> list:
    # a tenant-wide course has attendees from every unit: a unit's officer sees their own
    people = units.people_in_scope(tenant, actor)
    return [] if people is None else [Attendance.person.is_in(people)]


async def _course_row(tenant: TenantRef, actor: Actor, course_id: Any) -> dict:
    row = await get_owned(Course, tenant, course_id)
    if actor.scope_path and row["unit"] is not None:
        path = await units.unit_path(tenant, row["unit"])
        if path is None or not path.startswith(actor.scope_path):
            raise NotFound()
    return row


async def course_detail(tenant: TenantRef, actor: Actor, course_id: Any) -> dict:
    row = await _course_row(tenant, actor, course_id)
    attendees = (
        await Attendance.select(
            Attendance.uuid,
            Attendance.hours,
            Attendance.score,
            *joined(Attendance.person, "uuid", "name"),
        )
        .where(Attendance.tenant == tenant.id, Attendance.course == row["id"], *_attendee_scope(tenant, actor))
        .order_by(Attendance.person.name)
    )
    return {
        **_course_public(row),
        "attendees": [
            public(
                a,
                person_id=str(a["person_uuid"]),
                name=a["person_name"],
                hours=_num(a["hours"]),
                score=_num_or_none(a["score"]),
                passed=None if row["pass_mark"] is None or a["score"] is None else a["score"] >= row["pass_mark"],
            )
            for a in attendees
        ],
    }


async def add_attendance(tenant: TenantRef, actor: Actor, course_id: Any, data: dict[str, Any]) -> dict:
    course = await _course_row(tenant, actor, course_id)
    check = Checker(data, LABELS)
    person_uuid = check.uuid("person_id", required=True)
    hours = _hours(check, "hours") if check.present("hours") and data.get("hours") not in ("", None) else None
    score = _hours(check, "score", maximum=1000) if data.get("score") not in ("", None) else None
    person_pk = None
    if person_uuid:
        try:
            person_pk = await units.person_pk(tenant, actor, person_uuid)
        except NotFound:
            check.fail("person_id", _("%(field)s: no such person in your scope.", field=check.label("person_id")))
    if person_pk and await Attendance.exists().where(
        Attendance.tenant == tenant.id, Attendance.course == course["id"], Attendance.person == person_pk
    ):
        check.fail("person_id", _("This person's attendance is already recorded."))
    check.done()
    async with db.atomic():
        row = Attendance(
            tenant=tenant.id,
            course=course["id"],
            person=person_pk,
            hours=hours if hours is not None else course["hours"],
            score=score,
        )
        await row.save()
        await audit.record(
            tenant.id, actor, "training.attendance", "course", course["uuid"], detail={"person": str(person_uuid)}
        )
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[person_pk])
    return await course_detail(tenant, actor, course["uuid"])


async def remove_attendance(tenant: TenantRef, actor: Actor, attendance_id: Any) -> str:
    row = await get_owned(Attendance, tenant, attendance_id)
    course = await Course.select(Course.uuid).where(Course.id == row["course"]).first()
    await _course_row(tenant, actor, course["uuid"])
    # on a tenant-wide course an officer may remove only their own people's attendance
    await units.person_pk(tenant, actor, await units.person_uuid(tenant, row["person"]))
    async with db.atomic():
        await Attendance.delete().where(Attendance.id == row["id"])
        await audit.record(tenant.id, actor, "training.attendance_remove", "course", course["uuid"])
        await events.publish(events.INDICATOR_INPUTS, tenant, people=[row["person"]])
    return str(course["uuid"])


# ---------------------------------------------------------------- import


async def preview_import(tenant: TenantRef, actor: Actor, filename: str, data: bytes, year: int) -> dict:
    """Check every row of an attendance workbook and keep the result: what each good row
    would change, and why each bad row is wrong (in the column as the file names it).
    Nothing is written to the records."""
    sheet = await workbook.parse_attendance(data)
    people = (await units.list_people(tenant, actor, per_page=1_000_000)).items
    courses = await _courses_by_key(tenant, year)
    existing = await _existing_hours(tenant, list(courses.values()))
    rows = _ImportRows(people, year, units.today(tenant))
    good: list[dict] = []
    errors: list[dict] = []
    for row in sheet:
        checked, problems = rows.check(row)
        if problems:
            errors += [{"line": row.line, "field": f, "column": _column(sheet, f), "message": m} for f, m in problems]
            continue
        course = courses.get((checked["course"], checked["date"]))
        before = existing.get((course, checked["person_id"])) if course else None
        status = "new" if before is None else ("same" if before == checked["hours"] else "update")
        # "before" is what the records held: applying checks it still does
        good.append({**checked, "status": status, "before": before})
    async with db.atomic():
        record = TrainingImport(
            tenant=tenant.id,
            user_id=actor.id or 0,
            filename=filename[:200],
            year=year,
            rows=good,
            errors=errors,
            note=json.dumps({"sheet": sheet.sheet, "totals": sheet.totals}, ensure_ascii=False),
        )
        await record.save()
        await audit.record(
            tenant.id,
            actor,
            "training.import_preview",
            "import",
            record.uuid,
            detail={"rows": len(good), "errors": len(errors), "totals": len(sheet.totals)},
        )
    return await import_detail(tenant, actor, record.uuid)


def _column(sheet: workbooks.SheetRows, key: str) -> str:
    """A column as the file names it (its own header text), else as the template does."""
    return sheet.headers.get(key) or str(workbook.LABELS[key])


class _ImportRows:
    """Checks an attendance workbook's rows, one by one, against the people in the actor's
    scope and the year; a row repeating an earlier one (person, course, date) is refused.
    Names and units are compared as workbooks.text_key does ("何　春" is 何春)."""

    def __init__(self, people: list[dict], year: int, today: date) -> None:
        self.by_id = {p["person_id"]: p for p in people}
        self.by_name: dict[str, dict[str, dict]] = defaultdict(dict)
        for p in people:
            self.by_name[workbooks.text_key(p["person_name"])][p["person_id"]] = p
        self.year, self.today = year, today
        self.start, self.end = _year_bounds(year)
        self.seen: dict[tuple, int] = {}

    def check(self, row: workbook.SheetRow) -> tuple[dict, list[tuple[str, str]]]:
        """The row as it would be recorded, and its problems as (field, message)."""
        problems: list[tuple[str, str]] = []
        notes: list[str] = []
        for key in row.formulas:
            problems.append((key, _("Formulas are not accepted; type the value itself.")))
        v = row.values
        person = self._person(v, problems, notes)
        title = self._title(v, problems)
        day = self._day(v, problems, notes)
        hours, score = self._numbers(v, problems)
        if person and title and day:
            key = (person["person_id"], title, day)
            if key in self.seen:
                problems.append(("name", _("Duplicate of line %(line)s.", line=self.seen[key])))
            self.seen.setdefault(key, row.line)
        if problems:
            return {}, problems
        checked = {
            "line": row.line,
            "person_id": person["person_id"],
            "person_name": person["person_name"],
            "unit_name": person["unit_name"],
            "course": title,
            "date": day.isoformat(),
            "hours": round(hours, 1),
            "score": score,
            "note": " ".join(notes),
        }
        return checked, problems

    def _person(self, v: dict, problems: list[tuple[str, str]], notes: list[str]) -> dict | None:
        """By person id, else by name (and unit, when two share it). A staff number in the
        id column is not kept by the registry: the row is matched by name and says so."""
        pid, name, unit = str(v.get("person_id") or "").strip(), str(v.get("name") or "").strip(), v.get("unit")
        if pid and (uuid := _uuid_text(pid)):
            if uuid not in self.by_id:
                problems.append(("person_id", _("No person with this id in your scope.")))
            return self.by_id.get(uuid)
        if pid:
            notes.append(_("The number %(number)s is not an id of the registry; matched by name.", number=pid))
        if not name:
            problems.append(("name", _("The name is missing.")))
            return None
        candidates = list(self.by_name.get(workbooks.text_key(name), {}).values())
        if unit:
            candidates = [c for c in candidates if workbooks.text_key(c["unit_name"]) == workbooks.text_key(unit)]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            where = f" ({unit})" if unit else ""
            problems.append(("name", _("No person called %(name)s in your scope%(unit)s.", name=name, unit=where)))
        else:
            message = _(
                "%(n)d people are called %(name)s; add the unit or the person id.", n=len(candidates), name=name
            )
            problems.append(("name", message))
        return None

    @staticmethod
    def _title(v: dict, problems: list[tuple[str, str]]) -> str:
        title = course_title(v.get("course"))
        if not title:
            problems.append(("course", _("The course is missing.")))
        elif len(title) > 200:
            problems.append(("course", _("The course title is too long.")))
        return title

    def _day(self, v: dict, problems: list[tuple[str, str]], notes: list[str]) -> date | None:
        day, yearless = workbooks.read_date(v.get("date"), self.year)
        assumed = _("No year given: %(year)s assumed.", year=self.year) if yearless else ""
        if v.get("date") in (None, ""):
            problems.append(("date", _("The date is missing.")))
        elif day is None:
            message = _("The date cannot be read; write it as one of %(forms)s.", forms=workbooks.DATE_FORMS)
            problems.append(("date", message))
        elif not self.start <= day <= self.end:
            problems.append(("date", _("The date is outside %(year)s.", year=self.year)))
        elif day > self.today:
            problems.append(("date", " ".join(filter(None, (_("The date is in the future."), assumed)))))
        elif assumed:
            notes.append(assumed)
        return day

    @staticmethod
    def _numbers(v: dict, problems: list[tuple[str, str]]) -> tuple[float | None, float | None]:
        """The hours (required) and the score (optional)."""
        hours = workbooks.read_number(v.get("hours"), hours=True)
        if hours is None:
            problems.append(("hours", _("The hours are not a number.")))
        elif not 0 < hours <= MAX_HOURS:
            problems.append(("hours", _("The hours must be more than 0 and at most %(max)s.", max=MAX_HOURS)))
        score = None
        if v.get("score") not in (None, ""):
            score = workbooks.read_number(v.get("score"))
            if score is None or not 0 <= score <= 1000:
                problems.append(("score", _("The score is not a valid number.")))
        return hours, score


def _uuid_text(text: str) -> str | None:
    """The id as the registry writes it, or None when the text is no id (a staff number)."""
    try:
        return str(UUID(text))
    except ValueError:
        return None


async def _import_row(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    row = await get_owned(TrainingImport, tenant, import_id)
    if actor.scope_path and row["user_id"] != actor.id:
        raise NotFound()  # a unit officer sees their own uploads
    return row


async def import_detail(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    row = await _import_row(tenant, actor, import_id)
    data = await read_row(TrainingImport, row["id"], TrainingImport.rows, TrainingImport.errors)
    read = json.loads(row["note"] or "{}")  # what the reader learnt of the sheet; older previews kept none
    return {
        **public(row, "filename", "year", "status", "created_at", "applied_at"),
        **workbooks.preview_summary(data["rows"], data["errors"]),
        "sheet": read.get("sheet", ""),
        "totals": read.get("totals", []),
    }


async def _courses_by_key(tenant: TenantRef, year: int) -> dict[tuple[str, str], int]:
    """The year's courses by (title, ISO date), the key an import names a course by."""
    start, end = _year_bounds(year)
    return {
        (r["title"], r["date"].isoformat()): r["id"]
        for r in await Course.select(Course.id, Course.title, Course.date).where(
            Course.tenant == tenant.id, Course.date >= start, Course.date <= end
        )
    }


async def _existing_hours(tenant: TenantRef, course_pks: list[int]) -> dict[tuple[int, str], float]:
    """Recorded hours by (course pk, person id) at these courses."""
    columns = (Attendance.course, Attendance.hours, Attendance.person.uuid.as_alias("person_uuid"))
    return {
        (a["course"], str(a["person_uuid"])): _num(a["hours"])
        for a in await rows_in(Attendance.course, course_pks, *columns, where=[Attendance.tenant == tenant.id])
    }


def _stale_message(changed: list[dict]) -> str:
    first = changed[0]
    return _(
        "Since this preview was made, %(n)d of its rows were changed by another import or entry "
        "(first: line %(line)s, %(name)s, %(course)s on %(date)s). Nothing was written; "
        "upload the file again for a fresh preview.",
        n=len(changed),
        line=first["line"],
        name=first["person_name"],
        course=first["course"],
        date=first["date"],
    )


def _changed_since_preview(
    rows: list[dict], courses: dict[tuple[str, str], int], existing: dict[tuple[int, str], float]
) -> list[dict]:
    changed = []
    for r in rows:
        course = courses.get((r["course"], r["date"]))
        now = existing.get((course, r["person_id"])) if course else None
        # previews made before "before" was kept: their status still tells new from recorded
        was = r["before"] if "before" in r else (None if r["status"] == "new" else now)
        if now != was or (r["status"] != "new" and now is None):
            changed.append(r)
    return changed


async def apply_import(tenant: TenantRef, actor: Actor, import_id: Any) -> dict:
    """Write a clean preview in one transaction: missing courses, then attendance. Applying
    is one conditional state change, so of two applies at once the second writes nothing;
    a preview whose rows changed since it was made is refused, not half applied."""
    row = await _import_row(tenant, actor, import_id)
    detail = await import_detail(tenant, actor, import_id)
    workbooks.applicable(detail)
    year = detail["year"]
    async with db.atomic():
        await workbooks.claim(TrainingImport, row["id"])
        courses = await _courses_by_key(tenant, year)
        changed = _changed_since_preview(detail["rows"], courses, await _existing_hours(tenant, list(courses.values())))
        if changed:
            raise Conflict(_stale_message(changed))
        changing = [r for r in detail["rows"] if r["status"] != "same"]
        courses, created = await _add_missing_courses(tenant, actor, year, changing, courses)
        pks = await units.person_pks(tenant, list({r["person_id"] for r in changing}))
        if not await _write_attendance(tenant, changing, courses, pks):
            # recorded by another transaction after the check above: refuse it all
            changed = _changed_since_preview(
                detail["rows"], courses, await _existing_hours(tenant, list(courses.values()))
            )
            raise Conflict(_stale_message(changed or [r for r in changing if r["status"] == "new"]))
        await audit.record(
            tenant.id,
            actor,
            "training.import_apply",
            "import",
            detail["id"],
            detail={"written": len(changing), "courses": created},
        )
        await events.publish(events.INDICATOR_INPUTS, tenant, people=list(pks.values()))
    return {
        "written": len(changing),
        "courses_created": created,
        "unchanged": len(detail["rows"]) - len(changing),
    }


async def _add_missing_courses(
    tenant: TenantRef, actor: Actor, year: int, rows: list[dict], courses: dict[tuple[str, str], int]
) -> tuple[dict[tuple[str, str], int], int]:
    """Record the courses these rows name that are missing (hours: the most any row gives):
    the year's courses then, and how many were created here."""
    missing: dict[tuple[str, str], float] = {}
    for r in rows:
        key = (r["course"], r["date"])
        if key not in courses:
            missing[key] = max(missing.get(key, 0.0), r["hours"])
    if not missing:
        return courses, 0
    new_courses = [
        Course(
            tenant=tenant.id,
            unit=actor.scope_unit_id,
            title=t,
            kind="lecture",
            hours=h,
            date=date.fromisoformat(d),
            organiser="",
        )
        for (t, d), h in missing.items()
    ]
    created = 0
    for batch in chunks(new_courses):
        # another import may create the same course at this moment: its key keeps one
        created += len(await Course.insert(*batch).on_conflict(action="DO NOTHING").returning(Course.id))
    return await _courses_by_key(tenant, year), created


async def _write_attendance(
    tenant: TenantRef, rows: list[dict], courses: dict[tuple[str, str], int], pks: dict[str, int]
) -> bool:
    """Update the recorded attendance and insert the new; False when another transaction
    recorded some of the new meanwhile."""
    inserts = []
    for r in rows:
        course_pk, person_pk = courses[(r["course"], r["date"])], pks[r["person_id"]]
        if r["status"] == "update":
            await Attendance.update({Attendance.hours: r["hours"], Attendance.score: r["score"]}).where(
                Attendance.tenant == tenant.id, Attendance.course == course_pk, Attendance.person == person_pk
            )
        else:
            inserts.append(
                Attendance(tenant=tenant.id, course=course_pk, person=person_pk, hours=r["hours"], score=r["score"])
            )
    written = 0
    for batch in chunks(inserts):
        written += len(await Attendance.insert(*batch).on_conflict(action="DO NOTHING").returning(Attendance.id))
    return written == len(inserts)


# ---------------------------------------------------------------- exports


async def export_courses(tenant: TenantRef, actor: Actor, year: int) -> bytes:
    await audit.record(tenant.id, actor, "export.courses", "training", year)
    courses = await list_courses(tenant, actor, year)
    return write_workbook(
        [
            (
                str(_l("Courses")),
                [str(LABELS[k]) for k in ("title", "kind", "date", "hours", "organiser")] + [str(_l("Unit"))],
                [
                    [
                        c["title"],
                        str(KINDS.get(c["kind"], c["kind"])),
                        c["date"],
                        c["hours"],
                        c["organiser"],
                        c["unit_name"],
                    ]
                    for c in courses
                ],
            )
        ]
    )


async def export_hours(tenant: TenantRef, actor: Actor, year: int) -> bytes:
    await audit.record(tenant.id, actor, "export.training_hours", "training", year)
    data = await unit_training(tenant, actor, None, year)
    short = data["short"]
    return write_workbook(
        [
            (
                str(_l("Short of hours")),
                [
                    str(_l("Full name")),
                    str(_l("Unit")),
                    str(_l("Position")),
                    str(_l("Hours")),
                    str(_l("Required")),
                    str(_l("Shortfall")),
                ],
                [
                    [
                        r["name"],
                        r["unit_name"],
                        str(units.POSITIONS[r["position"]]),
                        r["hours"],
                        r["required"],
                        r["shortfall"],
                    ]
                    for r in short
                ],
            )
        ]
    )


async def export_attendance(tenant: TenantRef, actor: Actor, year: int, unit: str = "") -> bytes:
    """The year's attendance of the people an import matches (in post in the actor's
    scope; within `unit`'s subtree when given), in the import's layout: re-imported
    unchanged, every row is "same"."""
    await audit.record(tenant.id, actor, "export.attendance", "training", year, detail={"unit": unit} if unit else None)
    people = {p["person_id"]: p for p in (await units.list_people(tenant, actor, unit=unit, per_page=1_000_000)).items}
    pks = await units.person_pks(tenant, list(people))
    start, end = _year_bounds(year)
    found = await rows_in(
        Attendance.person,
        list(pks.values()),
        Attendance.hours,
        Attendance.score,
        Attendance.person.uuid.as_alias("person_uuid"),
        *joined(Attendance.course, "title", "date", prefix=""),
        where=[Attendance.tenant == tenant.id, Attendance.course.date >= start, Attendance.course.date <= end],
    )
    rows = []
    for a in found:
        person = people[str(a["person_uuid"])]
        rows.append(
            {
                "person_id": person["person_id"],
                "name": person["person_name"],
                "unit": person["unit_name"],
                "course": a["title"],
                "date": a["date"],
                "hours": _num(a["hours"]),
                "score": _num_or_none(a["score"]),
            }
        )
    rows.sort(key=lambda r: (r["date"], r["course"], r["unit"], r["name"]))
    return workbook.attendance_export(rows)
