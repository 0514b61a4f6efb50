"""The annual assessment, at the service level: automatic indicators recomputed by hand
from a hand-built unit, self-assessment and review, deductions and vetoes, grades,
caps and ranks, finalisation and corrections, and bad input that writes nothing.

Data is built through the services (people, notices, signatures, confirmations,
training); rows are touched directly only to move time (signed_at, submitted_at,
closed_at), because a test cannot wait a year."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import db
from server.accounts import service as accounts
from server.assessment import cycle, evidence, results, reviews, scoring
from server.assessment.scheme import DEFAULT
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Evidence, Scheme, Score, ScoreEvent
from server.audit.tables import AuditEvent
from server.core.errors import Conflict, NotFound, ValidationFailed
from server.responsibility import confirmations, notices
from server.responsibility.tables import Confirmation, Notice
from server.training import service as training
from server.units import service as units
from tests.conftest import PASSWORD
from tests.factories import make_person, make_unit, make_user, make_world

MANUAL = ("R3", "C", "P", "N", "M", "D")
AUTO = ("R1", "R2", "T1", "T2")

# an all-manual scheme: totals are exactly what the test scores (the rest is the default's)
SMALL = {
    **DEFAULT,
    "indicators": [
        {"code": "A", "name": "甲项", "parent": "", "points": 60, "method": "manual"},
        {"code": "B", "name": "乙项", "parent": "", "points": 40, "method": "manual"},
    ],
}


# ---------------------------------------------------------------- helpers


def this_year(world) -> int:
    return units.today(world.tenant).year


async def run(world, fn, *args, **kwargs):
    """One service call in its own transaction, as one request would run it."""
    async with db.transaction(world.tenant.id):
        return await fn(world.tenant, *args, **kwargs)


async def actor_of(world, username: str):
    async with db.transaction(world.tenant.id):
        row = await accounts.user_by_username(world.tenant, username)
        return accounts.actor_for(world.tenant, row, client="10.0.0.7")


async def role(world, key: str):
    return await actor_of(world, world.users[key]["username"])


def at(world, day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment of a day in the tenant's zone."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(world.tenant.timezone))


async def snapshot(world) -> dict:
    """Everything an assessment call could write, to prove a refused call wrote nothing."""
    t = world.tenant.id
    async with db.transaction(t):
        return {
            "schemes": await Scheme.select(Scheme.year, Scheme.status, Scheme.document)
            .where(Scheme.tenant == t)
            .order_by(Scheme.year)
            .output(load_json=True),
            "assessments": await Assessment.select(Assessment.year, Assessment.status).where(Assessment.tenant == t),
            "units": await AssessedUnit.select(
                AssessedUnit.id,
                AssessedUnit.status,
                AssessedUnit.score_sum,
                AssessedUnit.deduction,
                AssessedUnit.veto,
                AssessedUnit.total,
                AssessedUnit.grade,
                AssessedUnit.rank,
            )
            .where(AssessedUnit.tenant == t)
            .order_by(AssessedUnit.id),
            "scores": await Score.select(
                Score.id, Score.indicator, Score.self_score, Score.self_note, Score.score, Score.state, Score.reason
            )
            .where(Score.tenant == t)
            .order_by(Score.id),
            "evidence": await Evidence.count().where(Evidence.tenant == t),
            "adjustments": await Adjustment.count().where(Adjustment.tenant == t),
            "events": await ScoreEvent.count().where(ScoreEvent.tenant == t),
            "audit": await AuditEvent.count().where(AuditEvent.tenant == t),
        }


async def refused(world, exc_type, fn, *args, **kwargs):
    """The call raises exc_type and the database is exactly as before."""
    before = await snapshot(world)
    with pytest.raises(exc_type) as info:
        await run(world, fn, *args, **kwargs)
    assert await snapshot(world) == before
    return info.value


def by_code(result: dict) -> dict[str, dict]:
    return {i["code"]: i for i in result["indicators"]}


def by_name(overview: dict) -> dict[str, dict]:
    return {u["unit_name"]: u for u in overview["units"]}


async def small_scheme(world, office, year: int, **changes) -> None:
    """The year's scheme replaced by the all-manual SMALL one (created first for a past year)."""
    if await run(world, cycle.scheme_detail, year) is None:
        await run(world, cycle.create_scheme, office, year)
    await run(world, cycle.save_scheme, office, year, {**SMALL, **changes})


async def grade_unit(world, office, assessor, year: int, unit: dict, a: float, b: float) -> None:
    """Self-assess A and B, submit, and have the assessor accept both."""
    for code, value in (("A", a), ("B", b)):
        await run(world, reviews.self_assess, office, year, unit["id"], code, {"score": value, "note": "自评"})
    await run(world, reviews.submit_self, office, year, unit["id"])
    for code in ("A", "B"):
        await run(world, reviews.review, assessor, year, unit["id"], code, {})


# ---------------------------------------------------------------- building the automatic data


async def newest_notice(world, person: dict) -> dict:
    async with db.transaction(world.tenant.id):
        return (
            await Notice.select(Notice.id, Notice.uuid, Notice.status)
            .where(Notice.tenant == world.tenant.id, Notice.person.uuid == person["id"])
            .order_by(Notice.id, ascending=False)
            .first()
        )


async def sign_notice(world, leader, person: dict, signed_at: datetime) -> int:
    """The leader signs their newest notice (for real), then the signature moves back in time."""
    notice = await newest_notice(world, person)
    await run(world, notices.sign, leader, notice["uuid"], {"password": PASSWORD})
    async with db.transaction(world.tenant.id):
        await Notice.update({Notice.signed_at: signed_at, Notice.issued_at: signed_at - timedelta(days=1)}).where(
            Notice.id == notice["id"]
        )
    return notice["id"]


async def confirm(world, leader, period: confirmations.Period, submitted_at: datetime) -> None:
    """The leader submits the confirmation owed today, which then becomes `period`'s,
    submitted at `submitted_at` (the leader may then submit today's again)."""
    owed = await run(world, confirmations.pending, leader)
    await run(world, confirmations.submit, leader, owed["period"].key, {"all_done": "1"})
    async with db.transaction(world.tenant.id):
        await Confirmation.update(
            {
                Confirmation.period: period.key,
                Confirmation.period_start: period.start,
                Confirmation.period_end: period.end,
                Confirmation.due_date: period.due,
                Confirmation.submitted_at: submitted_at,
            }
        ).where(
            Confirmation.tenant == world.tenant.id,
            Confirmation.person == leader.person_id,
            Confirmation.period == owed["period"].key,
        )


