"""Two tenants of the same shape, built once per database for the whole isolation package."""

from __future__ import annotations

import asyncio
import contextvars
import io
import struct
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pyotp
import pytest

from server import db
from server.accounts import service as accounts
from server.accounts import twofactor
from server.assessment import cycle as assessments
from server.assessment import evidence as evidences
from server.assessment import reports, reviews
from server.assessment.tables import ReportJob
from server.core.i18n import LOCALES
from server.declassification import clearing, consultations, decisions, imports, publication, qa, register, review
from server.inspections import checklist, devices, devices_import, fieldwork, findings, rounds
from server.reminders import dispatch
from server.reminders import service as reminders
from server.responsibility import catalog as catalogs
from server.responsibility import confirmations, notices
from server.responsibility.tables import Signature
from server.training import service as training
from server.units import service as units
from tenants.service import settings_of
from tests.conftest import PASSWORD, SYSTEM
from tests.factories import World, make_person, make_unit, make_user, make_world, token_for
from tests.isolation.support import SHARED_PARAMS, Pair, digest, ids_of


async def _office_token_id(world: World) -> str:
    """A second API token of the office admin, for the token_id parameter; listed
    back through the service, as the account page lists it."""
    raw = await token_for(world, "office")
    async with db.transaction(world.tenant.id):
        user = await accounts.user_by_username(world.tenant, world.users["office"]["username"])
        listed = await accounts.list_tokens(world.tenant, user["id"])
    (token,) = [t for t in listed if raw.startswith(t["prefix"])]
    return token["id"]


async def _actor(world: World, username: str):
    return accounts.actor_for(world.tenant, await accounts.user_by_username(world.tenant, username))


async def _sign_own(world: World, username: str) -> dict:
    """The account's person signs their open notice, as on the leader portal."""
    async with db.transaction(world.tenant.id):
        actor = await _actor(world, username)
        (notice,) = (await notices.my_notices(world.tenant, actor))["to_sign"]
        return await notices.sign(world.tenant, actor, notice["id"], {"password": PASSWORD})


