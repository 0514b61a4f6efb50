"""The arithmetic of an assessment, free of the database: an automatic score from its
inputs, a unit's total, and grades and ranks across units."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from server.assessment.scheme import grade_of


def as_float(value: Any) -> float | None:
    """A stored score (Decimal) as a number, None staying None."""
    return None if value is None else float(value)


def as_decimal(value: float) -> Decimal:
    """A score to store: two decimals, as the columns hold them."""
    return Decimal(str(round(value, 2)))


def effective(score: dict) -> float | None:
    """The score that counts: the reviewed one, or while under review the self-assessed one
    (finalising needs every score reviewed, so a finalised total is reviewed scores only)."""
    value = score["score"] if score["score"] is not None else score.get("self_score")
    return as_float(value)


def auto_score(points: float, inputs: dict[str, Any]) -> float:
    """Points in proportion to those who did what they had to; nobody to count, full points.
    A source that weighs parts of its own gives the `share` itself."""
    if inputs.get("share") is not None:
        return round(points * float(inputs["share"]), 2)
    expected = int(inputs.get("expected") or 0)
    if expected == 0:
        return round(points, 2)
    return round(points * int(inputs.get("met") or 0) / expected, 2)


def unit_total(scores: Iterable[float | None], deductions: Iterable[float], cap: float, veto: bool) -> dict[str, Any]:
    """Indicator scores summed, deductions capped, never below zero."""
    score_sum = round(sum(s for s in scores if s is not None), 2)
    deduction = round(min(sum(deductions), cap), 2)
    return {
        "score_sum": score_sum,
        "deduction": deduction,
        "veto": veto,
        "total": round(max(0.0, score_sum - deduction), 2),
    }


def _ranks(rows: list[dict]) -> list[int]:
    """Competition ranking (1, 2, 2, 4): equal totals share a rank; a vetoed unit
    ranks below every unit that was not vetoed."""
    ranks: list[int] = []
    previous = None
    for i, row in enumerate(rows):
        key = (row["veto"], -round(row["total"], 2))
        ranks.append(ranks[-1] if key == previous else i + 1)
        previous = key
    return ranks


def rank_and_grade(rows: list[dict], bands: dict[str, float], top_cap: float | None) -> list[dict]:
    """Each row ({"key", "total", "veto", "district"}) with its rank in the whole
    assessment, its rank in its district, and its grade. A row marked "complete": False
    (scores still missing) gets none of them and follows the others.

    With a cap on the share of the top grade, units earn it in rank order until the
    cap is reached; units tied at the limit are treated alike, so a tie that would
    break the cap drops to the next grade together."""
    pending = [
        {**r, "rank": None, "grade": None, "district_rank": None, "district_of": None}
        for r in rows
        if not r.get("complete", True)
    ]
    ordered = sorted((r for r in rows if r.get("complete", True)), key=lambda r: (r["veto"], -round(r["total"], 2)))
    out = [{**r} for r in ordered]
    for row, rank in zip(out, _ranks(out), strict=True):
        row["rank"] = rank
        row["grade"] = grade_of(row["total"], row["veto"], bands)
    by_district: dict[Any, list[dict]] = {}
    for row in out:
        by_district.setdefault(row["district"], []).append(row)
    for members in by_district.values():
        for row, rank in zip(members, _ranks(members), strict=True):
            row["district_rank"] = rank
            row["district_of"] = len(members)
    if top_cap is not None:
        allowed = math.floor(top_cap * len(out) + 1e-9)
        top = [r for r in out if r["grade"] == "excellent"]
        granted = 0
        i = 0
        while i < len(top):
            tied = [r for r in top[i:] if r["rank"] == top[i]["rank"]]
            if granted + len(tied) > allowed:
                for r in top[i:]:
                    r["grade"] = "good"
                    r["capped"] = True
                break
            granted += len(tied)
            i += len(tied)
    return out + pending
