"""Documents: HTML templates rendered to archival PDF; untrusted work kept off the event loop."""

from server.documents import pdf, safe
from server.documents.pdf import harfbuzz_subsetting_available, render_html, render_pdf, warm_up


def shutdown() -> None:
    """Stop the PDF workers and the guard's workers (at application shutdown)."""
    pdf.shutdown()
    safe.shutdown()


__all__ = ["harfbuzz_subsetting_available", "render_html", "render_pdf", "shutdown", "warm_up"]
