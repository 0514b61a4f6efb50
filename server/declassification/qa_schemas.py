"""API bodies of the Q&A knowledge base (msgspec). The service checks the values and names
the field of a wrong one, so request fields are loosely typed (a date as text, tags as a
list or as one text split on commas)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.core.pagination import PageBody


class QAEntryWrite(msgspec.Struct, forbid_unknown_fields=True):
    """A new entry (question and answer required; `review_on` defaults to a year from
    today) or a change (only the fields given; at least one)."""

    question: str | UnsetType = UNSET
    answer: str | UnsetType = UNSET  # Markdown: raw HTML shows as text, links only http(s)/mailto
    tags: list[str] | str | UnsetType = UNSET
    legal_basis: str | UnsetType = UNSET
    public: bool | str | UnsetType = UNSET
    review_on: str | None | UnsetType = UNSET


class QAEntryDetail(msgspec.Struct):
    id: str
    question: str
    answer: str  # the Markdown as written
    answer_html: str  # the same, rendered and sanitised
    tags: list[str]
    legal_basis: str
    public: bool
    review_on: date | None
    stale: bool  # the review date has passed
    updated_by: str
    updated_at: datetime


class QAPage(PageBody):
    items: list[QAEntryDetail]
    tags: list[str]  # every tag in use, the most used first
