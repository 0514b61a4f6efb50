"""An assessment scheme: the tree of indicators with their points, the deduction and
veto items, the grade bands and the optional cap on the top grade. It is the bureau's
own content, so the default (domain.md) is kept in Chinese, as issued documents are.

The scheme is one document, edited and checked as a whole: a tree whose points add
up can only be judged all at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.core.errors import ValidationFailed
from server.core.i18n import _, _l

# the sources an automatic indicator may be computed from
SOURCES = {
    "notices_signed": _l("Leaders with a signed, valid responsibility notice"),
    "confirmations_on_time": _l("Duty confirmations submitted on time"),
    "training_leaders": _l("Leaders who met their training hours"),
    "training_classified": _l("Classified personnel who met their training hours"),
    # the classification indicator (定密): the year's review of the unit's items and the
    # consultations put to it answered on time (the declassification register)
    "declassification": _l("Classified items reviewed in the year and consultations answered on time"),
}
METHODS = {"auto": _l("Automatic"), "manual": _l("Manual")}
GRADES = {
    "excellent": _l("Excellent"),
    "good": _l("Good"),
    "pass": _l("Pass"),
    "fail": _l("Fail"),
}
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MAX_POINTS = 1000.0
EPSILON = 0.005

DEFAULT: dict[str, Any] = {
    "total": 100.0,
    "indicators": [
        {"code": "R", "name": "保密责任制落实", "parent": "", "points": 30.0},
        {
            "code": "R1",
            "name": "领导干部签订保密责任书",
            "parent": "R",
            "points": 10.0,
            "method": "auto",
            "source": "notices_signed",
            "guide": "按在职领导干部中已签订且在有效期内的责任书比例计分。",
        },
        {
            "code": "R2",
            "name": "履职确认按时完成",
            "parent": "R",
            "points": 10.0,
            "method": "auto",
            "source": "confirmations_on_time",
            "guide": "按本年度已到期的履职确认中按时提交的比例计分。",
        },
        {
            "code": "R3",
            "name": "保密工作纳入领导班子议事日程",
            "parent": "R",
            "points": 10.0,
            "method": "manual",
            "guide": "全年至少一次专题研究保密工作且有会议记录得满分；仅传达未研究扣5分；未研究不得分。",
        },
        {"code": "T", "name": "保密教育培训", "parent": "", "points": 15.0},
        {
            "code": "T1",
            "name": "领导干部培训学时达标",
            "parent": "T",
            "points": 8.0,
            "method": "auto",
            "source": "training_leaders",
            "guide": "按领导干部中年度培训学时达标人数比例计分。",
        },
        {
            "code": "T2",
            "name": "涉密人员培训学时达标",
            "parent": "T",
            "points": 7.0,
            "method": "auto",
            "source": "training_classified",
            "guide": "按涉密人员中年度培训学时达标（核心12、重要8、一般6学时）人数比例计分。",
        },
        {
            "code": "C",
            "name": "定密管理",
            "parent": "",
            "points": 10.0,
            "method": "manual",
            "guide": "定密依据准确、程序规范、台账完整得满分；每发现一件定密不当扣2分。",
        },
        {
            "code": "P",
            "name": "涉密人员管理",
            "parent": "",
            "points": 10.0,
            "method": "manual",
            "guide": "涉密人员界定、审查、保密承诺、出国（境）审批和离岗脱密期管理齐全得满分；缺一项扣2分。",
        },
        {
            "code": "N",
            "name": "网络和信息设备保密管理",
            "parent": "",
            "points": 15.0,
            "method": "manual",
            "guide": "涉密网络和设备管理规范、无违规外联、检查抽查合格得满分；发现违规外联不得分。",
        },
        {
            "code": "M",
            "name": "涉密载体管理",
            "parent": "",
            "points": 10.0,
            "method": "manual",
            "guide": "涉密载体制作、收发、传递、使用、保存、销毁全流程登记完整得满分；每缺一环节扣2分。",
        },
        {
            "code": "D",
            "name": "信息公开保密审查",
            "parent": "",
            "points": 10.0,
            "method": "manual",
            "guide": "建立并执行先审查后公开制度、审查记录完整得满分；发生未审先发不得分。",
        },
    ],
    "deductions": [
        {"code": "minor", "name": "检查发现一般问题", "points": 1.0},
        {"code": "major", "name": "检查发现较重问题", "points": 3.0},
        {"code": "serious", "name": "检查发现严重问题", "points": 5.0},
        {"code": "overdue", "name": "问题整改逾期", "points": 1.0},
    ],
    "deduction_cap": 10.0,
    "vetoes": [{"code": "leak", "name": "年度内发生经查实的泄密事件"}],
    "grades": {"excellent": 90.0, "good": 80.0, "pass": 60.0},
    "top_cap": None,
}

INDICATOR_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "parent": _l("Parent"),
    "points": _l("Points"),
    "method": _l("Method"),
    "source": _l("Source"),
    "guide": _l("Scoring guide"),
}
ITEM_LABELS = {"code": _l("Code"), "name": _l("Name"), "points": _l("Points")}
LABELS = {
    "total": _l("Total points"),
    "deduction_cap": _l("Cap on deductions"),
    "top_cap": _l("Cap on the share of the top grade"),
    "grades.excellent": _l("Lowest score for Excellent"),
    "grades.good": _l("Lowest score for Good"),
    "grades.pass": _l("Lowest score for Pass"),
    "indicators": _l("Indicators"),
}


@dataclass
class Tree:
    """A checked scheme, ready to score with."""

    document: dict[str, Any]

    @property
    def indicators(self) -> list[dict]:
        return self.document["indicators"]

    def ordered(self) -> list[dict]:
        """Every indicator, depth first (a group before its children), with its depth."""
        children: dict[str, list[dict]] = {}
        for ind in self.indicators:
            children.setdefault(ind["parent"], []).append(ind)
        out: list[dict] = []

        def walk(parent: str, depth: int, area: str) -> None:
            for ind in children.get(parent, []):
                kids = bool(children.get(ind["code"]))
                out.append({**ind, "depth": depth, "group": kids, "area": area or ind["code"]})
                walk(ind["code"], depth + 1, area or ind["code"])

        walk("", 0, "")
        return out

    def leaves(self) -> list[dict]:
        return [i for i in self.ordered() if not i["group"]]

    def areas(self) -> list[dict]:
        return [i for i in self.indicators if not i["parent"]]

    def deduction(self, code: str) -> dict | None:
        return next((d for d in self.document["deductions"] if d["code"] == code), None)

    def veto(self, code: str) -> dict | None:
        return next((v for v in self.document["vetoes"] if v["code"] == code), None)


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _points(errors: dict, key: str, label: Any, value: Any, *, allow_zero: bool = False) -> float:
    number = _number(value)
    if number is None:
        errors.setdefault(key, _("%(field)s must be a number.", field=str(label)))
        return 0.0
    if number < 0 or (number == 0 and not allow_zero) or number > MAX_POINTS or round(number, 2) != number:
        errors.setdefault(
            key,
            _(
                "%(field)s must be between 0 and %(max)s, with at most two decimals.",
                field=str(label),
                max=_fmt(MAX_POINTS),
            ),
        )
    return number


def _text(errors: dict, key: str, label: Any, value: Any, *, max_len: int, required: bool = True) -> str:
    text = value.replace("\x00", "").strip() if isinstance(value, str) else ("" if value is None else str(value))
    if required and not text:
        errors.setdefault(key, _("%(field)s is required.", field=str(label)))
    elif len(text) > max_len:
        errors.setdefault(key, _("%(field)s is too long (at most %(max)d characters).", field=str(label), max=max_len))
    return text


def _code(errors: dict, key: str, value: Any, seen: set[str]) -> str:
    code = _text(errors, key, INDICATOR_LABELS["code"], value, max_len=32)
    if code and not CODE_RE.match(code):
        errors.setdefault(key, _("Codes use letters, digits, dot, dash and underscore only."))
    elif code in seen:
        errors.setdefault(key, _("The code %(code)s is used twice.", code=code))
    seen.add(code)
    return code


def _blank(row: dict) -> bool:
    return not any(str(row.get(k) or "").strip() for k in ("code", "name"))


def check(raw: dict[str, Any]) -> Tree:
    """The document a user sent, checked as a whole: one message per wrong field,
    keyed `indicators.3.points`, `deductions.0.name`, `grades.good`, ..."""
    errors: dict[str, str] = {}
    total = _points(errors, "total", LABELS["total"], raw.get("total", 100))
    indicators, keys = _indicators(errors, raw.get("indicators"))
    children = _children(errors, indicators, keys)
    _check_kinds(errors, indicators, keys, children)
    roots = round(sum(ind["points"] for ind in children.get("", [])), 2)
    if indicators and abs(roots - total) > EPSILON:
        errors.setdefault(
            "total",
            _(
                "The top-level indicators add up to %(sum)s points, not the scheme's total of %(total)s.",
                sum=_fmt(roots),
                total=_fmt(total),
            ),
        )
    document = {
        "total": total,
        "indicators": indicators,
        "deductions": _items(errors, raw.get("deductions"), "deductions", with_points=True),
        "deduction_cap": _points(
            errors, "deduction_cap", LABELS["deduction_cap"], raw.get("deduction_cap", 0) or 0, allow_zero=True
        ),
        "vetoes": _items(errors, raw.get("vetoes"), "vetoes", with_points=False),
        "grades": _grades(errors, raw.get("grades") or {}, total),
        "top_cap": _top_cap(errors, raw.get("top_cap")),
    }
    if errors:
        raise ValidationFailed(errors)
    return Tree(document)


def _indicators(errors: dict, raw: Any) -> tuple[list[dict], dict[str, int]]:
    """The indicator rows as given (blank rows of the form left out), and each code's row number."""
    indicators: list[dict] = []
    keys: dict[str, int] = {}
    seen: set[str] = set()
    for i, row in enumerate(r for r in (raw or []) if isinstance(r, dict)):
        if _blank(row):
            continue  # an empty row of the form
        k = f"indicators.{i}."
        ind = {
            "code": _code(errors, k + "code", row.get("code"), seen),
            "name": _text(errors, k + "name", INDICATOR_LABELS["name"], row.get("name"), max_len=200),
            "parent": _text(
                errors, k + "parent", INDICATOR_LABELS["parent"], row.get("parent"), max_len=32, required=False
            ),
            "points": _points(errors, k + "points", INDICATOR_LABELS["points"], row.get("points")),
            "method": str(row.get("method") or ""),
            "source": str(row.get("source") or ""),
            "guide": _text(
                errors, k + "guide", INDICATOR_LABELS["guide"], row.get("guide"), max_len=2000, required=False
            ),
        }
        keys[ind["code"]] = i
        indicators.append(ind)
    if not indicators:
        errors.setdefault("indicators", _("A scheme needs at least one indicator."))
    return indicators, keys


