"""The demo tenant (slug `demo`, 示例市保密局) as domain.md describes it: 11
districts, ~200 municipal units, their leaders, officers and classified personnel,
with the gaps the dashboards must show. Deterministic, so figures are comparable."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server import db
from server.accounts import policy, roles
from server.accounts import service as accounts
from server.accounts.tables import User
from server.actor import Actor
from server.assessment import cycle as assessment
from server.assessment import reviews
from server.assessment.tables import Adjustment, AssessedUnit, Assessment, Scheme, Score, ScoreEvent
from server.platform import service as platform
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations, notices
from server.responsibility.tables import Confirmation, Duty, DutyCatalog, Notice, Signature
from server.training import service as training
from server.training.tables import Attendance, Course
from server.units import service as units
from server.units.tables import Person, Post, Unit
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


@dataclass
class DemoAccounts:
    password: str
    created: bool
    usernames: dict[str, str]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


async def _units(tenant: TenantRef) -> list[dict]:
    """The unit tree, inserted in bulk: 11 districts with their units, municipal units with subunits."""
    rng = random.Random(7)
    specs: list[tuple[str, str, str | None]] = []  # name, kind, parent name
    for district in DISTRICTS:
        specs.append((district, "district", None))
        for unit in DISTRICT_UNITS[: rng.choice((3, 4, 5))]:
            specs.append((district + unit.removeprefix("区"), "district_unit", district))
    for unit in MUNICIPAL:
        specs.append((unit, "municipal", None))
    municipal_with_subunits = rng.sample(MUNICIPAL, 40)
    for parent in municipal_with_subunits:
        for sub in rng.sample(SUBUNITS, rng.choice((3, 3, 4))):
            specs.append((parent + sub, "subunit", parent))
    created: dict[str, dict] = {}
    for index, (name, kind, parent_name) in enumerate(specs):
        parent = created.get(parent_name) if parent_name else None
        row = Unit(
            tenant=tenant.id,
            name=name,
            kind=kind,
            parent=parent["id"] if parent else None,
            code=f"U{index + 1:04d}",
            sort_order=index,
        )
        await row.save()
        path = (parent["path"] if parent else "") + f"{row.id:08d}/"
        depth = parent["depth"] + 1 if parent else 0
        await Unit.update({Unit.path: path, Unit.depth: depth}).where(Unit.id == row.id)
        created[name] = {"id": row.id, "name": name, "kind": kind, "path": path, "depth": depth}
    return list(created.values())


async def _people(tenant: TenantRef, unit_rows: list[dict], today: date) -> dict[int, dict[str, list[int]]]:
    rng = random.Random(2026)
    people: list[Person] = []
    posts: list[tuple[int, int, str, str, date, date | None]] = []  # person index, unit, position, title, start, end
    by_unit: dict[int, dict[str, list[int]]] = {}
    leader_title = {"district": "书记", "municipal": "局长", "district_unit": "局长", "subunit": "主任"}

    def add(unit: dict, position: str, title: str, level: str) -> None:
        person = Person(
            tenant=tenant.id,
            name=_name(rng),
            mobile=_mobile(rng),
            classified_level=level,
            military_transfer=rng.random() < 0.15,
        )
        person.email = f"user{len(people) + 1}@demo.example.cn"
        people.append(person)
        start = today - timedelta(days=rng.randint(60, 8 * 365))
        posts.append((len(people) - 1, unit["id"], position, title, start, None))
        by_unit.setdefault(unit["id"], {}).setdefault(position, []).append(len(people) - 1)
        if position in units.LEADER_POSITIONS and rng.random() < 0.12:
            # an earlier post elsewhere: the history a person page shows
            earlier = rng.choice(unit_rows)
            posts.append(
                (
                    len(people) - 1,
                    earlier["id"],
                    "business_lead",
                    "副职",
                    start - timedelta(days=rng.randint(400, 1500)),
                    start - timedelta(days=1),
                )
            )

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

    for start in range(0, len(people), 500):
        await Person.insert(*people[start : start + 500])
    post_rows = [
        Post(
            tenant=tenant.id,
            person=people[i].id,
            unit=unit_id,
            position=position,
            title=title,
            start_date=start_date,
            end_date=end_date,
        )
        for i, unit_id, position, title, start_date, end_date in posts
    ]
    for start in range(0, len(post_rows), 500):
        await Post.insert(*post_rows[start : start + 500])
    return {uid: {pos: [people[i].id for i in idx] for pos, idx in group.items()} for uid, group in by_unit.items()}


async def _responsibility(tenant: TenantRef, system: Actor, demo_leader: int) -> None:
    """Notices to every leader, most signed long ago; the gaps of domain.md: ~20% of
    leaders unsigned, outdated or without a notice; confirmations mostly in, some late,
    some missing. The demo leader has a notice to sign and a confirmation due."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    today = units.today(tenant)
    current = await catalogs.current_catalog(tenant)
    last_year = DutyCatalog(
        tenant=tenant.id,
        year=today.year - 1,
        version=1,
        status="published",
        published_at=now - timedelta(days=420),
        note="上年度职责目录",
    )
    await last_year.save()
    await Duty.insert(
        *[
            Duty(
                tenant=tenant.id,
                catalog=last_year.id,
                position=d["position"],
                sort_order=d["sort_order"],
                text=d["text"],
            )
            for d in await catalogs.catalog_duties(tenant, current["id"])
        ]
    )
    await notices.issue(tenant, system, {"scope": "all"})
    rows = (
        await Notice.select(Notice.id, Notice.person, Notice.digest)
        .where(Notice.tenant == tenant.id)
        .order_by(Notice.post)  # the same gaps on every database (posts are numbered in order)
    )
    signatures = []
    for row in rows:
        chance = rng.random()
        days = timedelta(days=1)
        if row["person"] == demo_leader or 0.07 <= chance < 0.10:
            values = {Notice.issued_at: now - rng.randint(1, 5) * days}  # waiting, recently issued
        elif chance < 0.04:
            await Notice.delete().where(Notice.id == row["id"])  # a leader new in post, never given one
            continue
        elif chance < 0.07:
            values = {
                Notice.issued_at: now - rng.randint(20, 90) * days,
                Notice.status: rng.choice(["issued", "viewed"]),
            }
        else:
            outdated = chance < 0.13
            renewal_due = 0.13 <= chance < 0.16
            issued = now - (rng.randint(370, 420) if outdated or renewal_due else rng.randint(30, 250)) * days
            signed = issued + rng.randint(1, 15) * days
            values = {Notice.issued_at: issued, Notice.status: "signed", Notice.signed_at: signed}
            if outdated:
                values[Notice.catalog] = last_year.id
            signatures.append(
                Signature(
                    tenant=tenant.id,
                    notice=row["id"],
                    person=row["person"],
                    user_id=0,
                    signer_name="",
                    signed_at=signed,
                    client_addr=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                    user_agent="demo",
                    method="password",
                    notice_digest=row["digest"],
                    code=notices.new_code(),
                )
            )
        await Notice.update(values).where(Notice.id == row["id"])
    names = {r["id"]: r["name"] for r in await Person.select(Person.id, Person.name).where(Person.tenant == tenant.id)}
    for signature in signatures:
        signature.signer_name = names[signature.person]
    for start in range(0, len(signatures), 500):
        await Signature.insert(*signatures[start : start + 500])
    period = confirmations.due_period(today)
    personal = [
        d["text"] for d in await catalogs.catalog_duties(tenant, current["id"]) if d["position"] == "every_leader"
    ]
    leaders = {r["person"] for r in rows} - {demo_leader}
    confirmed = []
    for person in sorted(leaders):
        if rng.random() < 0.15:
            continue  # overdue: the coverage dashboard lists them
        late = rng.random() < 0.1
        submitted = datetime.combine(period.due, datetime.min.time(), UTC) + timedelta(
            days=rng.randint(1, 20) if late else -rng.randint(1, 14)
        )
        confirmed.append(
            Confirmation(
                tenant=tenant.id,
                person=person,
                period=period.key,
                period_start=period.start,
                period_end=period.end,
                due_date=period.due,
                submitted_at=submitted,
                items=[{"duty": d, "done": True, "note": ""} for d in personal],
            )
        )
    for start in range(0, len(confirmed), 500):
        await Confirmation.insert(*confirmed[start : start + 500])


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


