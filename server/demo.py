"""The demo tenant (slug `demo`, 示例市保密局) as domain.md describes it: 11
districts, ~200 municipal units, their leaders, officers and classified personnel,
with the gaps the dashboards must show, and the year before this one as it happened.

Built as users would have built it: the office keeps the registry, issues notices and
imports training attendance, leaders read, sign and confirm, officers self-assess, the
assessor reviews. The services do what they do in bulk anyway (the tenant, the office's
account, courses, the assessment's opening and finalisation); the rest goes through each
domain's `bulk` module, the bulk form of the same service calls, at the moments it
happened. Deterministic, so figures are comparable.

For load tests the same bureau can be built several times its size, in a tenant of
its own (`seed(scale=...)`); server.demo_scale makes many small ones."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import db, roles
from server import demo_declassification as declassification
from server.accounts import policy
from server.accounts import service as accounts
from server.accounts.bulk import add_users
from server.actor import Actor
from server.assessment import cycle
from server.assessment.bulk import Finding, UnitScores, adjust, date_assessment, review, self_assess
from server.inspections import devices, fieldwork, rounds
from server.inspections.bulk import (
    Check,
    Draw,
    Interviewing,
    Move,
    NewFinding,
    NewMeasure,
    Register,
    Result,
    Visit,
    date_round,
    import_registers,
    move_findings,
    record_visits,
)
from server.inspections.bulk import finalise as finalise_inspections
from server.platform import service as platform
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations
from server.responsibility.bulk import (
    Confirming,
    SignedPdfs,
    Signing,
    confirm,
    date_catalog,
    issue_notices,
    publish_catalog,
    sign_notices,
    view_notices,
)
from server.training import service as training
from server.training.bulk import import_attendance
from server.units import service as units
from server.units.bulk import NewPerson, add_people, add_units, new_post
from tenants import service as tenants
from tenants.service import TenantRef

SLUG = "demo"
NAME = "示例市保密局"

DISTRICTS = [
    "东城区",
    "西城区",
    "南湖区",
    "北山区",
    "江北区",
    "江南区",
    "滨海区",
    "西山区",
    "东湖区",
    "高新区",
    "经开区",
]
DISTRICT_UNITS = ["区委办公室", "区政府办公室", "区公安分局", "区财政局", "区教育局"]
MUNICIPAL = [
    "市委办公室",
    "市政府办公室",
    "市委组织部",
    "市委宣传部",
    "市委统战部",
    "市委政法委",
    "市委网信办",
    "市委机要局",
    "市纪委监委",
    "市人大常委会办公厅",
    "市政协办公厅",
    "市中级人民法院",
    "市人民检察院",
    "市发展和改革委员会",
    "市教育局",
    "市科学技术局",
    "市工业和信息化局",
    "市公安局",
    "市民政局",
    "市司法局",
    "市财政局",
    "市人力资源和社会保障局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市水务局",
    "市农业农村局",
    "市商务局",
    "市文化和旅游局",
    "市卫生健康委员会",
    "市退役军人事务局",
    "市应急管理局",
    "市审计局",
    "市国有资产监督管理委员会",
    "市市场监督管理局",
    "市体育局",
    "市统计局",
    "市医疗保障局",
    "市城市管理局",
    "市信访局",
    "市机关事务管理局",
    "市档案馆",
    "市气象局",
    "市税务局",
    "市总工会",
    "团市委",
    "市妇联",
    "市科协",
    "市社会科学院",
    "市委党校",
    "市广播电视台",
    "市日报社",
    "市地方金融管理局",
    "市数据局",
    "市粮食和物资储备局",
    "市人民防空办公室",
    "市林业局",
    "市外事办公室",
    "市台湾事务办公室",
    "市民族宗教事务局",
    "市政府研究室",
    "市大数据中心",
    "市公共资源交易中心",
    "市住房公积金管理中心",
    "市红十字会",
]
SUBUNITS = ["信息中心", "机关服务中心", "综合执法支队", "档案室", "培训中心"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红玉兰志宏海波鹏宇飞斌辉凯婷雪琳晨浩然子轩博文思远嘉怡欣悦雨涵梓萱振东立新卫东晓明春生秋实"

USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@dataclass
class DemoAccounts:
    password: str
    created: bool
    usernames: dict[str, str]


@dataclass
class Demo:
    """What the seed has built so far, and the clock it builds the past against."""

    tenant: TenantRef
    office: Actor
    now: datetime
    today: date
    units: list[dict]  # as add_units returns them
    people: list[NewPerson]
    by_unit: dict[int, dict[str, list[NewPerson]]]  # unit pk -> position -> people
    quality: dict[int, float]  # unit pk -> how well it runs its secrecy work, 0..1
    accounts: dict[str, Actor]
    pdfs: SignedPdfs

    @property
    def last_year(self) -> int:
        return self.today.year - 1

    def at(self, day: date, rng: random.Random) -> datetime:
        """A moment in office hours of the day, in the tenant's zone (today's: not after now)."""
        moment = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), ZoneInfo(self.tenant.timezone))
        return min(moment, self.now)

    def leader(self, person: NewPerson, rng: random.Random) -> Actor:
        """A leader as they act: the demo `leader` account, or another leader signed in
        from a phone with an account of their own (the demo lists one leader's only)."""
        account = self.accounts["leader"]
        if person.pk == account.person_id:
            return account
        return Actor(
            kind="user",
            name=person.name,
            role=roles.LEADER,
            tenant_id=self.tenant.id,
            person_id=person.pk,
            client_addr=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            user_agent=USER_AGENT,
        )


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mobile_number(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


async def _units(tenant: TenantRef, office: Actor, scale: int = 1) -> list[dict]:
    """The unit tree: 11 districts with their units, municipal units with subunits; at a
    larger scale that many such trees side by side, the copies' names marked (2), (3)..."""
    rng = random.Random(7)
    specs: list[dict] = []
    index: dict[str, int] = {}

    def add(name: str, kind: str, parent: str | None) -> None:
        index[name] = len(specs)
        specs.append(
            {
                "name": name,
                "kind": kind,
                "parent": index[parent] if parent else None,
                "code": f"U{len(specs) + 1:04d}",
                "sort_order": len(specs),
            }
        )

    for copy in range(scale):
        mark = f"（{copy + 1}）" if copy else ""
        for district in DISTRICTS:
            add(district + mark, "district", None)
            for unit in DISTRICT_UNITS[: rng.choice((3, 4, 5))]:
                add(district + unit.removeprefix("区") + mark, "district_unit", district + mark)
        for unit in MUNICIPAL:
            add(unit + mark, "municipal", None)
        for parent in rng.sample(MUNICIPAL, 40):
            for sub in rng.sample(SUBUNITS, rng.choice((3, 3, 4))):
                add(parent + sub + mark, "subunit", parent + mark)
    return await add_units(tenant, office, specs)


async def _people(
    tenant: TenantRef, office: Actor, unit_rows: list[dict], today: date
) -> tuple[list[NewPerson], dict[int, dict[str, list[NewPerson]]]]:
    """Every unit's leaders, secrecy officer and classified staff, as the office entered them."""
    rng = random.Random(2026)
    people: list[NewPerson] = []
    by_unit: dict[int, dict[str, list[NewPerson]]] = {}
    leader_title = {"district": "书记", "municipal": "局长", "district_unit": "局长", "subunit": "主任"}

    def add(unit: dict, position: str, title: str, level: str) -> None:
        start = today - timedelta(days=rng.randint(60, 8 * 365))
        person = NewPerson(
            name=person_name(rng),
            mobile=mobile_number(rng),
            classified_level=level,
            military_transfer=rng.random() < 0.15,
            email=f"user{len(people) + 1}@demo.example.cn",
            posts=[new_post(unit["pk"], position, start, title=title)],
        )
        if position in units.LEADER_POSITIONS and rng.random() < 0.12:
            # an earlier post elsewhere: the history a person page shows
            elsewhere, earlier = rng.choice(unit_rows)["pk"], start - timedelta(days=rng.randint(400, 1500))
            person.posts.append(
                new_post(elsewhere, "business_lead", earlier, title="副职", end=start - timedelta(days=1))
            )
        people.append(person)
        by_unit.setdefault(unit["pk"], {}).setdefault(position, []).append(person)

    for unit in unit_rows:
        add(unit, "principal", leader_title[unit["kind"]], "core")
        # ~8% of units lack a leader in charge of secrecy work
        if rng.random() >= 0.08:
            add(unit, "secrecy_lead", "副" + leader_title[unit["kind"]], "core")
        for _ in range(rng.randint(2, 5)):
            add(unit, "business_lead", "副" + leader_title[unit["kind"]], rng.choice(("core", "important")))
        add(unit, "secrecy_officer", "保密办主任", "important")
        for _ in range(rng.randint(3, 20)):
            add(
                unit,
                "staff",
                rng.choice(("科员", "主任科员", "副科长", "科长", "一级主任科员")),
                rng.choices(("core", "important", "general"), weights=(1, 3, 6))[0],
            )
    await add_people(tenant, office, people)
    return people, by_unit


def _quality(unit_rows: list[dict]) -> dict[int, float]:
    """How well each unit runs its secrecy work, 0..1: it steers the history of notices,
    confirmations and training, and both years' manual scores, so that results hang
    together (mostly good, a few weak)."""
    rng = random.Random(31)
    bands = ((0.85, 1.0), (0.6, 0.85), (0.35, 0.6), (0.0, 0.35))
    return {u["pk"]: rng.uniform(*rng.choices(bands, weights=(32, 50, 13, 5))[0]) for u in unit_rows}


# ---------------------------------------------------------------- notices


async def _notices(demo: Demo) -> None:
    """Last year's round of notices early in the year (after its catalog), the new
    catalog in the autumn with a first renewal round, and this year's round, so that of
    today's leaders ~20% have a notice unsigned, outdated (last year's, never renewed)
    or due for renewal (signed over a year ago), or none at all; the demo leader has
    one to sign."""
    tenant, now = demo.tenant, demo.now
    rng, past = random.Random(11), random.Random(17)
    year = demo.last_year
    current = await catalogs.current_catalog(tenant)
    earlier = await publish_catalog(tenant, demo.office, year, "上年度职责目录", demo.at(date(year, 1, 3), past))
    # this year's catalog came out in the autumn before, with the renewal round
    new_catalog = now - timedelta(days=430)
    await date_catalog(tenant, current["id"], new_catalog)
    posts = sorted(await units.current_leader_posts(tenant, demo.office), key=lambda p: p["id"])
    start_of = {person.post_pks[0]: person.posts[0]["start_date"] for person in demo.people}
    fate = _notice_fates(demo, posts, start_of, new_catalog, rng)

    # last year: the January round, then leaders new in post; outdated leaders signed theirs
    last = _last_year_notices(demo, posts, start_of, fate, past)
    for catalog, round_ in (
        (earlier, [n for n in last if n[1] < new_catalog]),
        (current, [n for n in last if n[1] >= new_catalog]),
    ):
        issued = await issue_notices(tenant, demo.office, catalog, [(p, at) for p, at, _s in round_])
        await _read_and_sign(demo, [(issued[p["id"]], at, state) for p, at, state in round_], past)
    renewals = [
        (post, now - timedelta(days=rng.randint(370, 420))) for post in posts if fate[post["id"]] == "renewal_due"
    ]
    issued = await issue_notices(tenant, demo.office, current, renewals)
    await _read_and_sign(demo, [(issued[p["id"]], at, "signed") for p, at in renewals], rng)

    # this year's round
    this = _this_year_notices(demo, posts, start_of, fate, rng)
    issued = await issue_notices(tenant, demo.office, current, [(p, at) for p, at, _s in this], renew=True)
    await _read_and_sign(demo, [(issued[p["id"]], at, s) for p, at, s in this], rng)


def _notice_fates(
    demo: Demo, posts: list[dict], start_of: dict[int, date], new_catalog: datetime, rng: random.Random
) -> dict[int, str]:
    """What becomes of each leader's notice this year, by post id."""
    demo_leader = demo.accounts["leader"].person_id
    in_post_before = (new_catalog - timedelta(days=10)).date()  # given one with last year's catalog
    fate: dict[int, str] = {}
    for post in posts:
        chance = rng.random()
        started = start_of[post["id"]]
        if post["person"] == demo_leader or 0.07 <= chance < 0.10:
            fate[post["id"]] = "waiting"  # issued in the last few days
        elif chance < 0.04:
            fate[post["id"]] = "none"  # new in post, never given one
        elif chance < 0.07:
            fate[post["id"]] = rng.choice(["issued", "viewed"])  # weeks ago, not signed
        elif chance < 0.13 and started < in_post_before:
            fate[post["id"]] = "outdated"  # last year's, never renewed
        elif 0.13 <= chance < 0.16 and started < (new_catalog - timedelta(days=10)).date():
            fate[post["id"]] = "renewal_due"  # renewed with the new catalog, over a year ago
        else:
            fate[post["id"]] = "signed"
    return fate


def _last_year_notices(
    demo: Demo, posts: list[dict], start_of: dict[int, date], fate: dict[int, str], past: random.Random
) -> list[tuple[dict, datetime, str]]:
    """Last year's notices: (post, issued at, state it was left in)."""
    year = demo.last_year
    last = []
    for post in posts:
        started = start_of[post["id"]]
        if fate[post["id"]] in ("none", "renewal_due") or started > date(year, 12, 15):
            continue  # no notice, or not in post last year
        chance = past.random() - 0.08 * (1 - demo.quality[post["unit"]])
        if chance < 0.05 and fate[post["id"]] != "outdated":
            continue  # given none last year
        day = max(date(year, 1, 1) + timedelta(days=past.randint(6, 85)), started + timedelta(days=5))
        signed = chance >= 0.09 or fate[post["id"]] == "outdated"
        last.append((post, demo.at(day, past), "signed" if signed else past.choice(["viewed", "issued"])))
    return last


def _this_year_notices(
    demo: Demo, posts: list[dict], start_of: dict[int, date], fate: dict[int, str], rng: random.Random
) -> list[tuple[dict, datetime, str]]:
    """This year's notices as their fate has them: (post, issued at, state)."""
    now = demo.now
    this = []
    for post in posts:
        state = fate[post["id"]]
        started = start_of[post["id"]]
        if state == "waiting":
            this.append((post, now - timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 8)), "issued"))
        elif state in ("issued", "viewed"):
            days = min(rng.randint(20, 90), (demo.today - started).days - 1)
            this.append((post, now - timedelta(days=days), state))
        elif state == "signed":
            days = min(rng.randint(30, 250), (demo.today - started).days - 5)
            this.append((post, now - timedelta(days=days), "signed"))
    return this


