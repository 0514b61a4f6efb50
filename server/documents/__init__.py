"""Documents: HTML templates rendered to archival PDF; untrusted work kept off the event loop."""

from server.documents import kept, pdf, safe
from server.documents.pdf import harfbuzz_subsetting_available, render_html, render_pdf, warm_up
from server.settings import Settings


def configure(settings: Settings) -> None:
    """The sizes of this process's worker pools and where documents are kept, from its settings (before first use)."""
    pdf.configure(settings.pdf_workers)
    kept.configure(settings.var_dir / "documents")
    safe.configure(settings.guard_workers)


def shutdown() -> None:
    """Stop the PDF workers and the guard's workers (at application shutdown)."""
    pdf.shutdown()
    safe.shutdown()


__all__ = ["configure", "harfbuzz_subsetting_available", "render_html", "render_pdf", "shutdown", "warm_up"]