def quarter(year: int, q: int) -> confirmations.Period:
    return confirmations.period_containing(date(year, 3 * q - 2, 1), "quarterly")


async def course(world, office, day: date, attendance: dict[str, float], people: dict) -> None:
    made = await run(
        world,
        training.create_course,
        office,
        {"title": f"保密培训 {day}", "kind": "lecture", "hours": "1", "date": day.isoformat()},
    )
    for key, hours in attendance.items():
        await run(world, training.add_attendance, office, made["id"], {"person_id": people[key]["id"], "hours": hours})


# ---------------------------------------------------------------- the hand-built unit


async def _hand_built_people(world, unit: dict, year: int) -> tuple[dict[str, dict], dict[str, object]]:
    """The hand-built unit's people (see the test's table) and the leaders' actors, by key."""
    t = world.tenant
    people: dict[str, dict] = {}
    leaders: dict[str, object] = {}
    for key, name, position, level, begin in (
        ("l1", "钱一", "principal", "none", date(year, 1, 1)),
        ("l2", "孙二", "secrecy_lead", "core", date(year, 1, 1)),
        ("l3", "周三", "business_lead", "none", date(year, 8, 1)),
        ("l4", "吴四", "member", "none", date(year, 1, 1)),
        ("l5", "郑五", "business_lead", "important", date(year, 1, 1)),
        ("s1", "冯六", "staff", "important", date(year, 1, 1)),
        ("s2", "陈七", "staff", "general", date(year, 1, 1)),
        ("s3", "褚八", "staff", "none", date(year, 1, 1)),
    ):
        people[key] = await make_person(t, unit, name, position, classified_level=level, start_date=begin.isoformat())
        if key.startswith("l"):
            await make_user(t, f"x{key}", "leader", person_id=people[key]["id"])
            leaders[key] = await actor_of(world, f"x{key}")
    return people, leaders


async def _hand_built_review(world, office, assessor, year: int, unit: dict) -> dict[str, float]:
    """The office self-assesses the manual indicators, the assessor keeps all but N (12 → 11)
    and deducts minor, minor, major: the manual scores as reviewed."""
    manual = {"R3": 8, "C": 9.5, "P": 10, "N": 12, "M": 7, "D": 10}
    for code, value in manual.items():
        await run(world, reviews.self_assess, office, year, unit["id"], code, {"score": value, "note": "见附件"})
    await run(world, reviews.submit_self, office, year, unit["id"])
    for code in manual:
        if code == "N":
            await run(
                world, reviews.review, assessor, year, unit["id"], code, {"score": "11", "reason": "抽查一台违规"}
            )
        else:
            await run(world, reviews.review, assessor, year, unit["id"], code, {})
    for item in ("minor", "minor", "major"):
        await run(
            world,
            reviews.add_adjustment,
            assessor,
            year,
            unit["id"],
            {"kind": "deduction", "item": item, "note": "检查"},
        )
    return {**manual, "N": 11}