async def _read_and_sign(demo: Demo, notices: list[tuple[dict, datetime, str]], rng: random.Random) -> None:
    """Each notice left `issued`, or opened (`viewed`), or opened and signed (`signed`)
    within days of its issue."""
    person_of = {p.pk: p for p in demo.people}
    views, signings = [], []
    for notice, issued_at, state in notices:
        if state == "issued":
            continue
        leader = demo.leader(person_of[notice["person"]], rng)
        viewed = issued_at + timedelta(days=rng.randint(0, 3), minutes=rng.randint(5, 300))
        views.append((leader, notice, min(viewed, demo.now)))
        if state == "signed":
            signed = viewed + timedelta(days=rng.randint(0, 12), minutes=rng.randint(1, 90))
            signings.append(Signing(leader, notice, min(signed, demo.now)))
    await view_notices(demo.tenant, views)
    await sign_notices(demo.tenant, signings, demo.pdfs)


# ---------------------------------------------------------------- confirmations


async def _confirmations(demo: Demo) -> None:
    """Every period's confirmation from last January up to the one due now: each leader
    keeps a habit, better in better units; of the one due now ~15% are missing (the
    coverage dashboard lists them) and some came late; the demo leader's is due."""
    tenant = demo.tenant
    rng, past = random.Random(13), random.Random(19)
    cadence = confirmations.period_kind(await tenants.settings_of(tenant))
    due_now = confirmations.due_period(demo.today, cadence)
    periods: list[confirmations.Period] = []
    day = date(demo.last_year - 1, 1, 1)
    while day <= due_now.start:
        period = confirmations.period_containing(day, cadence)
        if period.due >= date(demo.last_year, 1, 1):  # the one due last January counts for last year
            periods.append(period)
        day = period.end + timedelta(days=1)
    catalog = await catalogs.current_catalog(tenant)
    duties = await catalogs.catalog_duties(tenant, catalog["id"])
    demo_leader = demo.accounts["leader"].person_id
    confirmed = []
    for person in demo.people:
        held = [p for p in person.posts if p["position"] in units.LEADER_POSITIONS]
        if not held:
            continue
        home = next((p["unit"] for p in held if p["end_date"] is None), held[0]["unit"])
        habit = min(1.0, max(0.0, demo.quality[home] + past.gauss(0, 0.15)))
        for period in periods:
            # the period due now is owed by everyone in a leadership post today
            in_post = [
                p
                for p in held
                if (p["end_date"] is None if period == due_now else p["start_date"] <= period.end)
                and (p["end_date"] is None or p["end_date"] >= period.end)
            ]
            if not in_post:
                continue  # not a leader when the period ended
            if period == due_now:
                if person.pk == demo_leader or rng.random() < 0.15:
                    continue  # not yet confirmed
                offset = rng.randint(1, 20) if rng.random() < 0.1 else -rng.randint(1, 14)
                at = demo.at(period.due + timedelta(days=offset), rng)
            else:
                on_time = 1.0 if person.pk == demo_leader else 0.62 + 0.36 * habit
                chance = past.random()
                if chance >= (1 + on_time) / 2:
                    continue  # never confirmed
                offset = past.randint(1, 25) if chance >= on_time else -past.randint(0, 14)
                at = demo.at(period.due + timedelta(days=offset), past)
            texts: list[str] = []
            for post in in_post:
                parts = catalogs.duties_for_post(post["position"], duties, [])
                texts += [t for t in parts["duties"] + parts["personal"] if t not in texts]
            confirmed.append(Confirming(demo.leader(person, past), period, texts, at))
    await confirm(tenant, confirmed)


# ---------------------------------------------------------------- training


COURSES = [
    ("保密法律法规专题讲座", "lecture", 3),
    ("领导干部保密知识培训", "lecture", 4),
    ("涉密载体管理实务", "lecture", 2),
    ("网络安全与保密技术", "online", 2),
    ("新修订保密法解读（在线）", "online", 3),
    ("保密知识测试", "exam", 1),
    ("定密工作实务", "lecture", 2),
    ("泄密案例警示教育", "lecture", 2),
    ("信息公开保密审查", "online", 2),
    ("涉密人员岗位培训", "lecture", 4),
    ("保密应急演练", "exercise", 2),
    ("年度保密考试", "exam", 2),
]


