import re
import xml.etree.ElementTree as ET

import pytest
import segno

from core.qr import qr_svg

VIETQR = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
    "530370454061200005802VN62170813ung ho lu lut6304C15C"
)
BORDER = 4  # segno's default quiet zone


def _dark_modules(path_d: str) -> set[tuple[int, int]]:
    """Decode segno's SVG path ("M x y", relative "m dx dy", "h n" runs of
    dark modules; y is offset by 0.5 for the stroke) into (row, col) cells."""
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for cmd, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path_d):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(a)):
                dark.add((int(y - 0.5) - BORDER, int(x) + i - BORDER))
            x += int(a)
    return dark


@pytest.mark.parametrize("data", ["KEP00000123", VIETQR])
def test_svg_encodes_segno_matrix(data):
    svg = qr_svg(data, scale=3)
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "svg"

    expected = segno.make_qr(data, error="m", boost_error=False)
    assert not expected.is_micro and expected.error == "M"
    size = len(expected.matrix)
    assert root.get("width") == root.get("height") == str((size + 2 * BORDER) * 3)

    path = root.find("path")
    assert path is not None and path.get("transform") == "scale(3)"
    wanted = {
        (r, c)
        for r, row in enumerate(expected.matrix)
        for c, module in enumerate(row)
        if module
    }
    assert _dark_modules(path.get("d", "")) == wanted


def test_short_data_is_not_micro_qr():
    # segno.make() would pick a Micro QR for this; banking apps can't read those.
    svg = qr_svg("KEP1")
    assert ET.fromstring(svg).get("width") == str((21 + 2 * BORDER) * 4)


def test_title_is_escaped_and_accessible():
    root = ET.fromstring(qr_svg("x", title='Mã QR <chuyển khoản> & "KEP"'))
    assert root.get("role") == "img"
    assert root.findtext("title") == 'Mã QR <chuyển khoản> & "KEP"'


def test_no_title_by_default():
    root = ET.fromstring(qr_svg("x"))
    assert root.find("title") is None and root.get("role") is None
