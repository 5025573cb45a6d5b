"""Printable documents as PDF: decision letters and protocol versions.

WeasyPrint renders them from the same templates as the pages, with the stylesheet inlined and a
URL fetcher that refuses every fetch: rendering never reaches out to the network. The PDF is
tagged (PDF/UA-1: structure tree, language, title shown), so that a screen reader reads it.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders

# Tagged and accessible (ISO 14289-1); WeasyPrint >= 59 knows it.
PDF_VARIANT = "pdf/ua-1"


def static_text(path: str) -> str:
    """A static file's text (a stylesheet), to inline in the HTML that WeasyPrint renders."""
    found = finders.find(path)
    return Path(found).read_text(encoding="utf-8") if found else ""


def no_network_fetcher(document: str):
    """A WeasyPrint fetcher that fetches nothing: ``document`` may not reach out to the network."""
    from weasyprint.urls import URLFetcher

    class NoFetch(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"{document} may not fetch {url!r}")

    return NoFetch(fail_on_errors=False)


def html_to_pdf(html: str, *, document: str) -> bytes:
    """The HTML as a tagged PDF, rendered offline."""
    import weasyprint

    return weasyprint.HTML(string=html, url_fetcher=no_network_fetcher(document)).write_pdf(
        pdf_variant=PDF_VARIANT
    )