async def _responsibility(world: World, side: str, tag: str, settings, signers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The rows of the responsibility domain, made through its services: an individual
    duty of the leader's post, notices to every leader (the default catalog and
    templates come with the tenant), the leader's signature (and those of `signers`),
    a draft catalog with a duty of its own, the leader's confirmation of the period due.
    `side` ("甲方"/"乙方") makes the texts unique to the tenant."""
    tenant, lead = world.tenant, world.people["a_lead"]
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        # before issuing, so that the leader's notice carries it
        assignment = await catalogs.assign(
            tenant, office, lead["id"], {"post_id": lead["posts"][0]["id"], "text": f"{side}独有分工-{tag}"}
        )
        issued = await notices.issue(tenant, office, {"scope": "all"})
        assert issued["issued"] == issued["leaders"] >= 4, issued
    async with db.transaction(tenant.id):
        # a one-time code mailed to the leader (left unused: they sign with the password)
        await units.update_person(tenant, SYSTEM, lead["id"], {"email": f"lead-{tag}@example.org"})
        leader = await _actor(world, "leader")
        (mine,) = (await notices.my_notices(tenant, leader))["to_sign"]
        await notices.send_sign_code(tenant, leader, mine["id"], settings)
    signed = await _sign_own(world, "leader")
    assert signed["person_id"] == lead["id"] and signed["status"] == "signed"
    for username in signers:
        await _sign_own(world, username)
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        listed = await notices.list_notices(tenant, office, status="issued", per_page=200)
        (open_notice,) = [n for n in listed.items if n["person_id"] == world.people["a_principal"]["id"]]
        draft = await catalogs.create_draft(tenant, office, {"note": f"{side}草稿-{tag}"})
        edited = await catalogs.add_duty(
            tenant, office, draft["id"], {"position": "principal", "text": f"{side}独有职责-{tag}"}
        )
        (duty,) = [d for d in edited["sections"]["principal"] if d["text"] == f"{side}独有职责-{tag}"]
        leader = await _actor(world, "leader")
        owed = await confirmations.pending(tenant, leader)
        if owed is not None:
            answers = {f"done_{i}": "yes" for i in range(len(owed["duties"]))}
            await confirmations.submit(tenant, leader, owed["period"].key, answers)
        period = confirmations.due_period(units.today(tenant), confirmations.period_kind(await settings_of(tenant))).key
        # the principal's confirmation of the period is waived, with a reason of the tenant's own
        await confirmations.waive(
            tenant, office, world.people["a_principal"]["id"], {"period": period, "reason": f"{side}免除理由-{tag}"}
        )
        everything = await notices.list_notices(tenant, office, per_page=500)
        signatures = await Signature.select(Signature.code, Signature.pdf, Signature.signer_name).where(
            Signature.tenant == tenant.id
        )
    return {
        "notice_id": signed["id"],
        "open_notice_id": open_notice["id"],
        "catalog_id": draft["id"],
        "duty_id": duty["id"],
        "assignment_id": assignment["id"],
        "period": period,
        "codes": {s["signer_name"]: s["code"] for s in signatures},
        "code": signed["signature"]["code"],
        "pdf": bytes(next(s["pdf"] for s in signatures if s["code"] == signed["signature"]["code"])),
        "pdf_digests": {digest(s["pdf"]) for s in signatures if s["pdf"]},
        "notice_digests": {n["digest"] for n in everything.items},
        "notice_ids": {n["id"] for n in everything.items},
    }


async def _training(world: World, side: str, tag: str) -> dict[str, str]:
    """A course with the leader's attendance, and an applied attendance import."""
    tenant = world.tenant
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        day = units.today(tenant).isoformat()
        await training.set_requirements(
            tenant, office, units.today(tenant).year, {"leader": "4", "core": "12", "important": "8", "general": "6"}
        )
        course = await training.create_course(
            tenant, office, {"title": f"{side}独有课程-{tag}", "kind": "lecture", "hours": "2", "date": day}
        )
        course = await training.add_attendance(
            tenant, office, course["id"], {"person_id": world.people["a_lead"]["id"]}
        )
        book = openpyxl.Workbook()
        book.active.append(["姓名", "单位", "课程", "日期", "学时"])
        book.active.append(["张三", "甲区财政局", f"{side}独有导入课程-{tag}", units.today(tenant), 1])
        buffer = io.BytesIO()
        book.save(buffer)
        preview = await training.preview_import(
            tenant, office, f"{side}-{tag}.xlsx", buffer.getvalue(), units.today(tenant).year
        )
        assert preview["clean"], preview["errors"]
        await training.apply_import(tenant, office, preview["id"])
    return {"course_id": course["id"], "attendance_id": course["attendees"][0]["id"], "import_id": preview["id"]}