async def test_independent_recomputation_of_a_hand_built_unit(env):
    """丙市审计局 in year Y (last year), cut-off Y-12-31, default scheme:

    leaders  position        level      notice                        confirmations Q1/Q2/Q3   hours
    钱一     principal       -          signed Y-06-01 (valid)        on time / late / -       4 of 4
    孙二     secrecy lead    core       issued, never signed          on time ×3               6 of 12
    周三     business lead   -          signed Y-1-12-01 (too old)    (started Y-08-01) Q3 on time   5 of 4
    吴四     member          -          signed, superseded Y-10-01    - / - / -                0 of 4 (10 h in Y-1)
    郑五     business lead   important  signed, superseded after cut-off   late / - / on time  8 of 8
    staff: 冯六 important 8 of 8, 陈七 general 5 of 6 (5 more this year), 褚八 not classified.
    """
    world = await make_world()
    t = world.tenant
    year = this_year(world) - 1
    office = await role(world, "office")
    assessor = await role(world, "assessor")
    unit = await make_unit(t, "丙市审计局", "municipal")
    people, leaders = await _hand_built_people(world, unit, year)

    # notices: issued to the five leaders, four signed, two of those renewed
    issued = await run(world, notices.issue, office, {"scope": "unit", "unit_id": unit["id"]})
    assert issued["issued"] == 5
    await sign_notice(world, leaders["l1"], people["l1"], at(world, date(year, 6, 1)))
    await sign_notice(world, leaders["l3"], people["l3"], at(world, date(year - 1, 12, 1)))
    superseded = await sign_notice(world, leaders["l4"], people["l4"], at(world, date(year, 3, 1)))
    await sign_notice(world, leaders["l5"], people["l5"], at(world, date(year, 5, 1)))
    for key in ("l4", "l5"):
        await run(world, notices.issue, office, {"scope": "person", "person_id": people[key]["id"], "renew": True})
    async with db.transaction(t.id):  # 吴四's notice was replaced in October; 郑五's only today
        await Notice.update({Notice.closed_at: at(world, date(year, 10, 1))}).where(Notice.id == superseded)

    # confirmations: on time = on the due day late in the evening (tenant time), late = just after midnight
    q1, q2, q3 = quarter(year, 1), quarter(year, 2), quarter(year, 3)

    def on_time(p):
        return at(world, p.due, 23, 30)

    def late(p):
        return at(world, p.due + timedelta(days=1), 0, 30)

    await confirm(world, leaders["l1"], q1, on_time(q1))
    await confirm(world, leaders["l1"], q2, late(q2))
    for p in (q1, q2, q3):
        await confirm(world, leaders["l2"], p, on_time(p))
    await confirm(world, leaders["l3"], q3, on_time(q3))
    await confirm(world, leaders["l5"], q1, late(q1))
    await confirm(world, leaders["l5"], q3, on_time(q3))

    # training hours in year Y; hours of other years do not count
    await course(world, office, date(year, 6, 1), {"l1": 4, "l2": 6, "l3": 5, "l5": 8, "s1": 8, "s2": 5}, people)
    await course(world, office, date(year - 1, 6, 1), {"l4": 10}, people)
    await course(world, office, units.today(t), {"s2": 5}, people)

    # the assessment of year Y
    await run(world, cycle.create_scheme, office, year)
    opened = await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    assert len(opened["units"]) == 4 and opened["status"] == "open"

    reviewed = await _hand_built_review(world, office, assessor, year, unit)

    # the arithmetic, by hand, from the scheme's points
    r1 = round(10 * 2 / 5, 2)  # 钱一, 郑五 of five leaders
    r2 = round(10 * (1 + 3 + 1 + 0 + 1) / (3 + 3 + 1 + 3 + 3), 2)  # 6 of 13 confirmations due
    t1 = round(8 * 3 / 5, 2)  # 钱一, 周三, 郑五 of five leaders
    t2 = round(7 * 2 / 4, 2)  # 郑五, 冯六 of 孙二, 郑五, 冯六, 陈七
    assert (r1, r2, t1, t2) == (4.0, 4.62, 4.8, 3.5)
    score_sum = round(r1 + r2 + t1 + t2 + sum(reviewed.values()), 2)
    total = round(score_sum - (1 + 1 + 3), 2)
    assert (score_sum, total) == (72.42, 67.42)

    result = await run(world, results.unit_result, office, year, unit["id"])
    scores = by_code(result)
    assert {code: scores[code]["score"] for code in AUTO} == {"R1": r1, "R2": r2, "T1": t1, "T2": t2}
    assert {code: scores[code]["score"] for code in MANUAL} == reviewed
    assert scores["R"]["score"] == round(r1 + r2 + reviewed["R3"], 2)
    assert scores["T"]["score"] == round(t1 + t2, 2)
    inputs = {code: (scores[code]["inputs"]["met"], scores[code]["inputs"]["expected"]) for code in AUTO}
    assert inputs == {"R1": (2, 5), "R2": (6, 13), "T1": (3, 5), "T2": (2, 4)}
    assert sorted(scores["R1"]["inputs"]["missing"]) == sorted(["孙二", "周三", "吴四"])
    assert sorted(scores["R2"]["inputs"]["missing"]) == sorted(
        [f"钱一 ({q2.key})", f"钱一 ({q3.key})", f"吴四 ({q1.key})", f"吴四 ({q2.key})", f"吴四 ({q3.key})"]
        + [f"郑五 ({q1.key})", f"郑五 ({q2.key})"]
    )
    assert sorted(scores["T1"]["inputs"]["missing"]) == sorted(["孙二 (6/12)", "吴四 (0/4)"])
    assert sorted(scores["T2"]["inputs"]["missing"]) == sorted(["孙二 (6/12)", "陈七 (5/6)"])
    assert scores["R1"]["inputs"]["as_of"] == f"{year}-12-31"
    for code in AUTO:
        assert scores[code]["method"] == "auto"
        assert str(scores[code]["inputs"]["met"]) in scores[code]["how"]
        assert str(scores[code]["inputs"]["expected"]) in scores[code]["how"]
    assert (result["score_sum"], result["deduction"], result["veto"], result["total"]) == (
        score_sum,
        5.0,
        False,
        total,
    )
    # the other three units have manual indicators nobody scored: not graded or ranked yet
    assert result["grade"] == "pass" and result["rank"] == 1 and result["rank_of"] == 1
    assert (result["district_rank"], result["district_of"]) == (1, 1)
    others = await run(world, results.overview, office, year)
    assert [(u["rank"], u["grade"], u["complete"]) for u in others["units"][1:]] == [(None, None, False)] * 3
    assert others["ungraded"] == 3 and others["average"] == total

    # the world's own units had nobody in post in year Y: full points on every automatic indicator
    others = await run(world, results.unit_result, office, year, world.units["a_unit"]["id"])
    for code in AUTO:
        indicator = by_code(others)[code]
        assert indicator["inputs"]["expected"] == 0 and indicator["score"] == indicator["points"]
    # no manual score yet: a total of the automatic points so far, but no rank or grade
    assert others["total"] == 10 + 10 + 8 + 7 and others["rank"] is None and others["grade"] is None
    overview = await run(world, results.overview, office, year)
    assert [u["rank"] for u in overview["units"]] == [1, None, None, None]


async def test_automatic_scores_count_only_what_happened_by_the_cutoff(env):
    """Cut-off Y-06-30 (tenant time): a notice signed late that evening counts, one signed
    just after midnight does not; only Q1's confirmation was due; hours after the cut-off
    do not count; leaders who started after the cut-off or left before it are not counted."""
    world = await make_world()
    t = world.tenant
    year = this_year(world) - 1
    office = await role(world, "office")
    unit = await make_unit(t, "丁区审计局", "district_unit", world.units["district_b"])
    people: dict[str, dict] = {}
    leaders: dict[str, object] = {}
    for key, name, position, begin, end in (
        ("m1", "蒋一", "principal", date(year, 1, 1), None),
        ("m2", "沈二", "secrecy_lead", date(year, 1, 1), None),
        ("m3", "韩三", "business_lead", date(year, 4, 1), None),  # after Q1 ended: owes no Q1 confirmation
        ("m4", "杨四", "member", date(year, 9, 1), None),  # in post only after the cut-off
        ("m5", "朱五", "member", date(year, 1, 1), date(year, 5, 31)),  # left before the cut-off
    ):
        extra = {"end_date": end.isoformat()} if end else {}
        people[key] = await make_person(t, unit, name, position, start_date=begin.isoformat(), **extra)
        if key in ("m1", "m2"):
            await make_user(t, f"y{key}", "leader", person_id=people[key]["id"])
            leaders[key] = await actor_of(world, f"y{key}")
    await run(world, notices.issue, office, {"scope": "unit", "unit_id": unit["id"]})
    cutoff = date(year, 6, 30)
    await sign_notice(world, leaders["m1"], people["m1"], at(world, cutoff, 23, 30))
    await sign_notice(world, leaders["m2"], people["m2"], at(world, cutoff + timedelta(days=1), 0, 30))

    q1, q2 = quarter(year, 1), quarter(year, 2)
    await confirm(world, leaders["m1"], q1, at(world, q1.due, 9))
    await confirm(world, leaders["m2"], q2, at(world, q2.start + timedelta(days=95), 9))  # Q2, before its due date

    await course(world, office, cutoff, {"m1": 4, "m3": 2}, people)
    await course(world, office, cutoff + timedelta(days=1), {"m2": 4, "m3": 2}, people)

    await run(world, cycle.create_scheme, office, year)
    await run(world, cycle.open_assessment, office, year, {"cutoff": cutoff.isoformat()})
    scores = by_code(await run(world, results.unit_result, office, year, unit["id"]))
    counted = {code: (scores[code]["inputs"]["met"], scores[code]["inputs"]["expected"]) for code in AUTO}
    assert counted == {
        "R1": (1, 3),  # 蒋一 of 蒋一, 沈二, 韩三 (who never signed)
        "R2": (1, 2),  # Q1 of 蒋一 and 沈二; Q2 was not yet due
        "T1": (1, 3),  # 蒋一's 4 hours; 沈二 and 韩三 trained after the cut-off
        "T2": (0, 0),
    }
    assert sorted(scores["R1"]["inputs"]["missing"]) == sorted(["沈二", "韩三"])
    assert scores["R2"]["inputs"]["missing"] == [f"沈二 ({q1.key})"]
    assert sorted(scores["T1"]["inputs"]["missing"]) == sorted(["沈二 (0/4)", "韩三 (2/4)"])
    assert [scores[c]["score"] for c in AUTO] == [round(10 * 1 / 3, 2), round(10 * 1 / 2, 2), round(8 * 1 / 3, 2), 7]
    assert scores["T2"]["inputs"]["as_of"] == cutoff.isoformat()