async def _training(tenant: TenantRef) -> None:
    """A year of courses and attendance: most people have their hours, some are short."""
    rng = random.Random(5)
    today = units.today(tenant)
    start = date(today.year, 1, 10)
    span = max(1, (today - start).days)
    courses = [
        Course(
            tenant=tenant.id,
            title=title,
            kind=kind,
            hours=hours,
            organiser=NAME,
            date=start + timedelta(days=span * i // len(COURSES)),
        )
        for i, (title, kind, hours) in enumerate(COURSES)
    ]
    await Course.insert(*courses)
    req = await training.requirements(tenant, today.year)
    posts = (
        await Post.select(Post.person, Post.position, Post.person.classified_level.as_alias("level"))
        .where(Post.tenant == tenant.id, Post.end_date.is_null())
        .order_by(Post.id)
    )
    owed: dict[int, float] = {}
    for p in posts:
        need = training.required_of(req, p["position"] in units.LEADER_POSITIONS, p["level"])
        owed[p["person"]] = max(owed.get(p["person"], 0.0), need)
    rows = []
    for person, need in owed.items():
        target = need * (rng.uniform(1.0, 1.6) if rng.random() < 0.78 else rng.uniform(0.0, 0.9))
        done = 0.0
        for course in rng.sample(courses, len(courses)):
            if done >= target:
                break
            rows.append(
                Attendance(
                    tenant=tenant.id,
                    course=course.id,
                    person=person,
                    hours=course.hours,
                    score=rng.randint(60, 100) if course.kind == "exam" else None,
                )
            )
            done += float(course.hours)
    for i in range(0, len(rows), 1000):
        await Attendance.insert(*rows[i : i + 1000])


def _quality(unit_rows: list[dict]) -> dict[int, float]:
    """How well each unit runs its secrecy work, 0..1: it steers last year's history and
    both years' manual scores, so that results hang together (mostly good, a few weak)."""
    rng = random.Random(31)
    bands = ((0.85, 1.0), (0.6, 0.85), (0.35, 0.6), (0.0, 0.35))
    return {u["id"]: rng.uniform(*rng.choices(bands, weights=(32, 50, 13, 5))[0]) for u in unit_rows}


def _at(tenant: TenantRef, day: date, rng: random.Random) -> datetime:
    """A moment in office hours of the day, in the tenant's zone."""
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), ZoneInfo(tenant.timezone))