def evidence_png(marker: str) -> bytes:
    """A real PNG (1x1, grey) that carries `marker` in a tEXt chunk: a download of it
    shows the marker, so an evidence file of A served to B is recognized."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + marker.encode("ascii"))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


async def _assessment(world: World, side: str, marker: str, tag: str, var_dir: Path) -> dict[str, Any]:
    """This year's assessment of the world (opened on the scheme the tenant came with),
    the leader's unit self-assessed on a manual indicator with an evidence file, a
    deduction against it (each with a text unique to the tenant; score events come with
    both), and the office's finished batch of every scorecard (a report job and its zip:
    the job is owned by whoever started it, here the office admin, the sweep's caller).
    `marker` (ASCII) goes into the evidence file itself."""
    tenant, unit_id = world.tenant, world.units["a_unit"]["id"]
    year, code = units.today(tenant).year, "R3"
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        opened = await assessments.open_assessment(tenant, office, year, {"cutoff": f"{year}-12-31"})
        note = {"score": "8", "note": f"{side}独有自评-{tag}"}
        await reviews.self_assess(tenant, office, year, unit_id, code, note)
        evidence = await evidences.add_evidence(
            tenant, office, year, unit_id, code, f"{side}独有证据-{tag}.png", evidence_png(marker)
        )
        adjustment = await reviews.add_adjustment(
            tenant, office, year, unit_id, {"kind": "deduction", "item": "minor", "note": f"{side}独有扣分-{tag}"}
        )
        job = await reports.start_scorecards(tenant, office, year)
    # rendered here, as the route's after-request hook would (reports.spawn), outside this
    # context: the job sets the locale and time zone ContextVars of whatever runs it
    await asyncio.get_running_loop().create_task(
        reports.run_job(tenant, office, job["id"], var_dir), context=contextvars.Context()
    )
    async with db.transaction(tenant.id, write=False):
        finished = await reports.job(tenant, office, job["id"])
    assert finished["status"] == "done" and finished["total"] >= 4, finished
    return {
        "year": year,
        "indicator": code,  # (not "code": that is the signature's verification code)
        "assessment_id": opened["id"],
        "evidence_id": evidence["id"],
        "adjustment_id": adjustment["id"],
        "job_id": job["id"],
        "office_pk": office.id,
    }


async def _inspections(world: World, side: str, tag: str, marker: str) -> dict[str, Any]:
    """A round over the leader's unit with a team of four (the world's inspector leads it),
    the unit's inspection with a clue and its file, a checklist result, an interview, the
    team's notes, a device register (and an import waiting to be applied), a sample whose
    device was found in violation with a transfer measure, and a finding with a deadline:
    each with a text unique to the tenant."""
    tenant = world.tenant
    for n in (1, 2, 3):
        world.users[f"insp{n}"] = await make_user(tenant, f"insp{n}", "inspector")
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        today = units.today(tenant)
        template = checklist.default_document()
        template["items"][0]["criterion"] = f"{side}独有检查标准-{tag}"
        await checklist.save_template(tenant, office, template)
        made = await rounds.create_round(
            tenant,
            office,
            {
                "name": f"{side}独有巡察-{tag}",
                "starts_on": (today - timedelta(days=5)).isoformat(),
                "ends_on": (today + timedelta(days=30)).isoformat(),
                "unit_ids": [world.units["a_unit"]["id"], world.units["city"]["id"]],
            },
        )
        members = [world.users[f"insp{n}"]["id"] for n in (1, 2, 3)]
        team = await rounds.add_team(
            tenant,
            office,
            made["id"],
            {
                "name": f"{side}独有检查组-{tag}",
                "leader_user_id": world.users["inspector"]["id"],
                "member_user_ids": members,
            },
        )
        inspection = next(i for i in made["inspections"] if i["unit_id"] == world.units["a_unit"]["id"])["id"]
        assignment = {"inspection_id": inspection, "team_id": team["id"], "visit_on": today.isoformat()}
        await rounds.assign(tenant, office, made["id"], [assignment])
        clue = await fieldwork.add_clue(
            tenant, office, inspection, {"text": f"{side}独有线索-{tag}"}, (f"{side}-{tag}.png", evidence_png(marker))
        )
        await fieldwork.set_result(
            tenant, office, inspection, "R1", {"result": "fail", "note": f"{side}独有检查记录-{tag}"}
        )
        interviewee = world.people["a_lead"]["id"]
        await fieldwork.record_interview(
            tenant,
            office,
            inspection,
            {"person_id": interviewee, "held_on": today.isoformat(), "summary": f"{side}独有谈话-{tag}"},
        )
        await fieldwork.update_notes(tenant, office, inspection, {"team_notes": f"{side}独有组内记录-{tag}"})
        device = await devices.create_device(
            tenant,
            office,
            world.units["a_unit"]["id"],
            {"kind": "computer", "label": f"{side}独有设备-{tag}", "classified": False, "holder": "张三"},
        )
        book = openpyxl.Workbook()
        book.active.append(["类型", "名称", "是否涉密", "使用人", "存放地点"])
        book.active.append(["计算机", f"{side}独有导入设备-{tag}", "否", "李四", "三楼"])
        buffer = io.BytesIO()
        book.save(buffer)
        waiting = await devices_import.preview_import(
            tenant, office, world.units["a_unit"]["id"], f"{side}-{tag}.xlsx", buffer.getvalue()
        )
        await devices.draw(tenant, office, inspection, {"size": 1, "seed": tag})
        transfer = {
            "kind": "transfer",
            "package": f"{side}独有移送-{tag}",
            "receipt_no": f"YS-{tag}",
            "received_by": "王五",
            "transferred_on": today.isoformat(),
        }
        await devices.record_device(
            tenant,
            office,
            inspection,
            device["id"],
            {"result": "violation", "note": f"{side}独有违规-{tag}", "measure": transfer},
        )
        measure = (await devices.measures_of(tenant, (await fieldwork.readable(tenant, office, inspection))["id"]))[0]
        finding = await findings.create_finding(
            tenant,
            office,
            inspection,
            {
                "item": "R1",
                "severity": "minor",
                "description": f"{side}独有问题-{tag}",
                "mode": "deadline",
                "deadline": (today + timedelta(days=20)).isoformat(),
            },
        )
    return {
        "round_id": made["id"],
        "team_id": team["id"],
        "inspection_id": inspection,
        "clue_id": clue["id"],
        "file_id": clue["files"][0]["id"],
        "device_id": device["id"],
        "device_import_id": waiting["id"],
        "measure_id": measure["id"],
        "finding_id": finding["id"],
        "inspection_texts": [
            f"{side}独有巡察-{tag}",
            f"{side}独有检查标准-{tag}",
            f"{side}独有检查组-{tag}",
            f"{side}独有线索-{tag}",
            f"{side}独有检查记录-{tag}",
            f"{side}独有谈话-{tag}",
            f"{side}独有组内记录-{tag}",
            f"{side}独有设备-{tag}",
            f"{side}独有导入设备-{tag}",
            f"{side}独有违规-{tag}",
            f"{side}独有移送-{tag}",
            f"{side}独有问题-{tag}",
        ],
    }


async def _declassification(world: World, side: str, tag: str) -> dict[str, Any]:
    """The unit's register: an item with a decision waiting, a derived item put to its
    originating unit, an item declassified by its principal and published, one ending
    soon (the scan's review task), this year's review, an import waiting to be applied, a
    Q&A entry of the tenant's own and a clearing project with a batch: each with a text
    unique to the tenant."""
    tenant = world.tenant
    world.users["dprincipal"] = await make_user(
        tenant, "dprincipal", "leader", person_id=world.people["a_principal"]["id"]
    )
    unit = world.units["a_unit"]["id"]
    texts = [
        f"{side}独有文号-{tag}",
        f"{side}独有事项-{tag}",
        f"{side}独有知悉范围-{tag}",
        f"{side}独有定密依据-{tag}",
        f"{side}独有解密依据-{tag}",
        f"{side}独有派生事项-{tag}",
        f"{side}独有征求意见-{tag}",
        f"{side}独有公布事项-{tag}",
        f"{side}独有导入事项-{tag}",
        f"{side}独有问答-{tag}",
        f"{side}独有清理-{tag}",
    ]

    def item(reference: str, title: str, **more: Any) -> dict[str, Any]:
        return {
            "reference": reference,
            "public_title": title,
            "level": "secret",
            "classified_on": "2020-03-01",
            "term_kind": "years",
            "term_years": 10,
            "knowledge_scope": texts[2],
            "basis": texts[3],
            "custodian_unit_id": unit,
            **more,
        }

    async with db.transaction(tenant.id):
        office, officer = await _actor(world, "office"), await _actor(world, "officer")
        principal = await _actor(world, "dprincipal")
        today = units.today(tenant)
        waiting = await register.create_item(tenant, office, item(texts[0], texts[1]))
        decision = await decisions.propose(tenant, office, waiting["id"], {"decision": "declassify", "basis": texts[4]})
        await review.record_review(tenant, officer, waiting["id"], {"outcome": "keep"})
        derived = await register.create_item(
            tenant,
            office,
            item(f"{texts[5]}-1", texts[5], origin="derived", originating_unit_id=world.units["city"]["id"]),
        )
        asked = await consultations.request(tenant, officer, derived["id"], {"question": texts[6]})
        published = await register.create_item(tenant, office, item(f"{texts[7]}-1", texts[7]))
        made = await decisions.propose(
            tenant, office, published["id"], {"decision": "declassify", "basis": texts[4], "publish": True}
        )
        await decisions.approve(tenant, principal, published["id"], made["id"])
        entry = (await publication.entries(tenant, office, 1, 10)).items[0]
        soon = (today - timedelta(days=365 * 10 - 30)).isoformat()
        await register.create_item(tenant, office, item(f"{texts[0]}-2", texts[1], classified_on=soon))
        await review.scan(tenant, today)
        book = openpyxl.Workbook()
        book.active.append(["编号", "名称（非涉密）", "密级", "定密日期", "保密期限", "保管单位", "定密依据"])
        book.active.append([texts[8], texts[8], "秘密", "2021-05-01", "10年", world.units["a_unit"]["name"], texts[3]])
        buffer = io.BytesIO()
        book.save(buffer)
        upload = await imports.preview_import(tenant, office, f"{side}-{tag}.xlsx", buffer.getvalue())
        answer = await qa.create_entry(tenant, office, {"question": texts[9], "answer": texts[9]})
        project = await clearing.create_project(
            tenant, office, {"name": texts[10], "year": today.year, "unit_id": unit}
        )
        await clearing.record_entry(
            tenant,
            office,
            project["id"],
            {"unit_id": unit, "level": "secret", "item_year": 2015, "outcome": "kept", "count": 3},
        )
    return {
        "item_id": waiting["id"],
        "decision_id": decision["id"],
        "consultation_id": asked["id"],
        "publication_id": entry["id"],
        "classified_import_id": upload["id"],
        "entry_id": answer["id"],
        "project_id": project["id"],
        "declass_texts": texts,
    }


async def _earlier_year(world: World) -> dict[str, Any]:
    """An assessment of last year as well (a year the other tenant never assessed): what
    the pages of this year show as "last year", and a year whose URLs must find nothing
    in the other tenant."""
    tenant = world.tenant
    year = units.today(tenant).year - 1
    async with db.transaction(tenant.id):
        office = await _actor(world, "office")
        await assessments.create_scheme(tenant, office, year)
        opened = await assessments.open_assessment(tenant, office, year, {"cutoff": f"{year}-12-31"})
    return {"earlier_year": year, "earlier_assessment_id": opened["id"]}


async def _hand_job_to(world: World, job_id: str, user_pk: int) -> None:
    """Make `user_pk` the owner of the world's batch (a plain integer column, no foreign
    key). Given the primary key of B's office admin, only the tenant check of the job
    routes, not their owner check, stands between the sweep's caller and A's batch."""
    async with db.transaction(world.tenant.id):
        await ReportJob.update({ReportJob.user_id: user_pk}).where(
            ReportJob.tenant == world.tenant.id, ReportJob.uuid == uuid.UUID(job_id)
        )


async def _reminders(world: World, side: str, mark: str, tag: str, settings) -> dict[str, Any]:
    """The reminder domain of the world, made through its services as the office and the
    scheduler make it: the tenant's channels (its group robot at a URL of its own, secrets
    that are never shown), the office admin's and the leader's own channels and address,
    two rules with templates of the tenant's own (every message says `side`'s subject),
    the reminders of a day a week and more after the notices were issued (still unsigned
    ones, escalated to the office; leaders short of training hours, the world's leader
    among them), and their dispatch: mail to the suite's SMTP server, the inbox at once,
    and the robot, which answers every attempt with an error of the tenant's own until
    its deliveries fail for good. `mark` (ASCII) goes into the addresses."""
    tenant = world.tenant
    subject, body = f"{side}提醒主题-{tag}", f"{side}提醒正文-{tag}"
    robot_error = f"{side}机器人故障-{tag}"
    async with db.transaction(tenant.id):
        office, leader = await _actor(world, "office"), await _actor(world, "leader")
        await reminders.save_settings(
            tenant,
            office,
            {
                "smtp_user": f"{mark}-smtp-{tag}",  # (no host of its own: the deployment's server sends)
                "smtp_password": f"{mark}-SMTP-SECRET-{tag}",
                "webhook_url": f"https://robot.example.org/{mark}-{tag}",
                "webhook_preset": "generic",
                "webhook_secret": f"{mark}-HOOK-SECRET-{tag}",
            },
        )
        for actor, who in ((office, "office"), (leader, "leader")):
            await reminders.save_preference(
                tenant, actor, {"channels": ["mail", "inbox"], "email": f"{mark}-{who}-{tag}@example.com"}
            )
        templates = {}
        for loc in LOCALES:
            templates |= {f"subject_{loc}": f"{subject} {{{{ person }}}}", f"body_{loc}": f"{body} {{{{ link }}}}"}
        for kind, days, repeat, escalate in (("notice_unsigned", 1, 1, 1), ("training_short", 52, 7, 0)):
            await reminders.save_rule(
                tenant,
                office,
                kind,
                {
                    "enabled": True,
                    "days": days,
                    "repeat_days": repeat,
                    "escalate_after": escalate,
                    "channels": ["mail", "inbox", "webhook"],
                    "quiet_start": "",
                    "quiet_end": "",
                    **templates,
                },
            )
    # three days in a row (escalation counts the reminders that arrived: the person, then the
    # unit's principal, then the office); the robot takes the first two days', then fails
    start = datetime.now(UTC)
    now = start + timedelta(days=8)

    def robot(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text=robot_error)

    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client:
        for days in (6, 7):
            assert await reminders.generate_once(tenant, settings, start + timedelta(days=days)), days
            await dispatch.dispatch_tenant(tenant, settings, start + timedelta(days=days), client)
    assert await reminders.generate_once(tenant, settings, now)
    async with httpx.AsyncClient(transport=httpx.MockTransport(robot)) as client:
        for attempt in range(dispatch.MAX_ATTEMPTS):
            await dispatch.dispatch_tenant(tenant, settings, now + timedelta(hours=10 * attempt), client)
    # and the next day's, still waiting in the outbox
    assert await reminders.generate_once(tenant, settings, start + timedelta(days=9))
    async with db.transaction(tenant.id, write=False):
        office, leader = await _actor(world, "office"), await _actor(world, "leader")
        outbox, total = await reminders.outbox(tenant, {}, limit=10_000, offset=0)
        office_inbox, _n = await reminders.inbox(tenant, office, limit=100, offset=0)
        leader_inbox, _n = await reminders.inbox(tenant, leader, limit=100, offset=0)
    assert len(outbox) == total
    failed = [d for d in outbox if d["status"] == "failed" and d["channel"] == "webhook"]
    mailed = [d for d in outbox if d["status"] == "sent" and d["channel"] == "mail"]
    pending = [d for d in outbox if d["status"] == "pending"]
    assert failed and mailed and pending and office_inbox and leader_inbox, (len(failed), len(mailed), len(pending))
    assert {d["level"] for d in outbox} == {0, 1, 2}, "the notices' reminders did not escalate to the office"
    # the tenant's templates word every reminder; the office's daily digest has its own words
    digests = [d for d in outbox if d["link"].startswith(f"/t/{tenant.slug}/coverage/list")]
    # (the kinds left at their defaults, e.g. missed confirmations, keep the default words)
    worded = [d for d in outbox if d not in digests and d["kind"] in ("notice_unsigned", "training_short")]
    assert digests and all(subject in d["title"] and body in d["body"] for d in worded)
    assert all(robot_error in d["last_error"] for d in failed)
    return {
        "delivery_id": office_inbox[0]["id"],
        "failed_delivery_id": failed[0]["id"],
        "leader_delivery_id": leader_inbox[0]["id"],
        "delivery_ids": {d["id"] for d in outbox},
        "reminder_texts": [subject, body, robot_error],
        "reminder_secrets": [
            f"https://robot.example.org/{mark}-{tag}",
            f"{mark}-smtp-{tag}",
            f"{mark}-SMTP-SECRET-{tag}",
            f"{mark}-HOOK-SECRET-{tag}",
            f"{mark}-office-{tag}@example.com",
            f"{mark}-leader-{tag}@example.com",
        ],
    }


async def _twofactor(world: World, username: str, settings) -> list[str]:
    """The account switches two-factor sign-in on, once mistypes a code (a failure counted
    towards its sign-in lock) and spends a recovery code, as its pages do; returns its
    secret, in both spellings: never to be shown to the other tenant."""
    async with db.transaction(world.tenant.id):
        actor = await _actor(world, username)
        state = await twofactor.status(world.tenant, actor)
    secret = state.secret.replace(" ", "")
    async with db.transaction(world.tenant.id):
        codes = await twofactor.enable(world.tenant, actor, {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
        await accounts.note_failure(accounts.throttle_keys(str(world.tenant.id), username, "10.0.0.9"), settings)
        await twofactor.second_step(world.tenant, actor, {"code": codes[0]})
    return [secret, state.secret]


def _public_ids(world: World, ids: dict[str, str], rows: dict[str, Any], *more: dict) -> list[str]:
    found = {ids[name] for name in ids if name not in SHARED_PARAMS}
    for row in [*world.units.values(), *world.people.values(), *world.users.values(), *more]:
        found.add(str(row["id"]))
        found.update(str(post["id"]) for post in row.get("posts", []))
    return sorted(found | rows["notice_ids"] | rows["delivery_ids"])


@pytest.fixture(scope="package")
async def pair(env, mailbox) -> Pair:
    tag = uuid.uuid4().hex[:8]
    a = await make_world(f"甲方市保密局-{tag}")
    b = await make_world(f"乙方市保密局-{tag}")
    # rows only A has, with names found nowhere else: they must never reach B
    a_unit = await make_unit(a.tenant, f"甲方独有单位-{tag}", "district_unit", a.units["district_a"], code=f"JF-{tag}")
    a_person = await make_person(
        a.tenant, a_unit, f"甲方独有人员-{tag}", "secrecy_lead", email=f"jiafang-{tag}@example.com"
    )
    a_user = await make_user(
        a.tenant, f"jiafang{tag}", "unit_officer", scope_unit_id=a_unit["id"], display_name=f"甲方独有账号-{tag}"
    )
    # the account of A's unique leader: their signature carries a unique signer name
    a_signer = await make_user(
        a.tenant, f"jfsigner{tag}", "leader", person_id=a_person["id"], display_name=f"甲方独有签署人-{tag}"
    )
    # B's counterparts: the positive control that the same pages do show such rows
    b_unit = await make_unit(b.tenant, f"乙方独有单位-{tag}", "district_unit", b.units["district_a"], code=f"YF-{tag}")
    b_person = await make_person(b.tenant, b_unit, f"乙方独有人员-{tag}", "secrecy_lead")
    a_rows = await _responsibility(a, "甲方", tag, env.settings, signers=(a_signer["username"],))
    b_rows = await _responsibility(b, "乙方", tag, env.settings)
    a_rows.update(await _training(a, "甲方", tag))
    b_rows.update(await _training(b, "乙方", tag))
    a_rows.update(await _assessment(a, "甲方", f"JF-EVIDENCE-{tag}", tag, env.settings.var_dir))
    b_rows.update(await _assessment(b, "乙方", f"YF-EVIDENCE-{tag}", tag, env.settings.var_dir))
    await _hand_job_to(a, a_rows["job_id"], b_rows["office_pk"])
    a_rows.update(await _reminders(a, "甲方", "jiafang", tag, env.settings))
    b_rows.update(await _reminders(b, "乙方", "yifang", tag, env.settings))
    a_rows.update(await _inspections(a, "甲方", tag, f"JF-CLUE-{tag}"))
    b_rows.update(await _inspections(b, "乙方", tag, f"YF-CLUE-{tag}"))
    a_rows.update(await _declassification(a, "甲方", tag))
    b_rows.update(await _declassification(b, "乙方", tag))
    a_rows.update(await _earlier_year(a))
    a_rows["totp_secret"] = await _twofactor(a, a_user["username"], env.settings)
    a_ids = ids_of(a, {**a_rows, "token_id": await _office_token_id(a)})
    b_ids = ids_of(b, {**b_rows, "token_id": await _office_token_id(b)})
    b_token = await token_for(b, "office")
    return Pair(
        a=a,
        b=b,
        a_ids=a_ids,
        b_ids=b_ids,
        b_token=b_token,
        a_only=[
            a_unit["name"],
            f"JF-{tag}",
            a_person["name"],
            f"jiafang-{tag}@example.com",
            a_user["username"],
            a_user["display_name"],
            a_signer["username"],
            a_signer["display_name"],
            # the responsibility domain: A's draft duty and its note, the individual duty
            # (in the leader's notice and confirmation), the verification codes of A's
            # signatures, the digests of A's notices (each text names A's tenant)
            f"甲方独有职责-{tag}",
            f"甲方草稿-{tag}",
            f"甲方独有分工-{tag}",
            *a_rows["codes"].values(),
            *sorted(a_rows["notice_digests"]),
            # the assessment: A's self-assessment note, evidence file (its name and what is
            # in it), deduction, and the ids of A's assessments (the API shows them)
            f"甲方独有自评-{tag}",
            f"甲方独有证据-{tag}",
            f"JF-EVIDENCE-{tag}",
            f"甲方独有扣分-{tag}",
            a_rows["assessment_id"],
            a_rows["earlier_assessment_id"],
            # reminders: the subject and text of A's own templates (in every message of A's:
            # outbox, inbox, workbook), the error A's robot answered, A's robot URL, mail
            # account and secrets, the addresses A's accounts chose (A's delivery ids are
            # among the public ids below)
            *a_rows["reminder_texts"],
            *a_rows["reminder_secrets"],
            # inspections: A's round, team, clue (and what its file holds), checklist note,
            # interview, team notes, devices, violation, transfer and finding
            *a_rows["inspection_texts"],
            f"JF-CLUE-{tag}",
            # declassification: A's items (their references, titles, scope and basis), decisions,
            # consultation, published item, import, Q&A entry and clearing project
            *a_rows["declass_texts"],
            # the authenticator secret of A's account
            *a_rows["totp_secret"],
            # and A's public ids: B may name them (the sweep does; what B sent is never
            # counted as shown), but no answer may hand one to B
            *_public_ids(a, a_ids, a_rows, a_unit, a_person, a_user, a_signer),
        ],
        tag=tag,
        today=units.today(a.tenant),
        extra={
            "a_unit": a_unit,
            "a_person": a_person,
            "b_unit": b_unit,
            "b_person": b_person,
            "a_signer": a_signer,
            "a": a_rows,
            "b": b_rows,
        },
    )
