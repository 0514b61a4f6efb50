"""The checklist: the six areas, the tenant's items in them (each with its criterion and
legal basis), checking an edited template, and the codes of results, severities and
measures the API speaks."""

from __future__ import annotations

from typing import Any

from server import db
from server.actor import Actor
from server.audit import service as audit
from server.core.errors import ValidationFailed
from server.core.i18n import _, _l
from server.inspections.tables import ChecklistTemplate
from tenants.service import TenantRef

# the six areas the regulations name; the template fills them with items
AREAS = {
    "R": _l("Responsibility system"),
    "C": _l("Classification management"),
    "P": _l("Classified personnel"),
    "N": _l("Network secrecy"),
    "M": _l("Classified media"),
    "D": _l("Disclosure review"),
}
RESULTS = {
    "pass": _l("Compliant"),
    "partial": _l("Largely compliant"),
    "fail": _l("Non-compliant"),
    "na": _l("Not applicable"),
}
SEVERITIES = {"minor": _l("Minor"), "major": _l("Major"), "serious": _l("Serious")}
DEVICE_RESULTS = {"clean": _l("No problem found"), "violation": _l("Violation")}
DEVICE_KINDS = {"computer": _l("Computer"), "it_device": _l("IT device"), "mailbox": _l("Mailbox")}
MODES = {"on_spot": _l("Corrected on the spot"), "deadline": _l("Rectify by a deadline")}
MEASURES = {
    "register_preserve": _l("Register and preserve"),
    "order_delete": _l("Order deletion"),
    "order_stop_use": _l("Order to stop use"),
    "transfer": _l("Transfer to the bureau"),
}
STATES = {
    "open": _l("Awaiting rectification"),
    "rectifying": _l("Rectifying"),
    "submitted": _l("Submitted"),
    "verified": _l("Verified"),
    "reopened": _l("Reopened"),
}

LAW = "《中华人民共和国保守国家秘密法》"
REGULATIONS = "《中华人民共和国保守国家秘密法实施条例》"
CADRES = "《党政领导干部保密工作责任制规定》"

DEFAULT_ITEMS = [
    ("R1", "R", "主要负责人每年至少听取一次保密工作汇报并形成记录", "查阅会议纪要、汇报材料", CADRES),
    ("R2", "R", "明确分管保密工作的领导，设立保密工作机构或指定专人", "查阅分工文件、机构设置文件", CADRES),
    ("R3", "R", "领导班子成员签订当年保密工作责任书并定期确认履职", "查阅责任书签署和履职确认记录", CADRES),
    ("R4", "R", "保密工作纳入年度工作计划和经费预算", "查阅年度计划、预算文件", REGULATIONS),
    ("C1", "C", "确定定密责任人并经过培训", "查阅定密责任人名单和培训记录", LAW),
    ("C2", "C", "国家秘密标明密级、保密期限和知悉范围", "抽查涉密文件标志", LAW),
    ("C3", "C", "按规定开展年度定密事项审核", "查阅年度审核记录", REGULATIONS),
    ("C4", "C", "派生定密注明依据和来源", "抽查派生定密文件", REGULATIONS),
    ("P1", "P", "涉密岗位和涉密人员分类登记，密级准确", "查阅涉密人员台账", LAW),
    ("P2", "P", "涉密人员上岗签订保密承诺书，离岗按规定执行脱密期管理", "查阅承诺书、离岗手续", LAW),
    ("P3", "P", "涉密人员完成规定学时的保密教育培训", "查阅培训记录", REGULATIONS),
    ("P4", "P", "涉密人员因私出国（境）按规定审批和报告", "查阅审批和报告记录", LAW),
    ("N1", "N", "涉密计算机和信息系统与互联网物理隔离并经审批", "现场检查网络连接和审批文件", LAW),
    ("N2", "N", "非涉密计算机、邮箱中不存储、处理、传输涉密信息", "技术检查抽查的设备和邮箱", LAW),
    ("N3", "N", "移动存储介质登记并分类管控", "查阅介质台账，现场核对", REGULATIONS),
    ("N4", "N", "安全保密防护设施设备配备到位并正常运行", "现场检查防护设备", REGULATIONS),
    ("M1", "M", "涉密载体从产生到销毁全过程登记", "查阅载体台账", LAW),
    ("M2", "M", "涉密载体复制、携带外出经过审批", "查阅审批记录", LAW),
    ("M3", "M", "涉密载体存放场所和设备符合标准（保密柜、要害部位）", "现场检查存放场所", LAW),
    ("M4", "M", "涉密载体送指定销毁机构销毁", "查阅销毁记录", REGULATIONS),
    ("D1", "D", "建立并执行信息公开前保密审查程序", "查阅审查制度和记录", LAW),
    ("D2", "D", "网站、新媒体公开的信息经过保密审查", "抽查公开信息及审查记录", REGULATIONS),
    ("D3", "D", "涉密会议、活动场所采取保密措施", "查阅会议保密方案，现场检查", REGULATIONS),
]
LABELS = {
    "items": _l("Items"),
    "code": _l("Code"),
    "area": _l("Inspection area"),
    "text": _l("Item"),
    "criterion": _l("Criterion"),
    "basis": _l("Legal basis"),
}
MAX_ITEMS = 200


