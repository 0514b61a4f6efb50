"""PDFs kept as files, keyed by what they show, so an unchanged document is not made again.

A scorecard costs a PDF worker ~120 ms, and the same card is asked for again and again (a
leader's download, the office's look, every batch) while its data does not change; once a
year is finalised it never does. The key is the SHA-256 of the document's HTML with its
moment of making left out: anything that changes what the document shows (a score, a rank,
a label, the template, the language) gives a new key, so a kept file can never be stale.
The file keeps the moment it was first made, which stays true of its content.

Files lie per tenant and per subject (e.g. one unit's card of one year in one language);
keeping a new one removes the subject's older ones. A file is written beside its final name
and linked into place, so a reader sees a whole file or none, and of two renders of the same
content at once the first kept is the one both serve. The folder is a cache: when
it cannot be read or written, the document is made as if nothing were kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from server.documents.pdf import render_pdf

log = logging.getLogger(__name__)

_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
_folder: Path | None = None


def configure(folder: Path | None) -> None:
    """Where documents are kept (None: nothing is kept, every document is made)."""
    global _folder
    _folder = folder


def folder() -> Path | None:
    return _folder


def key(html: str, moments: Iterable[str] = ()) -> str:
    """What identifies the document: its HTML without the text of its moment of making."""
    for moment in moments:
        if moment:
            html = html.replace(moment, "")
    return hashlib.sha256(html.encode()).hexdigest()


async def pdf(tenant: uuid.UUID, subject: str, html: str, *, moments: Iterable[str] = ()) -> bytes:
    """The PDF of `html`: the kept file when this content was made before, else made now and kept.

    `moments`: the texts by which the HTML states when it was made (left out of the key).
    """
    if not _SUBJECT.match(subject):
        raise ValueError(f"a kept document's subject must be a plain name: {subject!r}")
    if _folder is None:
        return await render_pdf(html)
    path = _folder / str(tenant) / f"{subject}.{key(html, moments)}.pdf"
    try:
        return await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("kept document %s unreadable; making it again", path, exc_info=True)
    return await asyncio.to_thread(_keep, path, subject, await render_pdf(html))


def _keep(path: Path, subject: str, content: bytes) -> bytes:
    """Keep `content` as `path` and serve it; when another render of the same content was
    kept first (two requests at once), serve that one, so that everyone gets one file."""
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, part = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        try:
            os.link(part, path)  # unlike a rename, never replaces: the first kept stays
        except FileExistsError:
            return path.read_bytes()
        for older in path.parent.glob(f"{subject}.*.pdf"):
            if older != path:
                older.unlink(missing_ok=True)
    except OSError:
        log.warning("could not keep %s; it will be made again when asked for", path, exc_info=True)
    finally:
        if part is not None:
            Path(part).unlink(missing_ok=True)
    return content