async def test_a_leader_of_another_unit_is_not_counted_among_this_units_leaders(env):
    """钱九 leads 丙单位 and also holds a staff post in 甲区财政局: 甲区财政局's leaders are
    still 张三 and 李四 only, for notices and for training alike."""
    world = await make_world()
    t = world.tenant
    year = this_year(world)
    office = await role(world, "office")
    other = await make_unit(t, "丙单位", "municipal")
    person = await make_person(t, other, "钱九", "principal")
    await run(
        world, units.add_post, office, person["id"], {"unit_id": world.units["a_unit"]["id"], "position": "staff"}
    )
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    scores = by_code(await run(world, results.unit_result, office, year, world.units["a_unit"]["id"]))
    assert scores["R1"]["inputs"]["expected"] == 2  # notices: the unit's two leaders
    assert scores["T1"]["inputs"]["expected"] == 2, scores["T1"]["inputs"]  # training: the same two leaders


# ---------------------------------------------------------------- self-assessment and review


async def test_self_assessment_submission_and_review(env):
    world = await make_world()
    year = this_year(world)
    office, officer, assessor = [await role(world, k) for k in ("office", "officer", "assessor")]
    unit = world.units["a_unit"]["id"]
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})

    # within range only; nothing else is written
    for bad in (10.01, -1, "8.555", "很好", "", None, True, "nan", "inf"):
        error = await refused(world, ValidationFailed, reviews.self_assess, officer, year, unit, "R3", {"score": bad})
        assert "score" in error.errors, bad
    selves = {"R3": 10, "C": 8.5, "P": 10, "N": 15, "M": 0}
    for code, value in selves.items():
        done = await run(world, reviews.self_assess, officer, year, unit, code, {"score": value, "note": "见会议记录"})
        assert done["self_score"] == value
    # refused while an indicator is unscored, and the message names it
    error = await refused(world, Conflict, reviews.submit_self, officer, year, unit)
    assert "D" in error.message
    # before submitting, a self score may change
    await run(world, reviews.self_assess, officer, year, unit, "R3", {"score": "9", "note": "改为9分"})
    await run(world, reviews.self_assess, officer, year, unit, "D", {"score": "7.25"})
    selves.update({"R3": 9, "D": 7.25})
    assert (await run(world, reviews.submit_self, officer, year, unit))["status"] == "submitted"
    result = await run(world, results.unit_result, office, year, unit)
    assert result["status"] == "submitted" and result["submitted_at"] is not None
    assert {c: by_code(result)[c]["self_score"] for c in MANUAL} == selves
    # until reviewed, the self scores count, marked provisional
    assert {c: by_code(result)[c]["score"] for c in MANUAL} == selves
    assert all(by_code(result)[c]["provisional"] for c in MANUAL)
    autos = sum(by_code(result)[c]["score"] for c in AUTO)
    assert result["total"] == round(autos + sum(selves.values()), 2)  # the provisional total counts them
    before_review = {c: by_code(result)[c]["how"] for c in MANUAL}

    # after submitting, self scores are the assessor's business
    await refused(world, Conflict, reviews.self_assess, officer, year, unit, "R3", {"score": 1})
    await refused(world, Conflict, reviews.submit_self, officer, year, unit)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    await refused(world, Conflict, evidence.add_evidence, officer, year, unit, "R3", "a.png", png)

    # accept: the score is the self score
    accepted = await run(world, reviews.review, assessor, year, unit, "R3", {})
    assert accepted == {"indicator": "R3", "score": 9.0, "state": "accepted"}
    # change: a reason is required, and nothing is written without it
    error = await refused(world, ValidationFailed, reviews.review, assessor, year, unit, "C", {"score": "6"})
    assert list(error.errors) == ["reason"]
    error = await refused(
        world, ValidationFailed, reviews.review, assessor, year, unit, "C", {"score": 11, "reason": "x"}
    )
    assert "score" in error.errors
    changed = await run(world, reviews.review, assessor, year, unit, "C", {"score": "6", "reason": "定密台账不全"})
    assert changed == {"indicator": "C", "score": 6.0, "state": "changed"}
    # the self score given again is an acceptance, without a reason
    same = await run(world, reviews.review, assessor, year, unit, "P", {"score": "10.00"})
    assert same["state"] == "accepted"
    assert (await run(world, results.unit_result, office, year, unit))["status"] == "submitted"  # N, M, D to go
    for code in ("N", "M", "D"):
        await run(world, reviews.review, assessor, year, unit, code, {})
    result = await run(world, results.unit_result, office, year, unit)
    assert result["status"] == "reviewed" and result["reviewed_at"] is not None
    scores = by_code(result)
    assert {c: scores[c]["score"] for c in MANUAL} == {**selves, "C": 6}
    assert {c: scores[c]["state"] for c in MANUAL} == {**dict.fromkeys(MANUAL, "accepted"), "C": "changed"}
    assert "9" in scores["R3"]["how"] and scores["R3"]["how"] != before_review["R3"]
    assert "8.5" in scores["C"]["how"] and "6" in scores["C"]["how"] and "定密台账不全" in scores["C"]["how"]
    assert scores["R"]["score"] == scores["R1"]["score"] + scores["R2"]["score"] + 9
    manual_sum = sum({**selves, "C": 6}.values())
    auto_sum = sum(scores[c]["score"] for c in AUTO)
    assert result["score_sum"] == result["total"] == round(manual_sum + auto_sum, 2)
    kinds = [e["kind"] for e in result["events"]]
    assert kinds.count("self") == 7 and kinds.count("submitted") == 1
    assert kinds.count("accepted") == 5 and kinds.count("changed") == 1
    change = next(e for e in result["events"] if e["kind"] == "changed")
    assert (change["indicator"], change["old"], change["new"], change["note"]) == ("C", None, 6.0, "定密台账不全")


