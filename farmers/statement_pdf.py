"""The income statement as a PDF file, rendered from the statement's HTML by WeasyPrint.

WeasyPrint lays the page out with Pango and HarfBuzz and needs fonts with Vietnamese glyphs on the machine
(Debian: libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz0b, fonts-dejavu-core; see README.md). It is imported
when a PDF is asked for, so the app starts without loading it.

The HTML is ours (every farm-given text escaped by Jinja) and has no outside resources: the fetcher allows
``data:`` URIs only (the QR code), so a document can never make the server fetch a URL or read a local file.
"""
from __future__ import annotations


def render(html: str) -> bytes:
    """The PDF bytes of ``html`` (A4, the page size set in the template's CSS)."""
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import HTML, URLFetcher

    # Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would let the photo checks
    # (core/images.py) take half an upload as a photo: it is put back (our PDF has only our own QR image).
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated

    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