def _children(errors: dict, indicators: list[dict], keys: dict[str, int]) -> dict[str, list[dict]]:
    """Each code's child indicators ("" for the top level); a parent that does not exist
    or that leads back to the indicator is an error."""
    by_code = {ind["code"]: ind for ind in indicators}
    children: dict[str, list[dict]] = {}
    for ind in indicators:
        k = f"indicators.{keys[ind['code']]}."
        parent = ind["parent"]
        if parent and parent not in by_code:
            errors.setdefault(k + "parent", _("There is no indicator with the code %(code)s.", code=parent))
            continue
        # walk up: a parent chain that comes back to itself is a cycle
        step, hops = parent, 0
        while step and hops <= len(indicators):
            if step == ind["code"]:
                errors.setdefault(k + "parent", _("Following the parents of this indicator leads back to it."))
                break
            step, hops = by_code[step]["parent"] if step in by_code else "", hops + 1
        children.setdefault(parent, []).append(ind)
    return children


def _check_kinds(errors: dict, indicators: list[dict], keys: dict[str, int], children: dict[str, list[dict]]) -> None:
    """A group's points are its indicators' sum and it has no method; a leaf is scored
    by hand or automatically from a source."""
    for ind in indicators:
        k = f"indicators.{keys[ind['code']]}."
        kids = children.get(ind["code"])
        if kids:
            ind["method"], ind["source"] = "", ""
            kid_sum = round(sum(c["points"] for c in kids), 2)
            if abs(kid_sum - ind["points"]) > EPSILON:
                errors.setdefault(
                    k + "points",
                    _(
                        "%(code)s has %(points)s points but its indicators add up to %(sum)s.",
                        code=ind["code"],
                        points=_fmt(ind["points"]),
                        sum=_fmt(kid_sum),
                    ),
                )
        elif ind["method"] not in METHODS:
            errors.setdefault(
                k + "method", _("%(field)s is not one of the allowed values.", field=str(INDICATOR_LABELS["method"]))
            )
        elif ind["method"] == "auto" and ind["source"] not in SOURCES:
            errors.setdefault(k + "source", _("An automatic indicator needs a source of data."))
        elif ind["method"] == "manual":
            ind["source"] = ""