async def test_a_score_that_counts_is_never_hidden_behind_a_later_self_assessment(env):
    """An assessor scores C of a unit that has not submitted (3, with a reason); the officer
    then self-assesses C at 9. Either the early review is refused, or the 3 that still
    counts is explained as the assessor's: not shown as a plain self-assessment of 9."""
    world = await make_world()
    year = this_year(world)
    office, officer, assessor = [await role(world, k) for k in ("office", "officer", "assessor")]
    unit = world.units["a_unit"]["id"]
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    try:
        await run(world, reviews.review, assessor, year, unit, "C", {"score": 3, "reason": "未见会议记录"})
    except Conflict:
        return  # reviewing before the unit submitted is refused: consistent
    await run(world, reviews.self_assess, officer, year, unit, "C", {"score": 9})
    c = by_code(await run(world, results.unit_result, office, year, unit))["C"]
    # the assessor's 3 no longer counts: the new self score does, awaiting review
    assert (c["score"], c["state"], c["provisional"]) == (9, "self", True), (c["score"], c["state"], c["how"])


# ---------------------------------------------------------------- deductions, veto, grades and ranks


async def test_deductions_are_capped_the_total_never_drops_below_zero_and_a_veto_fails(env):
    world = await make_world()
    t = world.tenant
    year = this_year(world)
    office, assessor = await role(world, "office"), await role(world, "assessor")
    await small_scheme(world, office, year)
    poor = await make_unit(t, "戊单位", "municipal")
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    a, b, city = (world.units[k] for k in ("a_unit", "b_unit", "city"))
    await grade_unit(world, office, assessor, year, a, 58, 39)  # 97
    await grade_unit(world, office, assessor, year, b, 50, 35)  # 85
    await grade_unit(world, office, assessor, year, city, 40, 25)  # 65
    await grade_unit(world, office, assessor, year, poor, 5, 0)  # 5

    def deduct(unit, item):
        return run(
            world,
            reviews.add_adjustment,
            assessor,
            year,
            unit["id"],
            {"kind": "deduction", "item": item, "note": "检查发现"},
        )

    for _ in range(4):  # 4 × 3 = 12 points, capped at 10
        await deduct(b, "major")
    await deduct(city, "minor")
    for _ in range(3):  # 9 points off 5: the total stays at 0
        await deduct(poor, "major")
    veto = await run(
        world, reviews.add_adjustment, assessor, year, a["id"], {"kind": "veto", "item": "leak", "note": "泄密"}
    )
    assert veto["kind"] == "veto" and veto["points"] == 0

    overview = by_name(await run(world, results.overview, office, year))
    rows = {
        n: (u["score_sum"], u["deduction"], u["veto"], u["total"], u["grade"], u["rank"]) for n, u in overview.items()
    }
    assert rows == {
        "乙区财政局": (85, 10, False, 85 - 10, "pass", 1),  # 12 points found, capped at 10
        "市教育局": (65, 1, False, 65 - 1, "pass", 2),
        "戊单位": (5, 9, False, 0, "fail", 3),  # 5 - 9: the total stays at 0
        "甲区财政局": (97, 0, True, 97, "fail", 4),  # vetoed: fails whatever the total, ranks last
    }
    detail = await run(world, results.unit_result, office, year, a["id"])
    assert detail["veto"] is True and detail["grade"] == "fail"
    assert [(x["kind"], x["item"]) for x in detail["adjustments"]] == [("veto", "leak")]
    b_detail = await run(world, results.unit_result, office, year, b["id"])
    assert [x["points"] for x in b_detail["adjustments"]] == [3.0] * 4 and b_detail["deduction"] == 10

    # removing a deduction needs a reason; with one, the total comes back
    first = b_detail["adjustments"][0]["id"]
    error = await refused(world, ValidationFailed, reviews.remove_adjustment, assessor, first, {})
    assert list(error.errors) == ["reason"]
    await run(world, reviews.remove_adjustment, assessor, first, {"reason": "重复登记"})
    await run(world, reviews.remove_adjustment, assessor, b_detail["adjustments"][1]["id"], {"reason": "重复登记"})
    b_detail = await run(world, results.unit_result, office, year, b["id"])
    assert (b_detail["deduction"], b_detail["total"], b_detail["grade"]) == (6, 79, "pass")
    assert [e["kind"] for e in b_detail["events"]].count("removed") == 2


