"""PDF documents: archival PDF/A with embedded, subset CJK fonts, made off the event loop.

No database: these tests run once, not per backend.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from server import documents
from server.core import i18n
from server.documents import pdf as renderer

DUTIES = [
    "认真贯彻落实党和国家保密工作方针政策和法律法规，对本单位保密工作负全面领导责任。",
    "定期听取保密工作汇报，每年至少专题研究一次保密工作，及时解决重大问题。",
    "健全本单位保密工作机构，配备与工作任务相适应的专职保密工作人员。",
    "将保密工作纳入本单位年度工作计划和目标管理，与业务工作同部署、同检查、同考核。",
    "严格执行涉密人员管理制度，组织开展保密教育培训，增强全员保密意识。",
    "督促落实定密、涉密载体、涉密信息系统和涉密场所管理各项规定。",
    "组织开展保密自查自评，对发现的问题和隐患督促整改到位。",
    "发生泄密事件时及时报告，积极配合有关部门开展调查处理工作。",
]
BODY = (
    "<h2>一、告知事项</h2>"
    "<p>根据《中华人民共和国保守国家秘密法》及其实施条例，现将您所在岗位的保密工作责任告知如下，请认真阅读并签署。</p>"
    "<h2>二、岗位职责</h2><ol>" + "".join(f"<li>{duty}</li>" for duty in DUTIES) + "</ol>"
    "<h2>三、其他</h2><p>本告知书自签署之日起生效，岗位变动时重新告知。</p>"
)
DIGEST = hashlib.sha256(BODY.encode()).hexdigest()


def notice(**changes: object) -> dict:
    return {
        "title": "保密工作责任告知书",
        "tenant_name": "示范市国家保密局",
        "person_name": "王建国",
        "unit_name": "示范市交通运输局",
        "position_label": "主要负责人",
        "version": "2026年度 第1版",
        "issued_at": datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
        "digest": DIGEST,
        "body_html": BODY,
        **changes,
    }


SIGNATURE = {
    "signer_name": "王建国",
    "signed_at": datetime(2026, 3, 5, 7, 12, 45, tzinfo=UTC),
    "code": "7KQ4-M2XD",
    "client_addr": "10.20.30.40",
    "method": "password",
}


@pytest.fixture(scope="module", autouse=True)
def pool():
    yield
    documents.shutdown()


def text_of(pdf: bytes) -> str:
    # Extraction may break lines anywhere (long digest, justified CJK): compare without whitespace.
    return "".join("".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_fast_font_subsetting_path_is_active():
    # Without HarfBuzz-Subset WeasyPrint subsets with fontTools: ~15 s for a Chinese page.
    assert documents.harfbuzz_subsetting_available()


async def test_a_signed_notice_is_an_archival_pdf_with_everything_on_it():
    pdf = await documents.render_pdf(documents.render_html("notice.html", notice=notice(), signature=SIGNATURE))

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for field in ("tenant_name", "title", "person_name", "unit_name", "position_label", "version"):
        assert "".join(notice()[field].split()) in text
    for duty in (DUTIES[0], DUTIES[3], DUTIES[7]):
        assert duty in text
    assert "7KQ4-M2XD" in text
    assert DIGEST in text
    assert "10.20.30.40" in text
    assert "15:12:45" in text  # signed at 07:12:45 UTC, shown in the tenant's zone (Asia/Shanghai)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1  # the usual notice and its signature fit on one sheet
    assert reader.metadata.title == "保密工作责任告知书 · 王建国"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    xmp = reader.xmp_metadata
    assert xmp.dc_title == {"x-default": "保密工作责任告知书 · 王建国"}
    pdfaid = {
        node.localName: node.nodeValue for node in xmp.get_nodes_in_namespace("", "http://www.aiim.org/pdfa/ns/id/")
    }
    assert pdfaid == {"part": "3", "conformance": "B"}


async def test_an_unsigned_notice_says_so_in_the_readers_language():
    i18n.set_locale("en")
    try:
        html = documents.render_html("notice.html", notice=notice(), signature=None)
    finally:
        i18n.set_locale("zh_CN")
    text = text_of(await documents.render_pdf(html))
    assert "Notsigned" in text
    assert "7KQ4-M2XD" not in text
    assert DIGEST in text


async def test_fonts_are_embedded_as_subsets():
    pdf = await documents.render_pdf(documents.render_html("notice.html", notice=notice(), signature=SIGNATURE))
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("Noto-Serif-CJK-SC" in name for name in fonts)
    for name, embedded in fonts.items():
        tag, _, _ = name.lstrip("/").partition("+")
        assert len(tag) == 6 and tag.isupper() and tag.isalpha(), name
        assert embedded, name


async def test_a_batch_renders_concurrently():
    names = ("李明", "张伟", "刘芳", "陈静", "杨帆")
    htmls = [documents.render_html("notice.html", notice=notice(person_name=name), signature=None) for name in names]
    pdfs = await asyncio.gather(*(documents.render_pdf(html) for html in htmls))
    assert len(pdfs) == 5
    assert all(pdf.startswith(b"%PDF-") for pdf in pdfs)
    for pdf, name in zip(pdfs, names, strict=True):
        assert name in text_of(pdf)


async def test_workers_are_replaced_after_their_quota_and_renders_go_on(monkeypatch):
    """The pool is replaced after RENDERS_PER_WORKER renders a worker: the next render
    starts fresh workers and still gives the whole document, and the retired workers exit.
    (How fast a warm render is: `make bench`, pdf.render.)"""
    documents.shutdown()
    previous = renderer.workers()
    renderer.configure(1)
    monkeypatch.setattr(renderer, "RENDERS_PER_WORKER", 2)
    html = documents.render_html("notice.html", notice=notice(), signature=SIGNATURE)
    try:
        others = {child.pid for child in multiprocessing.active_children()}
        await documents.warm_up()  # the first of the worker's two renders
        first = renderer._pool
        retired = {child.pid for child in multiprocessing.active_children()} - others
        assert len(retired) == 1

        last_of_quota = await documents.render_pdf(html)
        assert renderer._pool is first
        in_new_pool = await documents.render_pdf(html)
        assert renderer._pool is not first
        for document in (last_of_quota, in_new_pool):
            assert "7KQ4-M2XD" in text_of(document) and DIGEST in text_of(document)

        for _ in range(100):
            if not retired & {child.pid for child in multiprocessing.active_children()}:
                break
            await asyncio.sleep(0.1)
        assert not retired & {child.pid for child in multiprocessing.active_children()}, "a retired worker lives on"
    finally:
        documents.shutdown()
        renderer.configure(previous)