def _top_cap(errors: dict, value: Any) -> float | None:
    """The largest share of units that may get the top grade, or None for no cap."""
    if value in (None, ""):
        return None
    top_cap = _number(value)
    if top_cap is None or not 0 < top_cap <= 1:
        errors.setdefault(
            "top_cap", _("%(field)s must be a share above 0 and at most 100%%.", field=str(LABELS["top_cap"]))
        )
    return top_cap


def _items(errors: dict, raw: Any, prefix: str, *, with_points: bool) -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()
    for i, row in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(row, dict) or _blank(row):
            continue
        k = f"{prefix}.{i}."
        item = {
            "code": _code(errors, k + "code", row.get("code"), seen),
            "name": _text(errors, k + "name", ITEM_LABELS["name"], row.get("name"), max_len=200),
        }
        if with_points:
            item["points"] = _points(errors, k + "points", ITEM_LABELS["points"], row.get("points"))
        out.append(item)
    return out


def _grades(errors: dict, raw: dict, total: float) -> dict[str, float]:
    out: dict[str, float] = {}
    previous = None
    for code in ("excellent", "good", "pass"):
        key = f"grades.{code}"
        value = _points(errors, key, LABELS[key], raw.get(code))
        if value > total:
            errors.setdefault(key, _("%(field)s cannot be above the total points.", field=str(LABELS[key])))
        if previous is not None and value >= previous:
            errors.setdefault(key, _("Each grade needs a lower score than the grade above it."))
        out[code] = value
        previous = value
    return out


def from_form(data: dict[str, Any]) -> dict[str, Any]:
    """The flat fields of the scheme form (`indicators.3.points`, ...) as a document."""
    raw: dict[str, Any] = {"grades": {}}
    lists: dict[str, dict[int, dict]] = {"indicators": {}, "deductions": {}, "vetoes": {}}
    for key, value in data.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] in lists and parts[1].isdigit():
            lists[parts[0]].setdefault(int(parts[1]), {})[parts[2]] = value
        elif len(parts) == 2 and parts[0] == "grades":
            raw["grades"][parts[1]] = value
        elif key in ("total", "deduction_cap"):
            raw[key] = value
        elif key == "top_cap_percent":
            number = _number(value)
            raw["top_cap"] = None if value in ("", None) else (number / 100 if number is not None else value)
    for name, rows in lists.items():
        # keep the form's row numbers so that messages land on the right row
        size = max(rows) + 1 if rows else 0
        raw[name] = [rows.get(i, {}) for i in range(size)]
    return raw


def grade_of(total: float, veto: bool, bands: dict[str, float]) -> str:
    if veto:
        return "fail"
    for code in ("excellent", "good", "pass"):
        if total >= bands[code] - 1e-9:
            return code
    return "fail"