def test_rank_and_grade_with_crafted_rows():
    bands = {"excellent": 90.0, "good": 80.0, "pass": 60.0}

    def row(key, total, district, veto=False):
        return {"key": key, "total": total, "veto": veto, "district": district}

    rows = [
        row("c", 85, "east"),
        row("a", 95, "east"),
        row("v", 99, "west", veto=True),
        row("b", 85, "west"),
        row("d", 70, None),
        row("e", 92, None),
        row("f", 59.99, "east"),
    ]
    out = {r["key"]: r for r in scoring.rank_and_grade(rows, bands, None)}
    # competition ranks: equal totals share a rank and leave a gap; a vetoed unit is last
    assert [(k, out[k]["rank"]) for k in "aecbdfv"] == [
        ("a", 1),
        ("e", 2),
        ("c", 3),
        ("b", 3),
        ("d", 5),
        ("f", 6),
        ("v", 7),
    ]
    assert {k: r["grade"] for k, r in out.items()} == {
        "a": "excellent",
        "e": "excellent",
        "c": "good",
        "b": "good",
        "d": "pass",
        "f": "fail",
        "v": "fail",
    }
    # ranks within each district (None: the municipal units)
    assert {k: (r["district_rank"], r["district_of"]) for k, r in out.items()} == {
        "a": (1, 3),
        "c": (2, 3),
        "f": (3, 3),
        "b": (1, 2),
        "v": (2, 2),
        "e": (1, 2),
        "d": (2, 2),
    }
    ties = scoring.rank_and_grade(
        [row(k, t, "x") for k, t in (("p", 90), ("q", 80), ("r", 80), ("s", 70))], bands, None
    )
    assert [r["rank"] for r in ties] == [1, 2, 2, 4] and [r["district_rank"] for r in ties] == [1, 2, 2, 4]

    # the cap on the top grade: floor(share × units) in rank order
    five = [row(k, t, "x") for k, t in (("p", 98), ("q", 96), ("r", 95), ("s", 92), ("t", 50))]
    capped = {r["key"]: r["grade"] for r in scoring.rank_and_grade(five, bands, 0.4)}  # 2 of 5
    assert capped == {"p": "excellent", "q": "excellent", "r": "good", "s": "good", "t": "fail"}
    assert {r["key"]: r["grade"] for r in scoring.rank_and_grade(five, bands, 0.3)} == {
        "p": "excellent",  # floor(1.5) = 1
        "q": "good",
        "r": "good",
        "s": "good",
        "t": "fail",
    }
    # a tie at the limit drops together, and what comes after it too
    tied = [row(k, t, "x") for k, t in (("p", 98), ("q", 95), ("r", 95), ("s", 91), ("t", 50))]
    assert [r["grade"] for r in scoring.rank_and_grade(tied, bands, 0.4)] == [
        "excellent",
        "good",
        "good",
        "good",
        "fail",
    ]
    assert [r["grade"] for r in scoring.rank_and_grade(tied, bands, 0.6)] == [
        "excellent",
        "excellent",
        "excellent",
        "good",
        "fail",
    ]
    # a cap that allows more than earn it changes nothing; 10 units × 30% is 3, not 2
    assert [r["grade"] for r in scoring.rank_and_grade(tied, bands, 1)] == [
        "excellent",
        "excellent",
        "excellent",
        "excellent",
        "fail",
    ]
    ten = [row(str(i), 99 - i, "x") for i in range(10)]
    assert [r["grade"] for r in scoring.rank_and_grade(ten, bands, 0.3)].count("excellent") == 3
    # the totals themselves
    assert scoring.unit_total([10, 5.5, None], [3, 3, 3, 3], 10, False) == {
        "score_sum": 15.5,
        "deduction": 10,
        "veto": False,
        "total": 5.5,
    }
    assert scoring.unit_total([2], [3], 10, True)["total"] == 0
    assert scoring.auto_score(7, {"expected": 0, "met": 0}) == 7
    assert scoring.auto_score(10, {"expected": 3, "met": 1}) == 3.33


async def test_grade_cap_and_ties_across_the_assessment_and_within_districts(env):
    """Top grade capped at 50% of 5 units (2): 市教育局 98 gets it; 市外办 and 甲区财政局 tie at
    95 for the second place, and would make 3, so both drop to good."""
    world = await make_world()
    t = world.tenant
    year = this_year(world)
    office, assessor = await role(world, "office"), await role(world, "assessor")
    await small_scheme(world, office, year, top_cap=0.5)
    a2 = await make_unit(t, "甲区审计局", "district_unit", world.units["district_a"])
    city2 = await make_unit(t, "市外办", "municipal")
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    for unit, a, b in (
        (world.units["city"], 60, 38),  # 98
        (city2, 55, 40),  # 95
        (world.units["a_unit"], 57, 38),  # 95
        (a2, 50, 30),  # 80
        (world.units["b_unit"], 45, 35),  # 80
    ):
        await grade_unit(world, office, assessor, year, unit, a, b)
    overview = await run(world, results.overview, office, year)
    got = {
        u["unit_name"]: (u["total"], u["rank"], u["district_rank"], u["district_of"], u["grade"])
        for u in overview["units"]
    }
    assert got == {
        "市教育局": (98, 1, 1, 2, "excellent"),
        "市外办": (95, 2, 2, 2, "good"),
        "甲区财政局": (95, 2, 1, 2, "good"),
        "甲区审计局": (80, 4, 2, 2, "good"),
        "乙区财政局": (80, 4, 1, 1, "good"),
    }
    assert [u["rank"] for u in overview["units"]] == [1, 2, 2, 4, 4]
    assert all(u["rank_of"] == 5 for u in overview["units"])
    assert overview["grades"] == {"excellent": 1, "good": 4, "pass": 0, "fail": 0}
    # without the cap, the three would all be excellent: the cap is what dropped them
    assert (
        scoring.rank_and_grade(
            [
                {"key": u["unit_id"], "total": u["total"], "veto": False, "district": u["district"]}
                for u in overview["units"]
            ],
            SMALL["grades"],
            None,
        )[2]["grade"]
        == "excellent"
    )
    # a district admin sees their district's units, ranked among all
    district = await role(world, "district")
    mine = await run(world, results.overview, district, year)
    assert {u["unit_name"]: u["rank"] for u in mine["units"]} == {"甲区财政局": 2, "甲区审计局": 4}


# ---------------------------------------------------------------- finalisation, corrections, last year