def default_document() -> dict[str, Any]:
    return {
        "items": [
            {"code": code, "area": area, "text": text, "criterion": criterion, "basis": basis}
            for code, area, text, criterion, basis in DEFAULT_ITEMS
        ]
    }


async def template(tenant: TenantRef) -> dict[str, Any]:
    """The tenant's checklist, or the default one until the office edits it."""
    row = (
        await ChecklistTemplate.select(ChecklistTemplate.document)
        .where(ChecklistTemplate.tenant == tenant.id)
        .first()
        .output(load_json=True)
    )
    return row["document"] if row and row["document"].get("items") else default_document()


def _item_errors(errors: dict[str, str], n: int, raw: Any, seen: set[str]) -> dict[str, str] | None:
    key = f"items.{n}"
    if not isinstance(raw, dict):
        errors[key] = _("%(field)s must be an object.", field=f"{LABELS['items']} {n + 1}")
        return None
    item: dict[str, str] = {}
    for field, max_len in (("code", 16), ("area", 8), ("text", 500), ("criterion", 1000), ("basis", 500)):
        value = raw.get(field)
        value = value.strip() if isinstance(value, str) else ""
        label = f"{LABELS['items']} {n + 1}: {LABELS[field]}"
        if not value and field in ("code", "area", "text"):
            errors[f"{key}.{field}"] = _("%(field)s is required.", field=label)
        elif len(value) > max_len:
            errors[f"{key}.{field}"] = _(
                "%(field)s is too long (at most %(max)d characters).", field=label, max=max_len
            )
        item[field] = value
    if item["area"] and item["area"] not in AREAS:
        errors[f"{key}.area"] = _("%(field)s is not one of the allowed values.", field=f"{LABELS['items']} {n + 1}")
    if item["code"] in seen:
        errors[f"{key}.code"] = _("The code %(code)s is used twice.", code=item["code"])
    seen.add(item["code"])
    return item


def check_document(raw: Any) -> dict[str, Any]:
    """A whole template, checked: every item has a unique code, one of the six areas and
    its text; every area keeps at least one item (a round checks all six)."""
    items_raw = raw.get("items") if isinstance(raw, dict) else None
    errors: dict[str, str] = {}
    if not isinstance(items_raw, list) or not items_raw:
        raise ValidationFailed({"items": _("%(field)s is required.", field=str(LABELS["items"]))})
    if len(items_raw) > MAX_ITEMS:
        raise ValidationFailed({"items": _("At most %(max)d items.", max=MAX_ITEMS)})
    seen: set[str] = set()
    items = [_item_errors(errors, n, raw_item, seen) for n, raw_item in enumerate(items_raw)]
    for code, name in AREAS.items():
        if not any(i and i["area"] == code for i in items):
            errors.setdefault("items", _("The area %(area)s has no item.", area=str(name)))
    if errors:
        raise ValidationFailed(errors)
    return {"items": items}


async def save_template(tenant: TenantRef, actor: Actor, raw: Any) -> dict[str, Any]:
    document = check_document(raw)
    row = ChecklistTemplate(tenant=tenant.id, document=document, updated_by=actor.name)
    columns = [ChecklistTemplate.document, ChecklistTemplate.updated_by, ChecklistTemplate.updated_at]
    async with db.atomic():
        # one statement, so two offices saving at once cannot both insert
        await ChecklistTemplate.insert(row).on_conflict(
            target=ChecklistTemplate.tenant, action="DO UPDATE", values=columns
        )
        await audit.record(
            tenant.id,
            actor,
            "inspection.checklist_save",
            "inspection_template",
            "",
            detail={"items": len(document["items"])},
        )
    return document


def items_by_area(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The areas in their order, each with its items."""
    return [
        {"code": code, "name": str(name), "items": [i for i in document["items"] if i["area"] == code]}
        for code, name in AREAS.items()
    ]


def item(document: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((i for i in document["items"] if i["code"] == code), None)
