"""The demo's declassification pilot, as domain.md and issue 15 tell it: five municipal
units and one district keep a register of about 2,000 classified items, whose terms are
spread so that about 150 end within six months; derived items whose originators answered,
have yet to answer or are late; decisions proposed by officers and approved by
principals, published or withheld; items whose term passed with no decision (自行解密);
this year's review half done; the Q&A the tenant started with.

The register is written as checked items in bulk (register.check_item, insert_items:
what the import does); consultations, decisions, publication and the expiry scan go
through their services, each by the account that acts; the year's review through the
bulk form of review.note_review. Deterministic, as the rest of the demo."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from server import roles
from server.actor import Actor
from server.core.validation import Checker
from server.declassification import bulk, clearing, consultations, decisions, publication, register, review, terms

if TYPE_CHECKING:
    from server.demo import Demo

PILOT_UNITS = ("市档案馆", "市公安局", "市财政局", "市发展和改革委员会")
# bodies outside the tenant that derived items name in words
OUTSIDE = ("省保密局", "省发展和改革委员会", "省公安厅", "国家档案局")
TOPICS = (
    "年度预算编制",
    "重点项目选址",
    "突发事件应急预案修订",
    "干部任免",
    "信息系统建设",
    "专项督查",
    "重大活动安全保卫",
    "城市规划调整",
    "财政专项资金分配",
    "统计数据汇总",
    "案件协查",
    "外事接待",
    "档案移交",
    "人防工程",
    "能源储备",
)
DOCUMENTS = ("请示", "通知", "报告", "会议纪要", "工作方案", "批复")
LEVEL_WEIGHTS = (("top_secret", 4), ("secret", 33), ("confidential", 63))
BASES = {
    "top_secret": "本单位国家秘密事项范围第一条",
    "secret": "本单位国家秘密事项范围第三条",
    "confidential": "本单位国家秘密事项范围第五条",
}
# of the register: items whose term ends within six months, items already past their end
ENDING_SOON = 150
PAST_END = 70


@dataclass
class _Pilot:
    demo: Demo
    rng: random.Random
    units: list[dict]  # custodian units
    officers: dict[int, Actor] = field(default_factory=dict)  # unit pk -> its officer
    principals: dict[int, Actor] = field(default_factory=dict)  # unit pk -> its 定密责任人
    items: list[dict] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.demo.today


def _officer(demo: Demo, unit: dict, officer_unit: dict) -> Actor:
    """The unit's secrecy officer as they act: the demo `officer` account for its unit."""
    if unit["pk"] == officer_unit["pk"]:
        return demo.accounts["officer"]
    people = demo.by_unit[unit["pk"]].get("secrecy_officer") or demo.by_unit[unit["pk"]]["staff"]
    return Actor(
        kind="user",
        name=people[0].name,
        role=roles.UNIT_OFFICER,
        tenant_id=demo.tenant.id,
        scope_path=unit["path"],
        person_id=people[0].pk,
        client_addr="10.10.2.30",
    )


def _term(rng: random.Random, level: str, today: date, fate: str) -> dict:
    """classified_on and the term for an item whose end falls as `fate` says."""
    years = rng.choice({"top_secret": (20, 30), "secret": (10, 15, 20), "confidential": (5, 10)}[level])
    if fate == "condition":
        on = today - timedelta(days=rng.randint(200, 3000))
        return {"classified_on": on, "term_kind": "condition", "term_condition": "相关工程竣工验收后"}
    if fate == "soon":
        end = today + timedelta(days=rng.randint(1, 182))
    elif fate == "past":
        end = today - timedelta(days=rng.randint(1, 120))
    else:
        end = today + timedelta(days=rng.randint(200, 365 * years - 30))
    # the term ends the day before the anniversary (terms.term_end)
    on = terms.add_years(end + timedelta(days=1), -years)
    if rng.random() < 0.15:
        return {"classified_on": on, "term_kind": "date", "term_until": end}
    return {"classified_on": on, "term_kind": "years", "term_years": years}


