"""QR codes rendered as inline SVG (for templates: ``{{ svg|safe }}``)."""

from __future__ import annotations

import segno


def qr_svg(data: str, scale: int = 4, title: str | None = None) -> str:
    """Render ``data`` as a regular QR code (never Micro QR, which banking
    apps cannot scan), error correction level M, 4-module quiet zone.

    Returns an ``<svg>`` element without XML declaration or namespace, ready
    to embed in HTML5. ``title`` (escaped by segno) becomes its ``<title>``,
    and the element gets ``role="img"`` so screen readers announce it.
    """
    qr = segno.make_qr(data, error="m", boost_error=False)
    svg = qr.svg_inline(scale=scale, title=title)
    if title:
        svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return svg


def qr_png_data_uri(data: str, scale: int = 5) -> str:
    """``data`` as a PNG QR code in a ``data:`` URI (same settings as ``qr_svg``), for documents rendered
    without a browser (the income statement PDF), where a bitmap stays a scannable picture."""
    import base64
    import io

    out = io.BytesIO()
    segno.make_qr(data, error="m", boost_error=False).save(out, kind="png", scale=scale, border=4)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