async def test_finalisation_corrections_and_last_years_result(env):
    world = await make_world()
    year = this_year(world) - 1
    office, officer, assessor = [await role(world, k) for k in ("office", "officer", "assessor")]
    a, b, city = (world.units[k] for k in ("a_unit", "b_unit", "city"))
    await small_scheme(world, office, year)
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    await refused(world, Conflict, reviews.correct, office, year, b["id"], "A", {"score": 58, "reason": "复核"})
    await grade_unit(world, office, assessor, year, a, 55, 35)  # 90
    await grade_unit(world, office, assessor, year, b, 50, 35)  # 85
    await run(world, reviews.self_assess, office, year, city["id"], "A", {"score": 40})

    # 市教育局 is not reviewed: finalising is refused and changes nothing
    error = await refused(world, Conflict, cycle.finalise, office, year)
    assert "1" in error.message
    await run(world, reviews.self_assess, office, year, city["id"], "B", {"score": 30})
    await run(world, reviews.submit_self, office, year, city["id"])
    await run(world, reviews.review, assessor, year, city["id"], "A", {})
    await run(world, reviews.review, assessor, year, city["id"], "B", {"score": 25, "reason": "记录缺失"})  # 65
    done = await run(world, cycle.finalise, office, year)
    assert done["status"] == "finalised" and done["finalised_at"] is not None
    assert [(u["unit_name"], u["total"], u["grade"], u["rank"]) for u in done["units"]] == [
        ("甲区财政局", 90, "excellent", 1),
        ("乙区财政局", 85, "good", 2),
        ("市教育局", 65, "pass", 3),
    ]
    async with db.transaction(world.tenant.id):
        stored = {
            r["unit"]: (r["grade"], r["rank"], r["district_rank"])
            for r in await AssessedUnit.select(
                AssessedUnit.unit, AssessedUnit.grade, AssessedUnit.rank, AssessedUnit.district_rank
            ).where(AssessedUnit.tenant == world.tenant.id)
        }
    assert sorted(stored.values()) == [("excellent", 1, 1), ("good", 2, 1), ("pass", 3, 1)]

    # finalised: nothing changes but by a correction
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    for call in (
        (reviews.self_assess, officer, year, a["id"], "A", {"score": 1}),
        (reviews.review, assessor, year, b["id"], "A", {"score": 60, "reason": "复核"}),
        (reviews.add_adjustment, assessor, year, a["id"], {"kind": "deduction", "item": "serious", "note": "迟报"}),
        (reviews.add_adjustment, assessor, year, a["id"], {"kind": "veto", "item": "leak", "note": "泄密"}),
        (reviews.submit_self, officer, year, a["id"]),
        (evidence.add_evidence, officer, year, a["id"], "A", "a.png", png),
        (cycle.recompute, office, year),
        (cycle.finalise, office, year),
    ):
        await refused(world, Conflict, *call)

    # a correction needs a reason and a new, valid score
    error = await refused(world, ValidationFailed, reviews.correct, office, year, b["id"], "A", {"score": 58})
    assert list(error.errors) == ["reason"]
    error = await refused(
        world, ValidationFailed, reviews.correct, office, year, b["id"], "A", {"score": 50, "reason": "x"}
    )
    assert list(error.errors) == ["score"]
    error = await refused(
        world, ValidationFailed, reviews.correct, office, year, b["id"], "A", {"score": 61, "reason": "x"}
    )
    assert list(error.errors) == ["score"]
    await refused(world, NotFound, reviews.correct, office, year, b["id"], "Z", {"score": 1, "reason": "x"})
    await refused(world, NotFound, reviews.correct, officer, year, b["id"], "A", {"score": 58, "reason": "x"})

    fixed = await run(world, reviews.correct, office, year, b["id"], "A", {"score": "58", "reason": "复核发现漏计材料"})
    assert fixed == {"indicator": "A", "score": 58.0, "state": "corrected"}
    result = await run(world, results.unit_result, office, year, b["id"])
    assert result["total"] == 58 + 35 and result["grade"] == "excellent" and result["rank"] == 1
    indicator = by_code(result)["A"]
    assert indicator["score"] == 58 and indicator["state"] == "corrected" and "复核发现漏计材料" in indicator["how"]
    corrected = [e for e in result["events"] if e["kind"] == "corrected"]
    assert [(e["indicator"], e["old"], e["new"], e["note"], e["actor"]) for e in corrected] == [
        ("A", 50.0, 58.0, "复核发现漏计材料", "office")
    ]
    async with db.transaction(world.tenant.id):
        audits = (
            await AuditEvent.select(AuditEvent.detail)
            .where(AuditEvent.tenant == world.tenant.id, AuditEvent.action == "assessment.correct")
            .output(load_json=True)
        )
        ranks = {
            r["name"]: (r["rank"], r["grade"])
            for r in await AssessedUnit.select(
                AssessedUnit.unit.name.as_alias("name"), AssessedUnit.rank, AssessedUnit.grade
            ).where(AssessedUnit.tenant == world.tenant.id)
        }
    assert [(d["detail"]["old"], d["detail"]["new"], d["detail"]["reason"]) for d in audits] == [
        (50.0, 58.0, "复核发现漏计材料")
    ]
    # re-ranked, and stored so
    assert ranks == {"乙区财政局": (1, "excellent"), "甲区财政局": (2, "excellent"), "市教育局": (3, "pass")}

    # this year's assessment shows last year's result beside each unit
    now = this_year(world)
    await run(world, cycle.open_assessment, office, now, {"cutoff": f"{now}-12-31"})
    this = await run(world, results.unit_result, office, now, b["id"])
    assert this["previous"] == {"year": year, "total": 93.0, "grade": "excellent", "rank": 1}
    assert by_name(await run(world, results.overview, office, now))["市教育局"]["previous"] == {
        "year": year,
        "total": 65.0,
        "grade": "pass",
        "rank": 3,
    }
    assert (await run(world, results.unit_result, office, year, b["id"]))["previous"] is None


# ---------------------------------------------------------------- bad input writes nothing


