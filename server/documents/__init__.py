"""Documents: HTML templates rendered to archival PDF."""

from server.documents.pdf import harfbuzz_subsetting_available, render_html, render_pdf, shutdown, warm_up

__all__ = ["harfbuzz_subsetting_available", "render_html", "render_pdf", "shutdown", "warm_up"]