def _fates(rng: random.Random, count: int, share: float) -> list[str]:
    """How each of a unit's items ends: its share of the register's ending soon and past
    their end, a twelfth on a condition, the rest later."""
    fates = ["soon"] * round(ENDING_SOON * share) + ["past"] * round(PAST_END * share)
    fates += ["condition"] * (count // 12)
    fates += ["later"] * (count - len(fates))
    rng.shuffle(fates)
    return fates


def _checked(data: dict, today: date) -> dict:
    check = Checker(data, register.LABELS)
    values = register.check_item(check, today=today)
    check.done()
    return values


def _raw_item(pilot: _Pilot, unit: dict, n: int, fate: str, others: list[dict]) -> tuple[dict, dict]:
    """One item's input (as a form or a workbook row gives it) and its references."""
    rng = pilot.rng
    refs: dict = {"custodian_unit": unit["pk"], "responsible_person": pilot.principals[unit["pk"]].person_id}
    data: dict = {"origin": "original"}
    level = rng.choices([lv for lv, _w in LEVEL_WEIGHTS], [w for _lv, w in LEVEL_WEIGHTS])[0]
    roll = rng.random()
    if roll < 0.12 and others:
        source = rng.choice(others)
        level = source["level"]
        data.update(origin="derived", source_item_id=str(source["uuid"]))
        refs.update(source_item=source["id"], originating_unit=source["custodian_unit"])
    elif roll < 0.20:
        data.update(origin="derived", originating_body=rng.choice(OUTSIDE))
    elif roll < 0.25:
        outside = rng.choice([u for u in pilot.demo.units if u["kind"] == "municipal" and u not in pilot.units])
        data.update(origin="derived", originating_unit_id=str(outside["uuid"]))
        refs["originating_unit"] = outside["pk"]
    term = _term(rng, level, pilot.today, fate)
    default_end = terms.add_years(term["classified_on"], terms.MAX_YEARS[level])
    lasting = default_end > pilot.today + timedelta(days=200)
    if data["origin"] == "derived" and fate == "later" and lasting and rng.random() < 0.3:
        # a derived item with no marked term: its level's default (terms.MAX_YEARS)
        term = {"classified_on": term["classified_on"]}
    data.update(
        reference=f"{unit['name']}〔{term['classified_on'].year}〕{n}号",
        public_title=f"关于{rng.choice(TOPICS)}的{rng.choice(DOCUMENTS)}",
        level=level,
        knowledge_scope=rng.choice(("本单位领导班子成员", "承办处室及分管领导", "办公室主任及机要人员")),
        basis=BASES[level],
        handler=rng.choice(pilot.demo.people).name,
        **{k: v.isoformat() if isinstance(v, date) else v for k, v in term.items()},
    )
    return data, refs


async def _register(pilot: _Pilot, per_unit: dict[int, int]) -> None:
    """Each unit's register: the municipal units' earlier, so that derived items of the
    district can name them as sources."""
    for unit in pilot.units:
        count = per_unit[unit["pk"]]
        others = [i for i in pilot.items if i["custodian_unit"] != unit["pk"] and i["origin"] == "original"]
        rows = []
        share = count / sum(per_unit.values())
        for n, fate in enumerate(_fates(pilot.rng, count, share), start=1):
            data, refs = _raw_item(pilot, unit, n, fate, others)
            rows.append({**_checked(data, pilot.today), **refs})
        made = await register.insert_items(pilot.demo.tenant, pilot.officers[unit["pk"]], rows)
        pilot.items += [{**row, **made_row} for row, made_row in zip(rows, made, strict=True)]


def _moment(pilot: _Pilot, day: date) -> datetime:
    hour = pilot.rng.randint(9, 17)
    return datetime.combine(day, time(hour, pilot.rng.randint(0, 59)), ZoneInfo(pilot.demo.tenant.timezone))


async def _answerer(pilot: _Pilot, item: dict) -> Actor:
    """Who answers a consultation: the originating unit's officer, or for a body outside
    the custodian's officer recording its written answer."""
    unit_pk = item.get("originating_unit") or item["custodian_unit"]
    unit = next(u for u in pilot.demo.units if u["pk"] == unit_pk)
    return _officer(pilot.demo, unit, {"pk": None})


async def _consult(pilot: _Pilot) -> list[dict]:
    """Consultations on the derived items ending soonest: answered (agreeing
    mostly), open within their deadline, and late (some escalated); the items whose
    originator agreed."""
    tenant = pilot.demo.tenant
    # items still within their term: one past it is declassified by expiry, nothing to ask
    live = [i for i in pilot.items if (i.get("term_ends_on") or date.min) >= pilot.today]
    derived = [i for i in live if i["origin"] == "derived"]
    derived.sort(key=lambda i: i["term_ends_on"])
    chosen = derived[:35]
    agreed, asked_at = [], []
    for n, item in enumerate(chosen):
        officer = pilot.officers[item["custodian_unit"]]
        asked = await consultations.request(tenant, officer, item["uuid"], {"question": "拟解密，请提出意见。"})
        if n % 7 < 4:
            answer = "agree" if n % 7 < 3 else "keep"
            note = "" if answer == "agree" else "相关工作仍在进行，建议继续保密。"
            await consultations.answer(
                tenant, await _answerer(pilot, item), asked["id"], {"answer": answer, "note": note}
            )
            if answer == "agree":
                agreed.append(item)
        else:
            # still open: asked in the last weeks, or months ago and never answered (late)
            ago = pilot.rng.randint(33, 120) if n % 7 == 6 else pilot.rng.randint(1, 25)
            at = _moment(pilot, pilot.today - timedelta(days=ago))
            row = await consultations.open_consultation(tenant, item["id"])
            asked_at.append((row["id"], at, at.date() + timedelta(days=30)))
    await bulk.date_consultations(asked_at)
    await consultations.escalate(tenant, pilot.today)
    return agreed


async def _decide(pilot: _Pilot, item: dict, data: dict, *, approve: bool = True) -> None:
    tenant = pilot.demo.tenant
    made = await decisions.propose(tenant, pilot.officers[item["custodian_unit"]], item["uuid"], data)
    if approve:
        await decisions.approve(tenant, pilot.principals[item["custodian_unit"]], item["uuid"], made["id"])


async def _decisions(pilot: _Pilot, agreed: list[dict]) -> None:
    """Decisions on items ending soon (one past its end was declassified by expiry: the
    scan records it), on the derived items whose originator agreed; a few left for the
    approver."""
    today = pilot.today
    original = [i for i in pilot.items if i["origin"] == "original" and i.get("term_ends_on")]
    soon = today + timedelta(days=182)
    due = sorted((i for i in original if today <= i["term_ends_on"] <= soon), key=lambda i: i["term_ends_on"])
    basis = "《国家秘密解密暂行办法》第十条：已不符合国家秘密认定条件"
    for n, item in enumerate(due[:20]):
        part = "除附件二外的全部内容" if n % 5 == 0 else ""
        await _decide(pilot, item, {"decision": "declassify", "basis": basis, "part": part, "publish": n % 4 != 3})
    for item in agreed:
        await _decide(pilot, item, {"decision": "declassify", "basis": basis, "publish": True})
    for item in due[20:28]:
        years = min(terms.MAX_YEARS[item["level"]], (item.get("term_years") or 0) + 5)
        end = terms.term_end(item["classified_on"], "years", years)
        if item.get("term_years") and years > item["term_years"] and end > today:
            reason = "相关工程尚未完成，解密后可能损害国家安全和利益"
            data = {"decision": "extend", "basis": "《保守国家秘密法》第二十一条", "reason": reason}
            await _decide(pilot, item, {**data, "new_term_years": years})
    lower = {"top_secret": "secret", "secret": "confidential"}
    for item in due[28:34]:
        new_level = lower.get(item["level"])
        if new_level and (item.get("term_years") or 99) <= terms.MAX_YEARS[new_level]:
            await _decide(pilot, item, {"decision": "change_level", "basis": "密级过高", "new_level": new_level})
    # waiting for the principal (the demo leader for the officer's unit)
    for item in due[34:40]:
        await _decide(pilot, item, {"decision": "declassify", "basis": basis, "publish": True}, approve=False)


async def _publication(pilot: _Pilot) -> None:
    """The office's publication decisions on items declassified by expiry: some published,
    a few withheld, the rest still waiting; two published entries withdrawn."""
    tenant, office = pilot.demo.tenant, pilot.demo.office
    waiting = await publication.waiting(tenant, office, 1, 500)
    for n, row in enumerate(waiting.items):
        if n % 3 == 0:
            await publication.decide(tenant, office, row["id"], {"publish": True, "what": ""})
        elif n % 7 == 1:
            await publication.decide(tenant, office, row["id"], {"publish": False, "reason": "涉及工作秘密，不宜公开"})
    published = await publication.entries(tenant, office, 1, 5)
    for row in published.items[:2]:
        await publication.withdraw(tenant, office, row["id"], {"reason": "公开范围有误，待重新审核"})


async def _reviews(pilot: _Pilot) -> None:
    """This year's review: about half of each unit's items still classified, done by its
    officer over the year so far."""
    start = date(pilot.today.year, 1, 1)
    span = max((pilot.today - start).days, 1)
    done = []
    for item in pilot.items:
        if item.get("term_ends_on") and item["term_ends_on"] < pilot.today:
            continue
        if pilot.rng.random() < 0.55:
            day = start + timedelta(days=pilot.rng.randrange(span))
            done.append((pilot.officers[item["custodian_unit"]], item, day))
    await bulk.record_reviews(pilot.demo.tenant, done)


# the pilot's clearing, as the bureau reported it: (documents cleared, declassified, corrected) of
# the last two years' documents and of earlier ones; the archive's holdings, where of the derived
# items only 9 were declassified (their originators did not answer)
CLEARED_RECENT = (2512, 590, 1100)
CLEARED_EARLIER = (1919, 331, 979)
ARCHIVE = ((13208, 1106, 0), (52346, 9, 0))
LEVEL_SHARES = (("top_secret", 0.05), ("secret", 0.35), ("confidential", 0.60))


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` in `parts` positive counts (roughly even, a little uneven)."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    counts = [max(1, int(total * w / sum(weights))) for w in weights]
    counts[-1] += total - sum(counts)
    return counts


def _batches(rng: random.Random, units: list[dict], years: list[int], figures: tuple[int, int, int]) -> list[dict]:
    """Batches (unit, level, year made, outcome, count) that add up to the figures exactly."""
    cleared, declassified, corrected = figures
    out = []
    for outcome, total in (
        ("declassified", declassified),
        ("corrected", corrected),
        ("kept", cleared - declassified - corrected),
    ):
        if not total:
            continue
        every = [(u, lv, y) for u in units for lv, _share in LEVEL_SHARES for y in years]
        cells = rng.sample(every, min(8, total, len(every)))
        for (unit, level, year), count in zip(cells, _split(total, len(cells), rng), strict=True):
            out.append({"unit": unit, "level": level, "item_year": year, "outcome": outcome, "count": count})
    return out


async def _clearing(pilot: _Pilot, archive: dict) -> None:
    """Two clearing projects whose figures are the pilot's: the units' own clearing of their
    documents, recent and earlier, by each unit's officer; the archive's holdings."""
    tenant, office, today = pilot.demo.tenant, pilot.demo.office, pilot.today
    start = date(today.year, 3, 1) if today.month > 3 else date(today.year, 1, 2)
    span = max((today - start).days, 1)
    own = await clearing.create_project(
        tenant, office, {"name": f"{today.year}年度定密事项清理（试点）", "year": today.year}
    )
    archive_project = await clearing.create_project(
        tenant, office, {"name": f"{archive['name']}馆藏档案清理", "year": today.year, "unit_id": str(archive["uuid"])}
    )
    recent = [today.year - 2, today.year - 1]
    earlier = list(range(today.year - 15, today.year - 2, 3))
    plan = [
        (own, _batches(pilot.rng, pilot.units[:6], recent, CLEARED_RECENT)),
        (own, _batches(pilot.rng, pilot.units[:6], earlier, CLEARED_EARLIER)),
        *((archive_project, _batches(pilot.rng, [archive], list(range(1990, 2010, 4)), f)) for f in ARCHIVE),
    ]
    for project, batches in plan:
        for batch in batches:
            unit = batch.pop("unit")
            day = start + timedelta(days=pilot.rng.randrange(span))
            data = {**batch, "unit_id": str(unit["uuid"]), "cleared_on": day.isoformat()}
            await clearing.record_entry(tenant, pilot.officers.get(unit["pk"], office), project["id"], data)


async def seed(demo: Demo, officer_unit: dict) -> None:
    """The pilot's register and its year, for the officer's unit, three other municipal
    units and the district the demo's district admin keeps."""
    rng = random.Random(15)
    district = next(u for u in demo.units if u["kind"] == "district")
    municipal = [officer_unit] + [u for u in demo.units if u["name"] in PILOT_UNITS and u != officer_unit][:4]
    district_units = [u for u in demo.units if u["kind"] == "district_unit" and u["path"].startswith(district["path"])]
    pilot = _Pilot(demo, rng, municipal + district_units)
    for unit in pilot.units:
        pilot.officers[unit["pk"]] = _officer(demo, unit, officer_unit)
        # who approves: the unit's principal, its 定密责任人; in the officer's unit the
        # principal named the demo leader (its secrecy lead) responsible instead
        if unit["pk"] == officer_unit["pk"]:
            pilot.principals[unit["pk"]] = demo.accounts["leader"]
        else:
            pilot.principals[unit["pk"]] = demo.leader(demo.by_unit[unit["pk"]]["principal"][0], rng)
    per_unit = {u["pk"]: 260 if u in municipal else 140 for u in pilot.units}
    await _register(pilot, per_unit)
    agreed = await _consult(pilot)
    await _decisions(pilot, agreed)
    await review.scan(demo.tenant, demo.today)
    await _publication(pilot)
    await _reviews(pilot)
    await _clearing(pilot, next((u for u in municipal if u["name"] == "市档案馆"), municipal[-1]))