async def test_schemes_that_do_not_add_up_and_frozen_schemes(env):
    world = await make_world()
    year = this_year(world)
    office = await role(world, "office")
    stored = await run(world, cycle.scheme_detail, year)
    assert stored["status"] == "draft" and stored["document"]["total"] == 100

    def broken(**changes):
        doc = {**DEFAULT, "indicators": [dict(i) for i in DEFAULT["indicators"]]}
        for index, values in changes.items():
            doc["indicators"][int(index.removeprefix("i"))].update(values)
        return doc

    cases = [
        (broken(i0={"points": 31}), {"indicators.0.points", "total"}),  # R: 31 ≠ 10 + 10 + 10; roots 101
        (broken(i5={"points": 9}), {"indicators.4.points"}),  # T: 15 ≠ 9 + 7
        (broken(i7={"points": 10.005}), {"indicators.7.points"}),  # three decimals
        (broken(i7={"points": "十"}), {"indicators.7.points"}),
        (broken(i1={"method": "auto", "source": "gossip"}), {"indicators.1.source"}),
        (broken(i2={"parent": "Q"}), {"indicators.2.parent"}),
        ({**DEFAULT, "total": 90}, {"total"}),
        ({**DEFAULT, "grades": {"excellent": 80, "good": 85, "pass": 60}}, {"grades.good"}),
        ({**DEFAULT, "top_cap": 1.5}, {"top_cap"}),
    ]
    for doc, fields in cases:
        error = await refused(world, ValidationFailed, cycle.save_scheme, office, year, doc)
        assert fields <= set(error.errors), (fields, error.errors)
    assert await run(world, cycle.scheme_detail, year) == stored

    saved = await run(world, cycle.save_scheme, office, year, {**DEFAULT, "top_cap": 0.3})
    assert saved["document"]["top_cap"] == 0.3
    await refused(world, NotFound, cycle.save_scheme, office, year + 5, DEFAULT)
    await refused(world, Conflict, cycle.create_scheme, office, year)
    next_year = {"cutoff": f"{year + 1}-12-31"}
    await refused(world, Conflict, cycle.open_assessment, office, year + 1, next_year)  # no scheme yet
    for far in (1999, year + 5):  # schemes and assessments are for real years only
        error = await refused(world, ValidationFailed, cycle.create_scheme, office, far)
        assert list(error.errors) == ["year"]
        error = await refused(world, ValidationFailed, cycle.open_assessment, office, far, {})
        assert list(error.errors) == ["year"]
    error = await refused(world, ValidationFailed, cycle.open_assessment, office, year, {"cutoff": f"{year + 1}-01-01"})
    assert list(error.errors) == ["cutoff"]
    error = await refused(
        world, ValidationFailed, cycle.open_assessment, office, year, {"scope": world.units["a_unit"]["id"]}
    )
    assert list(error.errors) == ["scope"]
    empty = await make_unit(world.tenant, "丙区", "district")
    await refused(world, Conflict, cycle.open_assessment, office, year, {"scope": empty["id"]})  # no units in it
    assert (await run(world, cycle.scheme_detail, year))["status"] == "draft"

    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})
    assert (await run(world, cycle.scheme_detail, year))["status"] == "frozen"
    await refused(world, Conflict, cycle.save_scheme, office, year, DEFAULT)
    await refused(world, Conflict, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})


async def test_bad_scores_evidence_and_scope_write_nothing(env):
    world = await make_world()
    year = this_year(world)
    office, officer, assessor = [await role(world, k) for k in ("office", "officer", "assessor")]
    a, b = world.units["a_unit"]["id"], world.units["b_unit"]["id"]
    await run(world, cycle.open_assessment, office, year, {"cutoff": f"{year}-12-31"})

    for bad in (10.001, 10.5, -0.01, "x", [], {"v": 1}):
        error = await refused(world, ValidationFailed, reviews.self_assess, officer, year, a, "C", {"score": bad})
        assert list(error.errors) == ["score"], bad
    error = await refused(world, ValidationFailed, reviews.review, assessor, year, a, "C", {"score": 20, "reason": "x"})
    assert "score" in error.errors
    await refused(world, Conflict, reviews.self_assess, officer, year, a, "R1", {"score": 5})  # computed
    await refused(world, Conflict, reviews.review, assessor, year, a, "T2", {"score": 5, "reason": "x"})
    await refused(world, NotFound, reviews.self_assess, officer, year, a, "R", {"score": 5})  # a group, not a leaf
    await refused(world, NotFound, reviews.self_assess, officer, year, a, "ZZ", {"score": 5})
    await refused(world, NotFound, reviews.self_assess, officer, year + 1, a, "C", {"score": 5})  # no assessment
    for data, field in (
        ({"kind": "bonus", "item": "minor", "note": "x"}, "kind"),
        ({"kind": "deduction", "item": "leak", "note": "x"}, "item"),
        ({"kind": "veto", "item": "minor", "note": "x"}, "item"),
        ({"kind": "deduction", "item": "minor"}, "note"),
    ):
        error = await refused(world, ValidationFailed, reviews.add_adjustment, assessor, year, a, data)
        assert field in error.errors, data

    # the unit officer of 甲区财政局 cannot reach 乙区财政局: not found, nothing written
    for call in (
        (reviews.self_assess, officer, year, b, "C", {"score": 5}),
        (reviews.submit_self, officer, year, b),
        (results.unit_result, officer, year, b),
        (evidence.add_evidence, officer, year, b, "C", "a.pdf", b"%PDF-1.7\n"),
    ):
        await refused(world, NotFound, *call)
    assert [u["unit_name"] for u in (await run(world, results.overview, officer, year))["units"]] == ["甲区财政局"]

    # evidence: the content decides, not the name
    for name, data in (
        ("scan.pdf", b"GIF89a not a pdf"),
        ("scan.pdf", b"PNG\r\n but no magic"),
        ("empty.pdf", b""),
        ("huge.pdf", b"%PDF-1.7\n" + b"0" * (evidence.MAX_EVIDENCE)),
    ):
        error = await refused(world, ValidationFailed, evidence.add_evidence, officer, year, a, "C", name, data)
        assert list(error.errors) == ["file"], name
    await refused(world, Conflict, evidence.add_evidence, officer, year, a, "R1", "a.pdf", b"%PDF-1.7\n")
    accepted = {}
    for name, data in (
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        ("minutes.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
        ("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        ("at-the-limit.pdf", b"%PDF-1.7\n" + b"0" * (evidence.MAX_EVIDENCE - 9)),
    ):
        added = await run(world, evidence.add_evidence, officer, year, a, "C", name, data)
        accepted[name] = (added["content_type"], added["size"])
    assert accepted == {
        "photo.pdf": ("image/png", 40),
        "minutes.pdf": ("application/pdf", 15),
        "scan.jpg": ("image/jpeg", 36),
        "at-the-limit.pdf": ("application/pdf", evidence.MAX_EVIDENCE),
    }
    listed = by_code(await run(world, results.unit_result, officer, year, a))["C"]["evidence"]
    assert sorted(e["filename"] for e in listed) == sorted(accepted)