async def _history(tenant: TenantRef, quality: dict[int, float], demo_leader: int) -> None:
    """Last year as it happened (the rest of the demo is this year's): notices signed
    then and superseded since, every period's confirmations, courses and attendance.
    Without it last year's automatic indicators would all be zero."""
    rng = random.Random(17)
    today = units.today(tenant)
    year = today.year - 1
    catalog = await DutyCatalog.select().where(DutyCatalog.tenant == tenant.id, DutyCatalog.year == year).first()
    posts = (
        await Post.select(Post.id, Post.person, Post.unit, Post.position, Post.start_date, Post.end_date)
        .where(Post.tenant == tenant.id)
        .order_by(Post.id)
    )
    start_of = {p["id"]: p["start_date"] for p in posts}
    names = {r["id"]: r["name"] for r in await Person.select(Person.id, Person.name).where(Person.tenant == tenant.id)}

    # notices: most leaders signed last year's early in the year, and this year's superseded it
    earlier: list[Notice] = []
    for row in await Notice.select().where(Notice.tenant == tenant.id).order_by(Notice.post):
        if row["catalog"] == catalog["id"] or row["issued_at"].year < today.year:
            continue  # signed last year and never renewed: it is last year's notice already
        if start_of[row["post"]] > date(year, 12, 15):
            continue  # not in post last year
        chance = rng.random() - 0.08 * (1 - quality[row["unit"]])
        if chance < 0.05:
            continue  # given none last year
        issued_day = max(
            date(year, 1, 1) + timedelta(days=rng.randint(6, 85)), start_of[row["post"]] + timedelta(days=5)
        )
        issued = _at(tenant, issued_day, rng)
        body = row["body_html"].replace(f"<br>{today.year}年</p>", f"<br>{year}年</p>")
        notice = Notice(
            tenant=tenant.id,
            person=row["person"],
            post=row["post"],
            unit=row["unit"],
            position=row["position"],
            catalog=catalog["id"],
            template=row["template"],
            year=year,
            version_label=f"{catalog['year']}年度职责目录第{catalog['version']}版",
            title=row["title"],
            body_html=body,
            digest=notices.digest_of(row["title"], body),
            status="superseded",
            issued_at=issued,
            issued_by="demo seed",
            closed_at=row["issued_at"],
            superseded_by=row["id"],
        )
        if chance >= 0.09:
            notice.viewed_at = issued + timedelta(days=rng.randint(0, 3), minutes=rng.randint(5, 300))
            notice.signed_at = notice.viewed_at + timedelta(days=rng.randint(0, 12), minutes=rng.randint(1, 90))
        elif rng.random() < 0.5:  # opened, never signed
            notice.viewed_at = issued + timedelta(days=rng.randint(1, 30))
        earlier.append(notice)
    for i in range(0, len(earlier), 500):
        await Notice.insert(*earlier[i : i + 500])
    signatures = [
        Signature(
            tenant=tenant.id,
            notice=n.id,
            person=n.person,
            user_id=0,
            signer_name=names[n.person],
            signed_at=n.signed_at,
            client_addr=f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            user_agent="demo",
            method="password",
            notice_digest=n.digest,
            code=notices.new_code(),
        )
        for n in earlier
        if n.signed_at is not None
    ]
    for i in range(0, len(signatures), 500):
        await Signature.insert(*signatures[i : i + 500])

    # confirmations of every period due from last January up to the one due now
    # (which _responsibility seeds); each leader keeps a habit, better in better units
    cadence = confirmations.period_kind(await tenants.settings_of(tenant))
    due_now = confirmations.due_period(today, cadence)
    periods: list[confirmations.Period] = []
    day = date(year - 1, 1, 1)
    while day < due_now.start:
        period = confirmations.period_containing(day, cadence)
        if period.due >= date(year, 1, 1):  # the one due last January counts for last year
            periods.append(period)
        day = period.end + timedelta(days=1)
    held: dict[int, list[dict]] = {}
    for p in posts:
        if p["position"] in units.LEADER_POSITIONS:
            held.setdefault(p["person"], []).append(p)
    personal = [
        d["text"] for d in await catalogs.catalog_duties(tenant, catalog["id"]) if d["position"] == "every_leader"
    ]
    confirmed = []
    for person in sorted(held):
        home = next((p["unit"] for p in held[person] if p["end_date"] is None), held[person][0]["unit"])
        habit = min(1.0, max(0.0, quality[home] + rng.gauss(0, 0.15)))
        for period in periods:
            if not any(
                p["start_date"] <= period.end and (p["end_date"] is None or p["end_date"] >= period.end)
                for p in held[person]
            ):
                continue  # not a leader when the period ended
            on_time = 1.0 if person == demo_leader else 0.62 + 0.36 * habit
            chance = rng.random()
            if chance >= (1 + on_time) / 2:
                continue  # never confirmed
            late = chance >= on_time
            offset = rng.randint(1, 25) if late else -rng.randint(0, 14)
            confirmed.append(
                Confirmation(
                    tenant=tenant.id,
                    person=person,
                    period=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    due_date=period.due,
                    submitted_at=_at(tenant, period.due + timedelta(days=offset), rng),
                    items=[{"duty": d, "done": True, "note": ""} for d in personal],
                )
            )
    for i in range(0, len(confirmed), 500):
        await Confirmation.insert(*confirmed[i : i + 500])

    # last year's courses; about four in five people in post at its end had their hours
    start = date(year, 1, 12)
    span = (date(year, 12, 12) - start).days
    courses = [
        Course(
            tenant=tenant.id,
            title=title,
            kind=kind,
            hours=hours,
            organiser=NAME,
            date=start + timedelta(days=span * i // len(COURSES)),
        )
        for i, (title, kind, hours) in enumerate(COURSES)
    ]
    await Course.insert(*courses)
    req = await training.requirements(tenant, year)
    levels = {
        r["id"]: r["classified_level"]
        for r in await Person.select(Person.id, Person.classified_level).where(Person.tenant == tenant.id)
    }
    year_end = date(year, 12, 31)
    owed: dict[int, tuple[float, int]] = {}
    for p in posts:
        if p["start_date"] > year_end or (p["end_date"] is not None and p["end_date"] < year_end):
            continue
        need = training.required_of(req, p["position"] in units.LEADER_POSITIONS, levels[p["person"]])
        if need > owed.get(p["person"], (0.0, 0))[0]:
            owed[p["person"]] = (need, p["unit"])
    attended = []
    for person, (need, unit) in sorted(owed.items()):
        meets = rng.random() < 0.6 + 0.28 * quality[unit]
        target = need * (rng.uniform(1.0, 1.5) if meets else rng.uniform(0.0, 0.9))
        done = 0.0
        for course in rng.sample(courses, len(courses)):
            if done >= target:
                break
            if not meets and done + float(course.hours) >= need:
                continue  # a shortfall stays a shortfall
            attended.append(
                Attendance(
                    tenant=tenant.id,
                    course=course.id,
                    person=person,
                    hours=course.hours,
                    score=rng.randint(60, 100) if course.kind == "exam" else None,
                )
            )
            done += float(course.hours)
    for i in range(0, len(attended), 1000):
        await Attendance.insert(*attended[i : i + 1000])


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


async def _assessments(
    tenant: TenantRef,
    unit_rows: list[dict],
    people: dict[int, dict[str, list[int]]],
    quality: dict[int, float],
    officer_unit: dict,
) -> None:
    """Last year's assessment finalised and this year's open, through the same service
    calls users make: each unit's secrecy officer self-assesses, the demo assessor
    reviews and records deductions, the office opens and finalises."""
    rng = random.Random(23)
    today = units.today(tenant)
    users = {
        r["username"]: accounts.actor_for(tenant, r)
        for r in await User.select(User.all_columns(), User.scope_unit.path.as_alias("scope_path")).where(
            User.tenant == tenant.id
        )
    }
    office, assessor = users["office"], users["assessor"]
    uuids = {r["id"]: str(r["uuid"]) for r in await Unit.select(Unit.id, Unit.uuid).where(Unit.tenant == tenant.id)}
    names = {r["id"]: r["name"] for r in await Person.select(Person.id, Person.name).where(Person.tenant == tenant.id)}
    assessed = [u for u in unit_rows if u["kind"] != "district"]

    def officer_of(unit: dict) -> Actor:
        if unit["id"] == officer_unit["id"]:
            return users["officer"]
        return Actor.system(names[people[unit["id"]]["secrecy_officer"][0]])

    async def self_assess(year: int, unit: dict, leaves: list[dict], plans: list[tuple], submit: bool) -> None:
        actor = officer_of(unit)
        for leaf, (own, note, _other, _reason) in zip(leaves, plans, strict=False):
            await reviews.self_assess(
                tenant, actor, year, uuids[unit["id"]], leaf["code"], {"score": own, "note": note}
            )
        if submit:
            await reviews.submit_self(tenant, actor, year, uuids[unit["id"]])

    async def review(year: int, unit: dict, leaves: list[dict], plans: list[tuple]) -> None:
        for leaf, (_own, _note, other, reason) in zip(leaves, plans, strict=True):
            data = {} if other is None else {"score": other, "reason": reason}
            await reviews.review(tenant, assessor, year, uuids[unit["id"]], leaf["code"], data)

    def draw(opened: dict, unit: dict, leaves: list[dict]) -> list[tuple]:
        """The unit's manual scores this year. Its total should come near a target set
        by its quality, given its automatic scores (just opened: the sum is theirs alone), so
        that grades follow quality; of three drafts the closest is kept, or the guides'
        coarse steps would scatter similar units across two grades."""
        q = min(1.0, max(0.0, quality[unit["id"]] + rng.gauss(0, 0.07)))
        auto = next(u["score_sum"] for u in opened["units"] if u["unit_id"] == uuids[unit["id"]])
        target = (59 + 36 * q if q >= 0.35 else 50 + 62 * q) - auto  # the weakest fall below a pass
        share = target / (sum(float(leaf["points"]) for leaf in leaves) or 1.0)
        drafts = [[_plan(rng, q, share, leaf) for leaf in leaves] for _ in range(3)]
        return min(drafts, key=lambda plans: abs(sum(p[0] if p[2] is None else p[2] for p in plans) - target))

    def weak_first(units_: list[dict], count: int) -> list[dict]:
        """Units drawn for deductions, the weaker ones more likely (without repeats)."""
        pool = list(units_)
        out = []
        while pool and len(out) < count:
            pick = rng.choices(pool, weights=[1.15 - quality[u["id"]] for u in pool])[0]
            pool.remove(pick)
            out.append(pick)
        return out

    async def deduct(year: int, unit: dict, item: str) -> None:
        note = rng.choice(DEDUCTIONS[item])
        await reviews.add_adjustment(
            tenant, assessor, year, uuids[unit["id"]], {"kind": "deduction", "item": item, "note": note}
        )

    # last year: every unit through to the end, then finalised
    year = today.year - 1
    if await assessment.scheme_detail(tenant, year) is None:
        await assessment.create_scheme(tenant, office, year)
    opened = await assessment.open_assessment(
        tenant, office, year, {"cutoff": f"{year}-12-31", "self_due": f"{year}-12-20"}
    )
    leaves = await _manual_leaves(tenant, year)
    for unit in assessed:
        plans = draw(opened, unit, leaves)
        await self_assess(year, unit, leaves, plans, True)
        await review(year, unit, leaves, plans)
    for unit in weak_first(assessed, 16):
        await deduct(year, unit, "minor")
        if rng.random() < 0.35:
            await deduct(year, unit, "minor")
    for unit in weak_first(assessed, 4):
        await deduct(year, unit, "serious")
    # the veto: a well-run unit, to show that a confirmed leak fails it whatever the score
    leaky = rng.choice(
        [
            u
            for u in assessed
            if u["kind"] == "municipal" and u["id"] != officer_unit["id"] and 0.7 < quality[u["id"]] < 0.9
        ]
    )
    await reviews.add_adjustment(
        tenant, assessor, year, uuids[leaky["id"]], {"kind": "veto", "item": "leak", "note": LEAK}
    )
    await assessment.finalise(tenant, office, year)
    await _backdate(tenant, year, rng)

    # this year: open, three in five units submitted, some of those reviewed; the demo
    # officer's unit has not started, so the officer has work to do
    year = today.year
    if await assessment.scheme_detail(tenant, year) is None:
        await assessment.create_scheme(tenant, office, year)
    opened = await assessment.open_assessment(
        tenant, office, year, {"cutoff": f"{year}-12-31", "self_due": f"{year}-12-20"}
    )
    leaves = await _manual_leaves(tenant, year)
    reviewed = []
    for unit in assessed:
        if unit["id"] == officer_unit["id"]:
            continue
        plans = draw(opened, unit, leaves)
        chance = rng.random()
        if chance < 0.6:
            await self_assess(year, unit, leaves, plans, True)
            if rng.random() < 0.3:
                await review(year, unit, leaves, plans)
                reviewed.append(unit)
        elif chance < 0.7:  # started, not yet submitted
            cut = rng.randint(1, len(leaves) - 1)
            await self_assess(year, unit, leaves[:cut], plans[:cut], False)
    for unit in weak_first(reviewed, 2):
        await deduct(year, unit, "minor")


async def _manual_leaves(tenant: TenantRef, year: int) -> list[dict]:
    scheme = await assessment.scheme_detail(tenant, year)
    return [i for i in scheme["indicators"] if not i["group"] and i["method"] == "manual"]


async def _backdate(tenant: TenantRef, year: int, rng: random.Random) -> None:
    """Last year's assessment ran in December and January, not on the day of seeding:
    move the times the service stamped (scores and results are untouched)."""
    row = await Assessment.select().where(Assessment.tenant == tenant.id, Assessment.year == year).first()
    opened = _at(tenant, date(year, 12, 1), rng)
    await Assessment.update(
        {Assessment.opened_at: opened, Assessment.finalised_at: _at(tenant, date(year + 1, 1, 26), rng)}
    ).where(Assessment.id == row["id"])
    await Scheme.update({Scheme.frozen_at: opened, Scheme.updated_at: opened - timedelta(days=12)}).where(
        Scheme.id == row["scheme"]
    )
    for unit in (
        await AssessedUnit.select(AssessedUnit.id)
        .where(AssessedUnit.tenant == tenant.id, AssessedUnit.assessment == row["id"])
        .order_by(AssessedUnit.unit)
    ):
        submitted = _at(tenant, date(year, 12, rng.randint(5, 20)), rng)
        reviewed = _at(tenant, date(year + 1, 1, rng.randint(5, 16)), rng)
        await AssessedUnit.update({AssessedUnit.submitted_at: submitted, AssessedUnit.reviewed_at: reviewed}).where(
            AssessedUnit.id == unit["id"]
        )
        events = (ScoreEvent.tenant == tenant.id) & (ScoreEvent.assessed == unit["id"])
        await ScoreEvent.update({ScoreEvent.at: submitted - timedelta(hours=rng.randint(2, 72))}).where(
            events, ScoreEvent.kind == "self"
        )
        await ScoreEvent.update({ScoreEvent.at: submitted}).where(events, ScoreEvent.kind == "submitted")
        await ScoreEvent.update({ScoreEvent.at: reviewed}).where(events, ScoreEvent.kind.is_in(["accepted", "changed"]))
        await Score.update({Score.updated_at: reviewed}).where(
            Score.tenant == tenant.id, Score.assessed == unit["id"], Score.method == "manual"
        )
    for adjustment in (
        await Adjustment.select(Adjustment.id, Adjustment.assessed, Adjustment.kind, Adjustment.item)
        .where(Adjustment.tenant == tenant.id, Adjustment.assessed.assessment == row["id"])
        .order_by(Adjustment.id)
    ):
        at = _at(tenant, date(year + 1, 1, rng.randint(8, 20)), rng)
        await Adjustment.update({Adjustment.created_at: at}).where(Adjustment.id == adjustment["id"])
        await ScoreEvent.update({ScoreEvent.at: at}).where(
            ScoreEvent.tenant == tenant.id,
            ScoreEvent.assessed == adjustment["assessed"],
            ScoreEvent.kind == adjustment["kind"],
            ScoreEvent.indicator == adjustment["item"],
        )


async def seed(password: str) -> DemoAccounts:
    """Provision the demo tenant if it is absent; its accounts share one password."""
    existing = await tenants.resolve(SLUG)
    usernames = {
        "office": roles.OFFICE_ADMIN,
        "district": roles.DISTRICT_ADMIN,
        "officer": roles.UNIT_OFFICER,
        "leader": roles.LEADER,
        "inspector": roles.INSPECTOR,
        "assessor": roles.ASSESSOR,
        "sysadmin": roles.SYSTEM_ADMIN,
        "secadmin": roles.SECURITY_ADMIN,
        "auditor": roles.AUDIT_ADMIN,
    }
    if existing is not None:
        return DemoAccounts(password, False, usernames)
    system = Actor.system("demo seed")
    async with db.transaction(None):
        tenant = await platform.create_tenant(system, {"slug": SLUG, "name": NAME})
        await db.set_tenant(tenant.id)
        unit_rows = await _units(tenant)
        people = await _people(tenant, unit_rows, units.today(tenant))
        district = next(u for u in unit_rows if u["kind"] == "district")
        # the officer's unit has a secrecy lead: the demo leader
        officer_unit = next(u for u in unit_rows if u["kind"] == "municipal" and people[u["id"]].get("secrecy_lead"))
        bindings = {
            "district": {"scope_unit": district["id"]},
            "officer": {"scope_unit": officer_unit["id"]},
            "leader": {"person": people[officer_unit["id"]]["secrecy_lead"][0]},
        }
        for username, role in usernames.items():
            await accounts.create_user_row(tenant, system, username, role, password, **bindings.get(username, {}))
        # tried at once with the shared password: no second factor asked (the README says how to ask)
        await policy.update_policy(tenant, system, {"totp_admins": False})
        await _responsibility(tenant, system, bindings["leader"]["person"])
        await _training(tenant)
        quality = _quality(unit_rows)
        await _history(tenant, quality, bindings["leader"]["person"])
        await _assessments(tenant, unit_rows, people, quality, officer_unit)
    if db.is_postgres():
        # planner statistics for the bulk load, as autovacuum would gather them later;
        # ANALYZE needs the tables' owner, which the application role is not
        from server.piccolo_conf import DB as owner

        await owner.run_ddl("ANALYZE")
    return DemoAccounts(password, True, usernames)
