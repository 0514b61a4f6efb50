"""The demo tenant (slug `demo`, 示例市保密局) as domain.md describes it: 11
districts, ~200 municipal units, their leaders, officers and classified personnel,
with the gaps the dashboards must show. Deterministic, so figures are comparable."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from server import db
from server.accounts import roles
from server.accounts import service as accounts
from server.actor import Actor
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
    rows = await Notice.select(Notice.id, Notice.person, Notice.digest).where(Notice.tenant == tenant.id)
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
    posts = await Post.select(Post.person, Post.position, Post.person.classified_level.as_alias("level")).where(
        Post.tenant == tenant.id, Post.end_date.is_null()
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
        await _responsibility(tenant, system, bindings["leader"]["person"])
        await _training(tenant)
    if db.is_postgres():
        # planner statistics for the bulk load, as autovacuum would gather them later;
        # ANALYZE needs the tables' owner, which the application role is not
        from server.piccolo_conf import DB as owner

        await owner.run_ddl("ANALYZE")
    return DemoAccounts(password, True, usernames)