async def _training(demo: Demo) -> None:
    """Last year's and this year's courses, the office importing each one's attendance
    sheet after it: about four in five people have their hours, some are short."""
    for year, rng in ((demo.last_year, random.Random(17)), (demo.today.year, random.Random(5))):
        start = date(year, 1, 10)
        end = min(date(year, 12, 12), demo.today - timedelta(days=3))
        if end < start:
            continue  # early January: no course yet this year
        courses = [
            await training.create_course(
                demo.tenant,
                demo.office,
                {
                    "title": title,
                    "kind": kind,
                    "hours": hours,
                    "organiser": demo.tenant.name,
                    "date": (start + timedelta(days=(end - start).days * i // len(COURSES))).isoformat(),
                },
            )
            for i, (title, kind, hours) in enumerate(COURSES)
        ]
        req = await training.requirements(demo.tenant, year)
        owed = _owed_hours(demo, req, min(date(year, 12, 31), demo.today))
        sheets = _attendance_sheets(demo, courses, owed, rng)
        for i, course in enumerate(courses):
            if sheets[i]:
                day = min(course["date"] + timedelta(days=rng.randint(1, 6)), demo.today)
                await import_attendance(demo.tenant, demo.office, course, sheets[i], demo.at(day, rng))


def _owed_hours(demo: Demo, req: dict, year_end: date) -> dict[int, tuple[float, int, NewPerson]]:
    """Person pk -> (hours owed for the year, the unit of the post that owes most, person),
    for everyone in a post at the year's end."""
    owed: dict[int, tuple[float, int, NewPerson]] = {}
    for person in demo.people:
        for post in person.posts:
            if post["start_date"] > year_end or (post["end_date"] is not None and post["end_date"] < year_end):
                continue
            need = training.required_of(req, post["position"] in units.LEADER_POSITIONS, person.classified_level)
            if need > owed.get(person.pk, (0.0, 0, person))[0]:
                owed[person.pk] = (need, post["unit"], person)
    return owed


def _attendance_sheets(
    demo: Demo, courses: list[dict], owed: dict[int, tuple[float, int, NewPerson]], rng: random.Random
) -> dict[int, list[dict]]:
    """Each course's attendance sheet, by its index: people attend courses in a random
    order until they have their hours, or stay short of them."""
    names = {u["pk"]: u["name"] for u in demo.units}
    sheets: dict[int, list[dict]] = {i: [] for i in range(len(courses))}
    for need, unit, person in owed.values():
        meets = rng.random() < 0.6 + 0.28 * demo.quality[unit]
        target = need * (rng.uniform(1.0, 1.5) if meets else rng.uniform(0.0, 0.9))
        done = 0.0
        for i in rng.sample(range(len(courses)), len(courses)):
            course = courses[i]
            if done >= target:
                break
            if not meets and done + course["hours"] >= need:
                continue  # a shortfall stays a shortfall
            sheets[i].append(
                {
                    "pk": person.pk,
                    "uuid": person.uuid,
                    "name": person.name,
                    "unit_name": names[unit],
                    "score": rng.randint(60, 100) if course["kind"] == "exam" else None,
                }
            )
            done += course["hours"]
    return sheets


# ---------------------------------------------------------------- assessment


# self-assessment notes per manual indicator: (when well done, when weak); {n} is a count
NOTES = {
    "R3": (
        [
            "已召开党组会专题研究保密工作{n}次，会议纪要齐全",
            "党组（党委）会议专题听取保密工作汇报{n}次，研究部署年度保密工作，形成会议纪要",
            "年初将保密工作列入党组工作要点，专题研究{n}次并印发会议纪要",
        ],
        ["仅在党组会上传达上级保密工作文件，未专题研究", "班子会议涉及保密工作，但会议记录不完整"],
    ),
    "C": (
        [
            "定密依据准确，审批程序规范，全年定密{n}件均登记台账",
            "修订本单位国家秘密事项一览表，定密责任人培训全覆盖，台账完整",
        ],
        ["个别文件定密依据不够明确，已组织自查整改", "定密台账有漏登情况，正在补录"],
    ),
    "P": (
        [
            "涉密人员{n}名，均完成上岗审查并签订保密承诺书，出国（境）审批手续齐全",
            "涉密人员信息库动态更新，离岗人员{n}名均按规定进入脱密期管理",
        ],
        ["部分涉密人员保密承诺书未及时更新", "1名离岗涉密人员脱密期手续不全，已补办"],
    ),
    "N": (
        [
            "涉密计算机和信息设备台账清晰，全年开展技术检查{n}次，未发现违规外联",
            "涉密网络按规定运行维护，定期开展保密技术检查，非涉密计算机未发现存储涉密信息",
        ],
        ["自查发现1台计算机未安装保密管理系统，已整改", "信息设备台账与实物核对存在差异，正在清理"],
    ),
    "M": (
        [
            "涉密载体收发、传递、使用、保存、销毁全流程登记完整，年底开展载体清查",
            "涉密文件{n}份均按规定登记、传阅和归档，销毁履行审批和监销手续",
        ],
        ["涉密载体清退登记不及时，已补登", "部分载体借阅记录缺少归还签字"],
    ),
    "D": (
        [
            "建立先审查后公开制度，全年审查拟公开信息{n}条，审查记录完整",
            "门户网站和政务新媒体信息发布均经保密审查，审查台账齐全",
        ],
        ["保密审查记录格式不统一，个别记录缺少审查人签字", "政务新媒体发布审查流程尚在完善"],
    ),
}
# the assessor's reasons for a lower score than the self-assessment
LOWER = {
    "R3": ["抽查会议记录，未见专题研究保密工作的内容，按仅传达计分", "会议纪要未体现研究保密工作的具体事项"],
    "C": ["现场检查发现2份文件定密依据不准确", "抽查发现定密审批表缺少定密责任人签字"],
    "P": ["1名涉密人员未签订离岗保密承诺书", "涉密人员出国（境）审批材料不全"],
    "N": ["抽查发现1台非涉密计算机曾连接涉密移动存储介质", "信息设备维修未履行保密审批手续"],
    "M": ["载体销毁登记缺少监销人签字", "抽查发现1份涉密文件未登记"],
    "D": ["抽查发现1条公开信息未履行保密审查程序", "审查记录与发布信息无法一一对应"],
}
RAISE = ["补充提交会议纪要和台账，经核实予以认可", "现场核查后确认材料齐全"]
DEDUCTIONS = {
    "minor": [
        "巡察检查发现涉密文件未按规定登记",
        "保密要害部位门禁登记不全",
        "非涉密计算机中发现工作秘密文件",
        "涉密载体存放未使用密码文件柜",
    ],
    "serious": ["检查发现涉密计算机违规连接互联网", "涉密载体丢失未及时报告", "在非涉密邮箱中传输涉密文件"],
}
LEAK = "年内发生经查实的泄密事件：一名工作人员通过微信传送涉密文件截图，已立案查处并追究相关人员责任"


# points off per problem found, as the default scheme's guides put it
STEPS = {"R3": 5.0, "C": 2.0, "P": 2.0, "N": 3.0, "M": 2.0, "D": 2.0}


def _problems(rng: random.Random, mean: float) -> int:
    """A Poisson draw: how many problems an indicator turns up."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _plan(rng: random.Random, quality: float, share: float, leaf: dict) -> tuple[float, str, float | None, str]:
    """One manual indicator of a unit expected to earn `share` of the manual points:
    (self score, note, the assessor's other score or None, reason). Points go in the
    guide's steps, so most indicators score full and the rest lose a step or two."""
    points = float(leaf["points"])
    step = STEPS.get(leaf["code"], max(0.5, points / 5))
    true = max(0.0, points - step * _problems(rng, max(0.0, 1 - share) * points / step))
    own = true
    if true < points and rng.random() < 0.1 + 0.4 * (1 - quality):
        own = min(points, true + step)  # a generous self-assessment
    good, weak = NOTES.get(leaf["code"], (["按要求落实，材料齐全"], ["存在不足，正在整改"]))
    note = rng.choice(good if own == points else weak).format(
        n=rng.randint(2, 60) if leaf["code"] != "R3" else rng.randint(1, 3)
    )
    if own > true and rng.random() < 0.85:
        return own, note, true, rng.choice(LOWER.get(leaf["code"], ["核查材料后调整"]))
    if own < points and rng.random() < 0.04:
        return own, note, min(points, own + step), rng.choice(RAISE)
    return own, note, None, ""


async def _assessments(demo: Demo, officer_unit: dict) -> None:
    """Last year's assessment finalised and this year's open, as users ran them: the
    office opens and finalises, each unit's secrecy officer self-assesses, the demo
    assessor reviews and records deductions."""
    rounds = _Assessing(demo, officer_unit, random.Random(23))
    await rounds.last_year()
    await rounds.this_year()


@dataclass
class _Assessing:
    """The two assessment rounds, drawing from one generator in the order they ran."""

    demo: Demo
    officer_unit: dict
    rng: random.Random

    @property
    def assessed(self) -> list[dict]:
        return [u for u in self.demo.units if u["kind"] != "district"]

    @property
    def assessor(self) -> Actor:
        return self.demo.accounts["assessor"]

    def officer_of(self, unit: dict) -> Actor:
        if unit["pk"] == self.officer_unit["pk"]:
            return self.demo.accounts["officer"]
        name = self.demo.by_unit[unit["pk"]]["secrecy_officer"][0].name
        return Actor(kind="user", name=name, role=roles.UNIT_OFFICER)

    def draw(self, autos: dict[str, float], unit: dict, leaves: list[dict]) -> list[tuple]:
        """The unit's manual scores this year. Its total should come near a target set
        by its quality, given its automatic scores (just opened: the sum is theirs alone), so
        that grades follow quality; of three drafts the closest is kept, or the guides'
        coarse steps would scatter similar units across two grades."""
        rng = self.rng
        q = min(1.0, max(0.0, self.demo.quality[unit["pk"]] + rng.gauss(0, 0.07)))
        auto = autos[str(unit["uuid"])]
        target = (59 + 36 * q if q >= 0.35 else 50 + 62 * q) - auto  # the weakest fall below a pass
        share = target / (sum(float(leaf["points"]) for leaf in leaves) or 1.0)
        drafts = [[_plan(rng, q, share, leaf) for leaf in leaves] for _ in range(3)]
        return min(drafts, key=lambda plans: abs(sum(p[0] if p[2] is None else p[2] for p in plans) - target))

    def own(self, unit: dict, leaves: list[dict], plans: list[tuple], at: datetime) -> UnitScores:
        scores = [(leaf["code"], p[0], p[1]) for leaf, p in zip(leaves, plans, strict=False)]
        return UnitScores(self.officer_of(unit), unit["pk"], scores, at)

    def reviewed(self, unit: dict, leaves: list[dict], plans: list[tuple], at: datetime) -> UnitScores:
        scores = [(leaf["code"], p[2], p[3]) for leaf, p in zip(leaves, plans, strict=True)]
        return UnitScores(self.assessor, unit["pk"], scores, at)

    def weak_first(self, units_: list[dict], count: int) -> list[dict]:
        """Units drawn for deductions, the weaker ones more likely (without repeats)."""
        pool = list(units_)
        out = []
        while pool and len(out) < count:
            pick = self.rng.choices(pool, weights=[1.15 - self.demo.quality[u["pk"]] for u in pool])[0]
            pool.remove(pick)
            out.append(pick)
        return out

    def deduction(self, unit: dict, item: str, at: datetime) -> Finding:
        return Finding(self.assessor, unit["pk"], "deduction", item, self.rng.choice(DEDUCTIONS[item]), at)

    async def open_year(self, year: int) -> tuple[dict[str, float], list[dict]]:
        """The year opened: each unit's automatic score sum by unit id, the manual indicators."""
        tenant, office = self.demo.tenant, self.demo.accounts["office"]
        if await cycle.scheme_detail(tenant, year) is None:
            await cycle.create_scheme(tenant, office, year)
        opened = await cycle.open_assessment(
            tenant, office, year, {"cutoff": f"{year}-12-31", "self_due": f"{year}-12-20"}
        )
        scheme = await cycle.scheme_detail(tenant, year)
        autos = {u["unit_id"]: u["score_sum"] for u in opened["units"]}
        return autos, [i for i in scheme["indicators"] if not i["group"] and i["method"] == "manual"]

    async def last_year(self) -> None:
        """Opened in December, every unit through to the end, finalised in January."""
        demo, rng, tenant, assessed = self.demo, self.rng, self.demo.tenant, self.assessed
        year = demo.last_year
        autos, leaves = await self.open_year(year)
        plans = {u["pk"]: self.draw(autos, u, leaves) for u in assessed}
        submitted = {u["pk"]: demo.at(date(year, 12, rng.randint(5, 20)), rng) for u in assessed}
        await self_assess(
            tenant, year, [self.own(u, leaves, plans[u["pk"]], submitted[u["pk"]]) for u in assessed], submit=True
        )
        await review(
            tenant,
            year,
            [
                self.reviewed(u, leaves, plans[u["pk"]], demo.at(date(year + 1, 1, rng.randint(5, 16)), rng))
                for u in assessed
            ],
        )
        await adjust(tenant, year, self.last_year_findings(year))
        await cycle.finalise(tenant, demo.accounts["office"], year)
        await date_assessment(tenant, year, demo.at(date(year, 12, 1), rng), demo.at(date(year + 1, 1, 26), rng))

    def last_year_findings(self, year: int) -> list[Finding]:
        """Deductions, the weaker units more likely, and one veto."""
        demo, rng, assessed = self.demo, self.rng, self.assessed
        findings = []
        for unit in self.weak_first(assessed, 16):
            findings.append(self.deduction(unit, "minor", demo.at(date(year + 1, 1, rng.randint(8, 20)), rng)))
            if rng.random() < 0.35:
                findings.append(self.deduction(unit, "minor", demo.at(date(year + 1, 1, rng.randint(8, 20)), rng)))
        for unit in self.weak_first(assessed, 4):
            findings.append(self.deduction(unit, "serious", demo.at(date(year + 1, 1, rng.randint(8, 20)), rng)))
        # the veto: a well-run unit, to show that a confirmed leak fails it whatever the score
        leaky = rng.choice(
            [
                u
                for u in assessed
                if u["kind"] == "municipal" and u["pk"] != self.officer_unit["pk"] and 0.7 < demo.quality[u["pk"]] < 0.9
            ]
        )
        findings.append(Finding(self.assessor, leaky["pk"], "veto", "leak", LEAK, demo.at(date(year + 1, 1, 20), rng)))
        return findings

    async def this_year(self) -> None:
        """Opened today: three in five units submitted, some of those reviewed; the demo
        officer's unit has not started, so the officer has work to do."""
        demo, rng, tenant = self.demo, self.rng, self.demo.tenant
        year = demo.today.year
        autos, leaves = await self.open_year(year)
        plans: dict[int, list[tuple]] = {}
        forms, partial, done = [], [], []
        for unit in self.assessed:
            if unit["pk"] == self.officer_unit["pk"]:
                continue
            plans[unit["pk"]] = self.draw(autos, unit, leaves)
            chance = rng.random()
            if chance < 0.6:
                forms.append(self.own(unit, leaves, plans[unit["pk"]], demo.now))
                if rng.random() < 0.3:
                    done.append(unit)
            elif chance < 0.7:  # started, not yet submitted
                cut = rng.randint(1, len(leaves) - 1)
                partial.append(self.own(unit, leaves[:cut], plans[unit["pk"]][:cut], demo.now))
        await self_assess(tenant, year, forms, submit=True)
        await self_assess(tenant, year, partial, submit=False)
        await review(tenant, year, [self.reviewed(u, leaves, plans[u["pk"]], demo.now) for u in done])
        await adjust(tenant, year, [self.deduction(u, "minor", demo.now) for u in self.weak_first(done, 2)])


# ---------------------------------------------------------------- inspections


INSPECTORS = [f"inspector{n}" for n in range(1, 9)]
COMPUTERS = ["联想启天M730", "联想开天M740Z", "华为擎云W515", "清华同方超越E500", "长城世恒TD120A3", "浪潮英政CE520"]
IT_DEVICES = [
    ("打印机", "惠普LaserJet Pro M405dn"),
    ("打印机", "奔图P3305DN"),
    ("复印机", "理光MP 2555SP"),
    ("扫描仪", "富士通fi-7160"),
    ("多功能一体机", "联想M7400 Pro"),
    ("传真机", "松下KX-FL338CN"),
]
# per checklist item: severity, what was found, what the unit did, and what was put
# right on the spot (None: only by a deadline); N2 is found on sampled devices
PROBLEMS = {
    "R1": (
        "minor",
        "主要负责人年内未专题听取保密工作汇报，仅在办公会上传达上级文件",
        "召开党组会专题听取保密工作汇报，形成会议纪要",
        None,
    ),
    "R2": ("minor", "保密工作领导小组成员调整后未及时发文明确", "印发调整保密工作领导小组的通知，明确专人负责", None),
    "R3": (
        "minor",
        "2名班子成员未签订本年度保密工作责任书",
        "补签责任书并在履职确认中逐项确认",
        "现场组织补签保密工作责任书",
    ),
    "R4": ("minor", "年度工作要点未列入保密工作，保密经费未单列", "修订年度工作要点，保密经费列入部门预算", None),
    "C1": ("minor", "新任定密责任人未参加定密培训", "组织定密责任人参加全市定密培训并通过考核", None),
    "C2": (
        "major",
        "抽查涉密文件8份，其中2份未标注保密期限和知悉范围",
        "逐件补充标注并对本年度涉密文件开展自查",
        "现场对抽查文件补充标注",
    ),
    "C3": ("minor", "未开展年度定密事项审核", "开展年度定密审核，形成审核报告报市保密局备案", None),
    "C4": ("minor", "3份派生定密文件未注明定密依据", "补充注明依据，修订派生定密审批单", None),
    "P1": (
        "minor",
        "涉密人员台账未及时更新，1名调入人员未登记",
        "更新台账，完成调入人员上岗审查和登记",
        "现场补充登记调入人员",
    ),
    "P2": ("major", "1名离岗涉密人员未签订离岗保密承诺书，脱密期管理未落实", "补签承诺书，明确脱密期管理责任人", None),
    "P3": ("minor", "3名涉密人员年度保密教育培训学时不足", "组织补训并通过保密知识测试", None),
    "P4": ("major", "1名重要涉密人员因私出国（境）未按规定事先报告", "补办审批手续，对当事人进行批评教育", None),
    "N1": ("serious", "1台涉密计算机存在违规连接互联网记录", "涉密计算机送检并重装系统，对责任人严肃处理", None),
    "N3": (
        "major",
        "部分移动存储介质未登记，涉密与非涉密介质交叉使用",
        "全面清查介质并重新登记，配发专用介质",
        "现场清点介质并登记",
    ),
    "N4": (
        "minor",
        "保密技术防护专用系统未正常运行，病毒库半年未更新",
        "恢复运行并更新病毒库，明确专人维护",
        "现场更新病毒库并恢复运行",
    ),
    "M1": ("major", "涉密载体台账登记不全，抽查发现2份涉密文件未登记", "补登并对全部涉密载体清查建账", None),
    "M2": ("minor", "涉密文件复印未履行审批手续", "完善复印审批登记制度并补办手续", None),
    "M3": ("major", "部分涉密文件存放在普通文件柜中", "配置密码文件柜，涉密文件全部入柜", "现场将涉密文件移入保密柜"),
    "M4": ("minor", "涉密载体自行销毁，未送指定销毁机构", "制定销毁流程，剩余载体送销毁中心销毁", None),
    "D1": ("minor", "信息公开保密审查制度未根据新修订保密法修订", "修订审查制度并印发执行", None),
    "D2": ("minor", "门户网站1条信息发布前未经保密审查", "补充审查，完善先审后发流程", "现场撤下信息并补充审查"),
    "D3": ("minor", "召开涉密会议未制定保密方案，未使用手机屏蔽柜", "制定会议保密工作方案，配备手机屏蔽柜", None),
}
REOPEN_REASONS = [
    "整改材料仅有制度文本，未见落实情况，请补充台账和整改前后对比材料",
    "抽查发现同类问题仍然存在，请举一反三全面整改后重新提交",
]
CLUES = [
    "巡察组转来群众反映：该单位个别工作人员使用个人微信传递工作文件",
    "巡察组反映：该单位涉密载体销毁记录不全，曾自行销毁涉密文件",
    "巡察组反映：该单位门户网站曾发布含内部工作部署的通知",
    "巡察组转来线索：该单位信息中心曾外包运维，外包人员可接触涉密计算机",
]
TEAM_NOTES = [
    "单位主要负责人全程参加反馈会，配合良好。重点关注涉密载体台账与实物核对。",
    "保密办主任新任不久，对制度掌握不够，建议纳入下一期保密干部培训。",
    "技术检查抽查设备均已开机检查，检查工具日志已导出留存。",
]
CONFLICT_NOTE = "该同志在{unit}的任职已于数年前结束，与被检查单位无利害关系，经研究同意其参加本组检查"
# a finding's fate after the visit, when its deadline passes first
OVERDUE = ("open_overdue", "rectifying_overdue", "reopened", "submitted_late")
WAIVED = ["外出学习培训，无法到场", "病假", "出差在外", "借调市委巡察组，不在本单位"]
SUMMARIES = {
    "leadership": "谈话了解本人履行保密工作职责情况，能够说明分管领域的保密要求和年度重点工作",
    "classified": "谈话了解涉密岗位保密要求掌握情况，能够准确说明涉密载体和计算机使用规定",
    "military_transfer": "谈话了解军转干部保密教育和承诺履行情况，本人保密意识较强",
}


def _moment(demo: Demo, day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a day in the tenant's zone (not after now)."""
    return min(datetime.combine(day, time(hour, minute), ZoneInfo(demo.tenant.timezone)), demo.now)


def _weekday(day: date) -> date:
    """The day, or the Monday after when it falls on a weekend or the National Day week."""
    if day.month == 10 and day.day <= 7:
        day = day.replace(day=8)
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def _register(unit: dict, people: dict[str, list[NewPerson]], rng: random.Random) -> list[dict]:
    """A unit's computers (classified and not), IT devices and mailboxes, as its officer keeps them."""
    staff = [p for held in people.values() for p in held]
    trusted = [p for p in staff if p.classified_level in ("core", "important")] or staff
    officer = people["secrecy_officer"][0].name
    rooms = ["机要室", "保密室", "档案室"]
    out = [
        {
            "kind": "computer",
            "label": f"SM-{n:03d} {rng.choice(COMPUTERS)}",
            "classified": True,
            "holder": rng.choice(trusted).name,
            "location": rng.choice(rooms),
        }
        for n in range(1, rng.randint(1, 3) + 1)
    ]
    out += [
        {
            "kind": "computer",
            "label": f"BG-{n:03d} {rng.choice(COMPUTERS)}",
            "classified": False,
            "holder": rng.choice(staff).name,
            "location": f"办公楼{rng.randint(2, 9)}层{rng.randint(1, 30):02d}室",
        }
        for n in range(1, rng.randint(2, 6) + 1)
    ]
    for n, (name, model) in enumerate(rng.sample(IT_DEVICES, rng.randint(1, 4)), start=1):
        classified = name != "传真机" and rng.random() < 0.4
        out.append(
            {
                "kind": "it_device",
                "label": f"{'SM' if classified else 'BG'}-{name}-{n:02d} {model}",
                "classified": classified,
                "holder": officer,
                "location": rng.choice(rooms) if classified else "综合科",
            }
        )
    out.append({"kind": "mailbox", "label": f"bmb{unit['pk']:04d}@demo.gov.cn", "classified": False, "holder": officer})
    if rng.random() < 0.6:
        out.append(
            {
                "kind": "mailbox",
                "label": f"bgs{unit['pk']:04d}@demo.gov.cn",
                "classified": False,
                "holder": staff[0].name,
            }
        )
    return out


@dataclass
class _Plan:
    """What a team finds at a unit and how far it got: problems as (item, mode, fate),
    the kind of device found in violation, the areas assessed, the share of the
    must-interviews taken, how many drawn devices were checked (None: all; -1: no draw)."""

    problems: list[tuple[str, str, str]]
    violation: str = ""
    areas: str = "RCPNMD"
    interviewed: float = 1.0
    checked: int | None = None
    finalised: bool = True


@dataclass
class _Inspecting:
    """The rounds as the office and its teams ran them, drawing from one generator."""

    demo: Demo
    officer_unit: dict
    rng: random.Random
    inspectors: dict[str, Actor] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    visits: list[Visit] = field(default_factory=list)
    finals: list[tuple[Actor, Any, datetime]] = field(default_factory=list)
    later: list[tuple[NewFinding, str, list[Actor], Actor]] = field(default_factory=list)

    def officer(self, unit: dict) -> Actor:
        """The unit's secrecy officer: keeps its register, answers its findings."""
        if unit["pk"] == self.officer_unit["pk"]:
            return self.demo.accounts["officer"]
        return Actor(
            kind="user",
            name=self.demo.by_unit[unit["pk"]]["secrecy_officer"][0].name,
            role=roles.UNIT_OFFICER,
            tenant_id=self.demo.tenant.id,
            scope_unit_id=unit["pk"],
            scope_path=unit["path"],
        )

    def after(self, moment: datetime, day: date) -> datetime:
        """A moment in office hours of the day, after `moment` (not after now)."""
        at = self.demo.at(day, self.rng)
        return at if at > moment else min(moment + timedelta(minutes=self.rng.randint(20, 90)), self.demo.now)

    async def registers(self) -> None:
        """Every unit's register, imported from its officer's workbook two years ago."""
        demo, rng = self.demo, random.Random(41)
        year = demo.last_year - 1
        await import_registers(
            demo.tenant,
            [
                Register(
                    self.officer(u),
                    u["pk"],
                    _register(u, demo.by_unit[u["pk"]], rng),
                    demo.at(date(year, 3, rng.randint(1, 28)), rng),
                    f"{u['name']}设备台账.xlsx",
                )
                for u in demo.units
            ],
        )

    async def link_inspectors(self, homes: list[dict], once_in: dict) -> None:
        """Four inspectors are cadres seconded from units: the security admin binds their
        accounts to their person records; one of them once worked in `once_in`, a post
        the office entered in the registry."""
        demo = self.demo
        for name, home in zip(("inspector1", "inspector3", "inspector6", "inspector8"), homes, strict=True):
            person = demo.by_unit[home["pk"]]["staff"][0]
            if name == "inspector6":
                earlier = {"unit_id": str(once_in["uuid"]), "position": "staff", "title": "科员"}
                earlier |= {"start_date": date(demo.last_year - 8, 3, 1), "end_date": date(demo.last_year - 4, 6, 30)}
                await units.add_post(demo.tenant, demo.office, person.uuid, earlier)
            user = await accounts.user_by_username(demo.tenant, name)
            binding = {"person_id": str(person.uuid)}
            await accounts.update_user(demo.tenant, demo.accounts["secadmin"], user["uuid"], binding)
        for name in ["inspector", *INSPECTORS]:
            self.inspectors[name] = await _account(demo.tenant, name)
            self.user_ids[name] = str((await accounts.user_by_username(demo.tenant, name))["uuid"])

    async def open_round(self, name: str, starts: date, ends: date, teams: list[tuple]) -> tuple[str, dict]:
        """A round over the teams' units: teams of four (members: usernames, leader first),
        each unit's visit day, every flagged conflict of interest confirmed. The round's
        id and its inspections' ids by unit pk."""
        tenant, office = self.demo.tenant, self.demo.office
        assigned = [u for _members, units_, _days in teams for u in units_]
        spec = {"name": name, "starts_on": starts, "ends_on": ends, "unit_ids": [str(u["uuid"]) for u in assigned]}
        made = await rounds.create_round(tenant, office, spec)
        of_unit = {i["unit_id"]: i["id"] for i in made["inspections"]}
        assignments = []
        for n, (members, units_, days) in enumerate(teams):
            team = {
                "name": f"第{'一二三四'[n]}检查组",
                "leader_user_id": self.user_ids[members[0]],
                "member_user_ids": [self.user_ids[m] for m in members[1:]],
            }
            team_id = (await rounds.add_team(tenant, office, made["id"], team))["id"]
            assignments += [
                {"inspection_id": of_unit[str(u["uuid"])], "team_id": team_id, "visit_on": day}
                for u, day in zip(units_, days, strict=True)
            ]
        detail = await rounds.assign(tenant, office, made["id"], assignments)
        for team in detail["teams"]:
            for m in team["members"]:
                if m["conflicts"] and not m["conflict_confirmed_by"]:
                    note = {"note": CONFLICT_NOTE.format(unit=m["conflicts"][0]["unit_name"])}
                    await rounds.confirm_conflict(tenant, office, made["id"], team["id"], m["user_id"], note)
        return made["id"], {u["pk"]: of_unit[str(u["uuid"])] for u in assigned}

    def random_problems(self, unit: dict, avoid: set[str], at_most: int = 5) -> list[tuple[str, str, str]]:
        """What a unit of its quality is found wanting on (none of `avoid`), each put right
        on the spot or by its deadline, now and then after a reopening."""
        rng = self.rng
        count = min(at_most, _problems(rng, 0.6 + 2.5 * (1 - self.demo.quality[unit["pk"]])))
        out = []
        for code in rng.sample(sorted(set(PROBLEMS) - avoid), count):
            if PROBLEMS[code][3] and rng.random() < 0.5:
                out.append((code, "on_spot", "verified"))
            else:
                out.append((code, "deadline", "verified" if rng.random() < 0.85 else "reverified"))
        return out

    # ------------------------------------------------------------ a visit

    async def visit(self, inspection: Any, unit: dict, team: list[str], day: date, plan: _Plan) -> None:
        """What the team recorded at the unit from the visit day on, as planned."""
        demo, rng = self.demo, self.rng
        members = [self.inspectors[name] for name in team]
        row = await fieldwork.readable(demo.tenant, demo.office, inspection)
        start = demo.at(day, rng)
        found = Visit(inspection, results=self.results(row, members, day, plan))
        found.interviews = await self.interviews(row, members, day, plan)
        live = await devices.live_devices(demo.tenant, unit["pk"])
        found.draw, bad = self.draw(live, members, day, plan) if plan.checked != -1 else (None, None)
        found.findings = self.problems(unit, members, day, plan, start)
        if bad:
            finding, found.measures = self.violation(unit, bad, members, day, start)
            found.findings.append(finding)
        found.clues = self.clues(day)
        if rng.random() < 0.5:
            found.notes = (members[0], rng.choice(TEAM_NOTES), self.after(start, day))
        self.visits.append(found)
        if plan.finalised:
            self.finals.append((members[0], inspection, demo.at(day + timedelta(days=rng.randint(3, 6)), rng)))

    def results(self, row: dict, members: list[Actor], day: date, plan: _Plan) -> list[Result]:
        """Each item of the areas assessed: failed or partly met where a problem was found."""
        rng = self.rng
        found = {code: PROBLEMS[code][:2] for code, _mode, _fate in plan.problems}
        if plan.violation in ("computer", "mailbox"):
            found["N2"] = ("serious", "技术检查抽查发现违规，见检查发现")
        elif plan.violation == "it_device":
            found["N4"] = ("minor", "技术检查抽查发现信息设备交叉连接，见检查发现")
        out = []
        for item in row["checklist"]["items"]:
            code, area = item["code"], item["area"]
            if area not in plan.areas:
                continue
            by = members["RCPNMD".index(area) % len(members)]
            if code in found:
                result, note = ("partial" if found[code][0] == "minor" else "fail"), found[code][1]
            elif code in ("C4", "D3") and rng.random() < 0.25:
                result, note = "na", "本单位年内无此类事项"
            else:
                result, note = "pass", rng.choice(("", "", "查阅相关材料，符合要求"))
            out.append(Result(by, code, result, self.demo.at(day, rng), note))
        return out

    async def interviews(self, row: dict, members: list[Actor], day: date, plan: _Plan) -> list[Interviewing]:
        """The must-interviews of the registry as of the visit day: held by the members in
        turn, a few waived for the reason the unit gave."""
        rng = self.rng
        listed = (await fieldwork.interviews(self.demo.tenant, row))["people"]
        out = []
        for n, person in enumerate(listed[: math.ceil(len(listed) * plan.interviewed)]):
            by = members[n % len(members)]
            if rng.random() < 0.03:
                out.append(
                    Interviewing(by, person["person_id"], self.demo.at(day, rng), waived_reason=rng.choice(WAIVED))
                )
                continue
            held_on = min(day + timedelta(days=rng.choice((0, 0, 1))), self.demo.today)
            summary = SUMMARIES[person["reasons"][0]]
            out.append(
                Interviewing(by, person["person_id"], self.demo.at(held_on, rng), held_on=held_on, summary=summary)
            )
        return out

    def draw(self, live: list[dict], members: list[Actor], day: date, plan: _Plan) -> tuple[Draw, dict | None]:
        """A sample of three to five devices, drawn again until it holds a device of the
        kind found in violation; its results (the first `plan.checked`, or all)."""
        rng = self.rng
        size = min(len(live), rng.randint(3, 5))
        # the next seed, not another draw of the generator: the devices' ids are new each
        # time, and the rest of the demo must not depend on how many seeds were tried
        seed = f"{rng.getrandbits(40):010x}"
        while plan.violation and not any(_violates(d, plan.violation) for d in devices.draw_devices(live, size, seed)):
            seed = f"{int(seed, 16) + 1:010x}"
        drawn = devices.draw_devices(live, size, seed)
        bad = next((d for d in drawn if _violates(d, plan.violation)), None) if plan.violation else None
        by, at = members[-1], self.demo.at(day, rng)
        checks = [
            Check(
                by,
                d["uuid"],
                "violation" if d is bad else "clean",
                self.after(at, day),
                _found_on(d) if d is bad else "",
            )
            for d in drawn[: plan.checked]
        ]
        return Draw(by, size, seed, at, checks), bad

    def problems(self, unit: dict, members: list[Actor], day: date, plan: _Plan, start: datetime) -> list[NewFinding]:
        """The planned problems: put right on the spot (another member or the office then
        verifies) or by a deadline under the unit's responsible leader."""
        out = []
        for code, mode, fate in plan.problems:
            severity, text, _done, on_spot = PROBLEMS[code]
            by, at = members["RCPNMD".index(code[0]) % len(members)], self.after(start, day)
            if mode == "on_spot":
                finding = NewFinding(by, severity, text, mode, at, item=code, note=on_spot)
            else:
                finding = NewFinding(by, severity, text, mode, at, item=code, deadline=self.deadline(day, fate))
                finding.note = "请于整改期限内完成整改，并通过系统报送整改材料"
            out.append(finding)
            self.later.append((finding, fate, members, self.officer(unit)))
        return out

    def deadline(self, day: date, fate: str) -> date:
        """A month or two after the visit. In an earlier year's round, within that year (a
        month for those that will be overdue): its assessment, open in December, took in
        what they cost."""
        if fate in OVERDUE:
            return day + timedelta(days=30)
        deadline = day + timedelta(days=self.rng.choice((30, 45, 60)))
        return min(deadline, date(day.year, 12, 20)) if day.year < self.demo.today.year else deadline

    def violation(
        self, unit: dict, bad: dict, members: list[Actor], day: date, start: datetime
    ) -> tuple[NewFinding, list[NewMeasure]]:
        """The finding over the device found in violation, and the measures taken over it:
        a mailbox's mails deleted on the spot; an IT device stopped; a computer's classified
        files registered and preserved, deleted, and the case transferred to the bureau."""
        by, officer = members[-1], self.officer(unit)
        at = self.after(start, day)
        later, device = self.after(at, day), bad["uuid"]
        if bad["kind"] == "mailbox":
            text = f"抽查的邮箱“{bad['label']}”中发现2封含内部工作秘密的邮件曾转发至互联网个人邮箱"
            note = "现场删除相关邮件并清空已删除邮件，责令停止向个人邮箱转发工作邮件"
            finding = NewFinding(by, "major", text, "on_spot", at, item="N2", device_uuid=device, note=note)
            what = {"what": "该邮箱中2封邮件及其附件（含已发送、已删除邮件）", "confirmed_by": officer.name}
            measures = [NewMeasure(by, "order_delete", what, later, device, finding)]
        elif bad["kind"] == "it_device":
            text = f"抽查的信息设备“{bad['label']}”与涉密计算机、非涉密计算机交叉连接使用"
            note = "请更换专用设备，并对交叉使用情况开展自查"
            deadline = self.deadline(day, "verified")
            finding = NewFinding(by, "major", text, "deadline", at, area="N", device_uuid=device, deadline=deadline)
            finding.note = note
            measures = [NewMeasure(by, "order_stop_use", {"since": day.isoformat()}, later, device, finding)]
        else:
            text = f"抽查的非涉密计算机“{bad['label']}”中发现存储涉密文件2份（机密级1份、秘密级1份）"
            deadline = self.deadline(day, "verified")
            finding = NewFinding(by, "serious", text, "deadline", at, item="N2", device_uuid=device, deadline=deadline)
            finding.note = "请对全部非涉密计算机开展自查，报送自查和处理情况"
            measures = self.computer_measures(unit, finding, members[0], day, later)
        fate = "verified" if day.year < self.demo.today.year else "open"
        self.later.append((finding, fate if finding.mode == "deadline" else "verified", members, officer))
        return finding, measures

    def computer_measures(
        self, unit: dict, finding: NewFinding, leader: Actor, day: date, at: datetime
    ) -> list[NewMeasure]:
        """Two classified files on a computer: preserved (their digests), deleted before the
        unit's officer, and the case sent to the bureau's investigators by the team leader."""
        officer, device = self.officer(unit).name, finding.device_uuid
        files = [f"关于{unit['name']}重点工作安排的请示（机密）.docx", "专项工作实施方案（秘密）.pdf"]
        preserved = [{"name": n, "sha256": hashlib.sha256(f"{unit['uuid']}/{n}".encode()).hexdigest()} for n in files]
        kept_at = f"市保密局取证专用介质 QZ-{day.year}-{unit['pk']:03d}"
        deleted = {"what": "该计算机中2份涉密文件及其全部副本", "confirmed_by": officer}
        sent_on = min(day + timedelta(days=2), self.demo.today)
        package = {
            "package": "登记保存的涉密文件电子数据2份、取证记录和现场检查笔录",
            "receipt_no": "",
            "received_by": "市保密局案件查办科 周立新",
            "transferred_on": sent_on.isoformat(),
        }
        kept = {"preserved": preserved, "kept_at": kept_at, "acknowledged_by": officer}
        return [
            NewMeasure(finding.actor, "register_preserve", kept, at, device, finding),
            NewMeasure(finding.actor, "order_delete", deleted, at, device, finding),
            NewMeasure(leader, "transfer", package, self.after(at, sent_on), device, finding),
        ]

    def clues(self, day: date) -> list[tuple[Actor, str, datetime]]:
        """What the inspection group handed over before the visit, as the office entered it."""
        rng = self.rng
        count = rng.choices((0, 1, 2), weights=(6, 3, 1))[0]
        return [
            (self.demo.office, clue, self.demo.at(day - timedelta(days=rng.randint(5, 12)), rng))
            for clue in rng.sample(CLUES, count)
        ]

    # ------------------------------------------------------------ a finding's later life

    def moves(self, finding: NewFinding, fate: str, members: list[Actor], officer: Actor) -> list[Move]:
        """The finding after the visit: the unit rectifies and submits, another member
        verifies or reopens it; a deadline passed is noted by the reminders, and the team
        leader urges the unit on."""
        judge = next(m for m in members if m.id != finding.actor.id)
        steps: list[tuple[Actor, str, date, str]] = []
        if finding.mode == "on_spot":
            if fate == "verified":
                steps.append((judge, "verified", _day(self.demo, finding.at), "现场复核，已整改到位"))
            return self.dated(finding, steps)
        day, deadline = _day(self.demo, finding.at), finding.deadline
        done = PROBLEMS.get(finding.item, (None, None, "已完成整改，报送整改情况说明和相关台账"))[2]
        if fate not in ("open", "open_overdue"):
            steps.append(
                (officer, "rectifying", day + timedelta(days=self.rng.randint(2, 5)), "已制定整改方案，正在整改")
            )
        if fate in ("verified", "reverified"):
            submitted = deadline - timedelta(
                days=self.rng.randint(10, 14) if fate == "reverified" else self.rng.randint(1, 8)
            )
            steps.append((officer, "submitted", submitted, done))
            if fate == "reverified":
                steps.append((judge, "reopened", submitted + timedelta(days=3), self.rng.choice(REOPEN_REASONS)))
                steps.append(
                    (officer, "submitted", submitted + timedelta(days=7), "按要求补充整改台账和整改前后对比材料")
                )
            steps.append(
                (
                    judge,
                    "verified",
                    deadline + timedelta(days=self.rng.randint(1, 6)),
                    "查阅整改材料并现场核实，整改到位",
                )
            )
        elif fate == "reopened":
            steps.append((officer, "submitted", deadline - timedelta(days=6), done))
            steps.append((judge, "reopened", deadline - timedelta(days=2), self.rng.choice(REOPEN_REASONS)))
        reminders = Actor.system("reminders")
        if fate in OVERDUE:
            steps.append((reminders, "overdue", deadline + timedelta(days=1), ""))
            steps.append(
                (members[0], "comment", deadline + timedelta(days=7), "已向单位主要负责人通报，督促尽快完成整改")
            )
        if fate == "submitted_late":
            steps.append((officer, "submitted", self.demo.today - timedelta(days=self.rng.randint(5, 15)), done))
        return self.dated(finding, steps)

    def dated(self, finding: NewFinding, steps: list[tuple[Actor, str, date, str]]) -> list[Move]:
        """The steps at moments one after the other (the reminders at one in the night)."""
        moves, at = [], finding.at
        for actor, kind, day, note in steps:
            day = min(day, self.demo.today)
            at = max(at, _moment(self.demo, day, 1)) if kind == "overdue" else self.after(at, day)
            moves.append(Move(actor, finding.uuid, kind, at, note))
        return moves


def _day(demo: Demo, at: datetime) -> date:
    """The day of a moment in the tenant's zone."""
    return at.astimezone(ZoneInfo(demo.tenant.timezone)).date()


def _violates(device: dict, kind: str) -> bool:
    """A device of the kind the plan finds in violation (a computer: a non-classified one)."""
    return device["kind"] == kind and not (kind == "computer" and device["classified"])


def _found_on(device: dict) -> str:
    return {
        "computer": "使用检查工具发现存储涉密文件2份",
        "it_device": "该设备曾同时连接涉密计算机和非涉密计算机",
        "mailbox": "邮箱中发现含内部工作秘密的邮件转发至个人邮箱",
    }[device["kind"]]


async def _earlier_round(run: _Inspecting, recur: list[dict], others: list[dict]) -> tuple[str, date, date]:
    """Two years ago: six units by one team, every finding put right."""
    year = run.demo.last_year - 1
    starts, ends = date(year, 4, 8), date(year, 5, 29)
    units_ = [*recur, *others]
    days = [_weekday(date(year, 4, 15) + timedelta(days=7 * i)) for i in range(len(units_))]
    team = ["inspector8", "inspector1", "inspector5", "inspector6"]
    round_id, of_unit = await run.open_round(f"{year}年第五轮巡察", starts, ends, [(team, units_, days)])
    planned = {
        recur[0]["pk"]: [("M1", "deadline", "verified"), ("R3", "on_spot", "verified")],
        recur[1]["pk"]: [("P2", "deadline", "verified"), ("D2", "deadline", "reverified")],
    }
    for unit, day in zip(units_, days, strict=True):
        problems = planned.get(unit["pk"]) or run.random_problems(unit, set(), at_most=3)
        await run.visit(of_unit[unit["pk"]], unit, team, day, _Plan(problems))
    return round_id, starts, ends


async def _seventh_round(
    run: _Inspecting, recur: list[dict], others: list[dict], team_two: list[dict]
) -> tuple[str, date, date]:
    """Last year's seventh round: 24 units by two teams, all finalised. A year on most
    findings are verified; the demo officer's unit has one reopened and one still being
    rectified, the weakest units one never started and one submitted late, all overdue;
    the two units of the earlier round are found wanting again on the same items; three
    sampled devices in violation bring measures of every kind. `others` weakest first."""
    year = run.demo.last_year
    starts, ends = date(year, 9, 1), date(year, 11, 28)
    team_one = [run.officer_unit, recur[0], *others[:10]]
    days_one = [_weekday(date(year, 9, 8) + timedelta(days=6 * i)) for i in range(len(team_one))]
    days_two = [_weekday(date(year, 9, 9) + timedelta(days=6 * i)) for i in range(len(team_two))]
    members_one = ["inspector", "inspector1", "inspector2", "inspector3"]
    members_two = ["inspector4", "inspector5", "inspector6", "inspector7"]
    teams = [(members_one, team_one, days_one), (members_two, team_two, days_two)]
    round_id, of_unit = await run.open_round(f"{year}年第七轮巡察", starts, ends, teams)
    planned = {
        run.officer_unit["pk"]: [
            ("M3", "on_spot", "verified"),
            ("C2", "deadline", "verified"),
            ("P3", "deadline", "reopened"),
            ("D1", "deadline", "rectifying_overdue"),
        ],
        recur[0]["pk"]: [("M1", "deadline", "verified"), *run.random_problems(recur[0], {"M1", "R3"}, 2)],
        recur[1]["pk"]: [("P2", "deadline", "verified"), *run.random_problems(recur[1], {"P2", "D2"}, 2)],
        others[0]["pk"]: [("R4", "deadline", "open_overdue"), *run.random_problems(others[0], {"R4"}, 2)],
        others[1]["pk"]: [("M1", "deadline", "submitted_late"), *run.random_problems(others[1], {"M1"}, 2)],
    }
    violations = {others[5]["pk"]: "computer", team_two[2]["pk"]: "it_device", team_two[7]["pk"]: "mailbox"}
    for members, units_, days in teams:
        for unit, day in zip(units_, days, strict=True):
            problems = planned.get(unit["pk"]) or run.random_problems(unit, set(), at_most=4)
            plan = _Plan(problems, violation=violations.get(unit["pk"], ""))
            await run.visit(of_unit[unit["pk"]], unit, members, day, plan)
    return round_id, starts, ends


async def _current_round(run: _Inspecting, others: list[dict]) -> tuple[str, date]:
    """This year's round under way: the first team has visited three units (one fully
    recorded, not yet finalised; the demo officer's days ago), the second one; the other
    visits are ahead, with the clues handed over for them."""
    today = run.demo.today
    starts, ends = max(date(today.year, 1, 1), today - timedelta(days=40)), today + timedelta(days=40)

    def past(days: int) -> date:
        day = today - timedelta(days=days)
        return max(starts, day - timedelta(days=max(0, day.weekday() - 4)))

    def ahead(days: int) -> date:
        return min(_weekday(today + timedelta(days=days)), ends)

    team_one = [others[0], others[1], run.officer_unit, *others[2:5]]
    days_one = [past(24), past(12), past(3), ahead(4), ahead(11), ahead(18)]
    team_two, days_two = others[5:11], [past(5), ahead(2), ahead(8), ahead(15), ahead(22), ahead(29)]
    members_one = ["inspector2", "inspector", "inspector7", "inspector8"]
    members_two = ["inspector3", "inspector1", "inspector4", "inspector5"]
    teams = [(members_one, team_one, days_one), (members_two, team_two, days_two)]
    round_id, of_unit = await run.open_round(f"{today.year}年第八轮巡察", starts, ends, teams)
    plans = [
        _Plan([("M3", "on_spot", "verified"), ("R1", "deadline", "open")], violation="computer", finalised=False),
        _Plan(
            [("P3", "deadline", "rectifying"), ("N4", "on_spot", "submitted")],
            areas="RCPN",
            interviewed=0.5,
            checked=1,
            finalised=False,
        ),
        _Plan([("R2", "deadline", "open")], areas="RC", interviewed=0.2, checked=-1, finalised=False),
    ]
    for unit, day, plan in zip(team_one, days_one, plans, strict=False):
        await run.visit(of_unit[unit["pk"]], unit, members_one, day, plan)
    plan = _Plan([("R4", "deadline", "open")], areas="R", interviewed=0.3, checked=-1, finalised=False)
    await run.visit(of_unit[team_two[0]["pk"]], team_two[0], members_two, days_two[0], plan)
    for unit, day in zip([*team_one[3:], *team_two[1:]], [*days_one[3:], *days_two[1:]], strict=True):
        if clues := run.clues(day):
            run.visits.append(Visit(of_unit[unit["pk"]], clues=clues))
    return round_id, starts


async def _inspections(demo: Demo, officer_unit: dict) -> None:
    """Every unit's device register; a small round two years ago; last year's seventh
    round of 24 units, finished, its verified findings and overdue rectifications in
    last year's assessment (which takes them in when it opens, next); and this year's
    round under way, two teams, a few units visited. Two units of the seventh round are
    found wanting on an item the earlier round found them wanting on."""
    rng = random.Random(53)
    run = _Inspecting(demo, officer_unit, rng)
    await run.registers()
    pool = [u for u in demo.units if u["kind"] != "district" and u["pk"] != officer_unit["pk"]]
    rng.shuffle(pool)
    recur, earlier_only, seventh_only, current_only, homes = pool[:2], pool[2:6], pool[6:27], pool[27:38], pool[38:42]
    seventh_only.sort(key=lambda u: demo.quality[u["pk"]])
    team_two = [recur[1], *seventh_only[10:]]
    await run.link_inspectors(homes, once_in=team_two[5])
    finished = [
        await _earlier_round(run, recur, earlier_only),
        await _seventh_round(run, recur, seventh_only, team_two),
    ]
    current, started = await _current_round(run, current_only)
    await record_visits(demo.tenant, run.visits)
    await finalise_inspections(demo.tenant, run.finals)
    moves = [m for f, fate, members, officer in run.later for m in run.moves(f, fate, members, officer)]
    await move_findings(demo.tenant, sorted(moves, key=lambda m: m.at))
    # made a few weeks before they started, closed a few weeks after they ended
    for round_id, starts, ends in finished:
        await rounds.close_round(demo.tenant, demo.office, round_id)
        made, closed = demo.at(starts - timedelta(days=15), rng), demo.at(ends + timedelta(days=21), rng)
        await date_round(demo.tenant, round_id, made, closed)
    await date_round(demo.tenant, current, demo.at(started - timedelta(days=10), rng))


async def seed(
    password: str, *, slug: str = SLUG, name: str = NAME, scale: int = 1, all_pdfs: bool = False
) -> DemoAccounts:
    """Provision the demo tenant (`slug`, `name`) if it is absent; its accounts share one
    password.

    The signed notices of the demo officer's unit (the demo leader's) carry the PDF
    signing makes; the others get theirs on first download, as signatures imported in
    bulk do, unless `all_pdfs`: rendering all ~2,200 takes minutes.

    At a `scale` above 1 the bureau is that many times the demo's (its unit tree side by
    side that many times, their people, notices, confirmations, training and both
    assessment years), for load tests; it leaves out the inspections and the
    declassification register, whose stories are written for the demo's size. The
    assessment years come in a second transaction, after the planner's statistics of
    the rest: should that one fail, the tenant stays without them."""
    existing = await tenants.resolve(slug)
    usernames = {
        "office": roles.OFFICE_ADMIN,
        "district": roles.DISTRICT_ADMIN,
        "officer": roles.UNIT_OFFICER,
        "leader": roles.LEADER,
        "inspector": roles.INSPECTOR,
        **dict.fromkeys(INSPECTORS, roles.INSPECTOR),
        "assessor": roles.ASSESSOR,
        "sysadmin": roles.SYSTEM_ADMIN,
        "secadmin": roles.SECURITY_ADMIN,
        "auditor": roles.AUDIT_ADMIN,
    }
    if existing is not None:
        return DemoAccounts(password, False, usernames)
    system = Actor.system("demo seed")
    async with db.transaction(None):
        tenant = await platform.create_tenant(system, {"slug": slug, "name": name})
        await db.set_tenant(tenant.id)
        # tried at once with the shared password: no second factor asked (the README says how to ask)
        await policy.update_policy(tenant, system, {"totp_admins": False})
        await accounts.create_user_row(tenant, system, "office", roles.OFFICE_ADMIN, password)
        office = await _account(tenant, "office")
        today = units.today(tenant)
        unit_rows = await _units(tenant, office, scale)
        people, by_unit = await _people(tenant, office, unit_rows, today)
        district = next(u for u in unit_rows if u["kind"] == "district")
        # the officer's unit has a secrecy lead: the demo leader
        officer_unit = next(u for u in unit_rows if u["kind"] == "municipal" and by_unit[u["pk"]].get("secrecy_lead"))
        bindings = {
            "district": {"scope_unit": district["pk"]},
            "officer": {"scope_unit": officer_unit["pk"]},
            "leader": {"person": by_unit[officer_unit["pk"]]["secrecy_lead"][0].pk},
        }
        await add_users(
            tenant,
            office,
            password,
            [(name, role, bindings.get(name, {})) for name, role in usernames.items() if name != "office"],
        )
        own_unit = {p.pk for p in people if p.posts[0]["unit"] == officer_unit["pk"]}
        demo = Demo(
            tenant=tenant,
            office=office,
            now=datetime.now(UTC),
            today=today,
            units=unit_rows,
            people=people,
            by_unit=by_unit,
            quality=_quality(unit_rows),
            accounts={name: await _account(tenant, name) for name in usernames},
            pdfs=SignedPdfs(None if all_pdfs else own_unit),
        )
        await _notices(demo)
        await _confirmations(demo)
        await _training(demo)
        if scale == 1:
            await _inspections(demo, officer_unit)
            await declassification.seed(demo, officer_unit)
            await _assessments(demo, officer_unit)
        await demo.pdfs.store()  # the PDF workers rendered them meanwhile
    if scale > 1:
        # opening a year reads the whole bureau: with the planner's statistics of it, or
        # its queries scan tens of thousands of rows for each batch of people
        await analyze()
        async with db.transaction(tenant.id):
            await _assessments(demo, officer_unit)
    await analyze()
    return DemoAccounts(password, True, usernames)


async def analyze() -> None:
    """Planner statistics for a bulk load, as autovacuum would gather them later (on
    PostgreSQL; ANALYZE needs the tables' owner, which the application role is not)."""
    if db.is_postgres():
        from server.piccolo_conf import DB as owner

        await owner.run_ddl("ANALYZE")


async def _account(tenant: TenantRef, username: str) -> Actor:
    """A demo account as it acts, from a workstation of the bureau's network."""
    row = await accounts.user_by_username(tenant, username)
    return accounts.actor_for(tenant, row, client="10.10.1.20", agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
