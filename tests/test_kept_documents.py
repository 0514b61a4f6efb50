"""Documents kept as files (server.documents.kept): made once while what they show stays the
same, made again as soon as it changes, one file per subject, and never a reason to fail.

No database: these tests run once, not per backend.
"""

from __future__ import annotations

import asyncio
import io
import uuid

import pytest
from pypdf import PdfReader

from server.documents import kept
from tests.helpers import digest

TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER = uuid.UUID("00000000-0000-4000-8000-000000000002")


def page(text: str, moment: str) -> str:
    return (
        f'<html lang="zh-CN"><head><title>评分表</title><meta name="dcterms.created" content="{moment}"></head>'
        f"<body><p>{text}</p><p>生成于 {moment}</p></body></html>"
    )


def text_of(pdf: bytes) -> str:
    return "".join("".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.fixture
def folder(tmp_path):
    before = kept.folder()
    kept.configure(tmp_path / "documents")
    yield tmp_path / "documents"
    kept.configure(before)


def files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


async def test_an_unchanged_document_is_served_as_first_made(folder):
    made = "2026-12-01T09:00:00"
    first = await kept.pdf(TENANT, "card-2026-u1", page("总分 91.5", made), moments=[made])
    assert "总分91.5" in text_of(first) and "2026-12-01T09:00:00" in text_of(first)
    # asked again later: the same content, so the same file, stating when it was made
    later = "2026-12-05T15:30:00"
    again = await kept.pdf(TENANT, "card-2026-u1", page("总分 91.5", later), moments=[later])
    assert digest(again) == digest(first)
    assert len(files(folder)) == 1 and files(folder)[0].startswith("card-2026-u1.")


async def test_a_change_of_content_makes_it_again_and_drops_the_old_file(folder):
    await kept.pdf(TENANT, "card-2026-u1", page("总分 91.5", "09:00"), moments=["09:00"])
    changed = await kept.pdf(TENANT, "card-2026-u1", page("总分 88.0", "10:00"), moments=["10:00"])
    assert "总分88.0" in text_of(changed) and "10:00" in text_of(changed)
    assert len(files(folder)) == 1
    # without the moment left out, the time alone is a change
    timed = await kept.pdf(TENANT, "card-2026-u1", page("总分 88.0", "11:00"))
    assert "11:00" in text_of(timed)


async def test_tenants_and_subjects_are_kept_apart(folder):
    html = page("总分 91.5", "09:00")
    await kept.pdf(TENANT, "card-2026-u1", html, moments=["09:00"])
    await kept.pdf(TENANT, "card-2026-u2", html, moments=["09:00"])
    await kept.pdf(OTHER, "card-2026-u1", html, moments=["09:00"])
    assert sorted(p.parent.name for p in folder.rglob("*.pdf")) == sorted([str(TENANT), str(TENANT), str(OTHER)])
    assert len(files(folder)) == 3


async def test_requests_at_once_all_get_the_one_file_kept(folder):
    # the same content made at four moments: four different renders, one file, served to all
    moments = [f"09:00:0{i}" for i in range(4)]
    made = await asyncio.gather(*(kept.pdf(TENANT, "card-2026-u1", page("总分 91.5", m), moments=[m]) for m in moments))
    names = files(folder)
    assert len(names) == 1 and not any(name.endswith(".part") for name in names)
    assert [digest(pdf) for pdf in made] == [digest(next(folder.rglob("*.pdf")).read_bytes())] * 4
    assert "总分91.5" in text_of(made[0])


async def test_a_folder_that_cannot_be_written_only_costs_the_making(tmp_path):
    before = kept.folder()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    kept.configure(blocked)
    try:
        pdf = await kept.pdf(TENANT, "card-2026-u1", page("总分 91.5", "09:00"), moments=["09:00"])
    finally:
        kept.configure(before)
    assert "总分91.5" in text_of(pdf)


async def test_an_unreadable_kept_file_is_made_again(folder):
    html = page("总分 91.5", "09:00")
    await kept.pdf(TENANT, "card-2026-u1", html, moments=["09:00"])
    path = next(folder.rglob("*.pdf"))
    path.unlink()
    path.mkdir()  # something in the way that cannot be read as a file
    pdf = await kept.pdf(TENANT, "card-2026-u1", html, moments=["09:00"])
    assert "总分91.5" in text_of(pdf)


async def test_a_subject_is_a_plain_name(folder):
    with pytest.raises(ValueError):
        await kept.pdf(TENANT, "../card", page("x", "09:00"))
