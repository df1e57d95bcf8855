"""The income statement as a PDF for the bank: a real PDF with the page's figures in Vietnamese, only for its farm
(and staff with the farmer's consent), and a verification QR code whose page confirms the same figures."""
from __future__ import annotations

import io
import json
import zlib
from datetime import date, datetime
from urllib.parse import urlsplit

import itsdangerous.encoding
import pypdf
import pytest
import zxingcpp
from babel.numbers import format_currency
from PIL import Image

from core.extensions import db
from farmers import dashboard, statement_proof
from farmers.periods import Period
from shop.ledger import LedgerEntry
from tests.farmers.ledger_helpers import refund, sale
from tests.helpers import login_as

JUNE_ARGS = "from=2026-06-01&to=2026-06-30"
JUNE = Period("custom", date(2026, 6, 1), date(2026, 6, 30))
QR = zxingcpp.BarcodeFormat.QRCode
PDF_URL = f"/farmer/statement.pdf?{JUNE_ARGS}"


def money(amount: int) -> str:
    return format_currency(amount, "VND", locale="vi", currency_digits=True)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_qr_codes(data: bytes) -> set[str]:
    """Every QR code in the PDF's pictures, decoded (a picture may be listed twice: once with its mask). QR codes
    only: read as any format, a picture's pattern was once taken for a linear barcode ("7321")."""
    texts = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for picture in page.images:
            texts |= {found.text for found in zxingcpp.read_barcodes(picture.image, formats=QR)}
    return texts


def spaced(text: str) -> str:
    """Text with the spaces the PDF's layout may put anywhere (narrow, non-breaking, line ends) made plain."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture
def farm(make_farm, make_product, make_slot):
    farm = make_farm(name="Vườn dứa Anh An", bank_account_name="NGUYEN VAN AN")
    queen = make_product(farm=farm, name="Dứa Queen loại 1", unit="kg")
    tour = make_slot(farm=farm, title="Hái dứa trên đồi Hương Sơn").tour
    sale(farm, datetime(2026, 6, 2, 2), 300000, quantity=12, fee=15000, product=queen)
    sale(farm, datetime(2026, 6, 15, 9), 450000, quantity=3, fee=22500, tour=tour)
    sale(farm, datetime(2026, 6, 20, 9), 50000, quantity=2, fee=2500, product=queen)
    refund(farm, datetime(2026, 6, 21, 9), 50000, quantity=2, fee=2500, product=queen)
    sale(farm, datetime(2026, 7, 2, 9), 777000, quantity=1, product=queen)   # outside June
    db.session.add(LedgerEntry(farm_id=farm.id, occurred_at=datetime(2026, 6, 25, 5), kind="payout",
                               source="payout", amount_vnd=-200000))
    db.session.commit()
    return farm


def june_totals(farm) -> dashboard.Totals:
    """The June totals by the functions the statement page uses."""
    return dashboard.summarise(dashboard.day_rows(farm.id, JUNE)).total


def test_the_pdf_is_a_pdf_with_the_pages_figures_in_vietnamese(client, farm):
    login_as(client, farm.owner)
    response = client.get(PDF_URL)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".pdf" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    assert len(pypdf.PdfReader(io.BytesIO(response.data)).pages) >= 1
    text = spaced(pdf_text(response.data))
    page = spaced(client.get(f"/farmer/statement?{JUNE_ARGS}").get_data(as_text=True))
    totals = june_totals(farm)
    assert (totals.sales, totals.fees, totals.refunds, totals.net, totals.payouts) == (
        800000, 37500, 50000, 712500, 200000)
    for amount in (totals.sales, totals.fees, totals.refunds, totals.net, totals.payouts):
        assert spaced(money(amount)) in text and spaced(money(amount)) in page   # the same numbers as the page
    assert spaced(money(777000)) not in text                                      # July is not June
    assert "Thu nhập" in text and "Vườn dứa Anh An" in text and "NGUYEN VAN AN" in text
    assert "01/06/2026" in text and "30/06/2026" in text


def test_the_pdf_in_english(client, farm):
    login_as(client, farm.owner)
    text = spaced(pdf_text(client.get(PDF_URL + "&lang=en").data))
    assert "Income statement" in text and "Vườn dứa Anh An" in text


@pytest.mark.parametrize("who, status", [("anonymous", 302), ("buyer", 403), ("other farmer", 200),
                                         ("staff without consent", 403)])
def test_only_the_farms_farmer_and_staff_may_download_it(client, farm, make_user, make_farm, who, status):
    other = make_farm(name="Trang trại dứa Bà Ba")
    if who == "buyer":
        login_as(client, make_user(role="buyer"))
    elif who == "other farmer":
        login_as(client, other.owner)
    elif who.startswith("staff"):
        login_as(client, make_user(role="admin"))
    response = client.get(f"{PDF_URL}&farm={farm.id}")
    assert response.status_code == status
    if who == "anonymous":
        assert "/login" in response.headers["Location"]
    if who == "other farmer":   # their own statement, whatever ?farm= they add: nothing of farm A
        text = pdf_text(response.data)
        assert "Trang trại dứa Bà Ba" in text and "Vườn dứa Anh An" not in text
        assert spaced(money(800000)) not in spaced(text)


def test_staff_with_the_farmers_consent_download_that_farms_pdf(client, farm, make_user, grant_consent):
    staff = make_user(role="admin")
    grant_consent(farm, staff)
    login_as(client, staff)
    response = client.get(f"{PDF_URL}&farm={farm.id}")
    assert response.status_code == 200 and "Vườn dứa Anh An" in pdf_text(response.data)


def test_bad_dates_go_to_the_page_that_says_what_is_wrong(client, farm):
    login_as(client, farm.owner)
    response = client.get("/farmer/statement.pdf?from=2026-06-30&to=2026-06-01")
    assert response.status_code == 302 and "/farmer/statement?" in response.headers["Location"]


def test_the_qr_code_opens_a_page_confirming_the_same_figures(client, farm):
    login_as(client, farm.owner)
    data = client.get(PDF_URL).data
    codes = pdf_qr_codes(data)
    assert len(codes) == 1
    code = codes.pop()
    url = urlsplit(code)
    assert f"{url.scheme}://{url.netloc}" == "http://localhost" and url.path.startswith("/statements/verify/")
    assert code in "".join(pdf_text(data).split())                              # printed beside it too
    client.post("/logout")
    anonymous = client.application.test_client()   # a bank officer: not logged in
    response = anonymous.get(url.path + "?lang=vi")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = spaced(response.get_data(as_text=True))
    totals = june_totals(farm)
    for amount in (totals.sales, totals.fees, totals.refunds, totals.net, totals.payouts):
        assert spaced(money(amount)) in body
    assert "Vườn dứa Anh An" in body and "01/06/2026" in body and "30/06/2026" in body
    assert "vẫn cho cùng các tổng số" in body                                       # still matches today
    # Nothing private: no bank account, no products, no buyers.
    assert "NGUYEN VAN AN" not in body and farm.bank_account_number not in body
    assert "Dứa Queen" not in body and "Hái dứa" not in body


def test_a_refund_recorded_later_in_the_period_is_said_plainly(client, farm, app):
    token = statement_proof.issue(app.secret_key, farm.id, JUNE, june_totals(farm), datetime(2026, 7, 1, 3))
    refund(farm, datetime(2026, 6, 28, 9), 100000, quantity=4)
    body = spaced(client.get(f"/statements/verify/{token}?lang=vi").get_data(as_text=True))
    assert "không còn cho cùng các tổng số" in body
    assert spaced(money(712500)) in body and spaced(money(612500)) in body          # as issued, and today
    assert "01/07/2026 10:00" in body                                               # issued at, local time


def _unpack(payload: str) -> bytes:
    """A token's JSON: base64, zlib-compressed when it starts with a dot (itsdangerous's URL-safe format)."""
    if payload.startswith("."):
        return zlib.decompress(itsdangerous.encoding.base64_decode(payload[1:]))
    return itsdangerous.encoding.base64_decode(payload)


@pytest.mark.parametrize("change", ["digit", "signature", "garbage", "other key"])
def test_a_tampered_token_is_a_clear_404(client, farm, app, change):
    token = statement_proof.issue(app.secret_key, farm.id, JUNE, june_totals(farm), datetime(2026, 7, 1))
    payload, signature = token.rsplit(".", 1)
    if change == "digit":   # the same figures with one more digit, under the old signature
        raw = json.loads(_unpack(payload))
        raw[5] *= 10
        forged = itsdangerous.encoding.base64_encode(json.dumps(raw, separators=(",", ":")).encode()).decode()
        token = f"{forged}.{signature}"
    elif change == "signature":
        token = f"{payload}.{signature[::-1]}"
    elif change == "garbage":
        token = "not-a-statement"
    else:
        token = statement_proof.issue("another-secret-key-0123456789-abcdef", farm.id, JUNE,
                                      june_totals(farm), datetime(2026, 7, 1))
    response = client.get(f"/statements/verify/{token}?lang=en")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Statement not found" in body and "does not belong to an income statement" in body
    assert spaced(money(800000)) not in spaced(body)
    assert "Không tìm thấy" in client.get(f"/statements/verify/{token}?lang=vi").get_data(as_text=True)


def test_a_token_for_a_farm_that_is_gone_is_a_404(client, farm, app):
    token = statement_proof.issue(app.secret_key, 999999, JUNE, june_totals(farm), datetime(2026, 7, 1))
    assert client.get(f"/statements/verify/{token}").status_code == 404


def test_the_pdf_never_fetches_a_url_or_reads_a_file(client, make_farm, tmp_path):
    from farmers import statement_pdf

    secret = tmp_path / "secret.png"
    Image.new("RGB", (8, 8), "red").save(secret)   # a real picture: only the fetcher keeps it out
    rendered = statement_pdf.render(f'<p>x</p><img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">')
    assert rendered.startswith(b"%PDF-") and not pypdf.PdfReader(io.BytesIO(rendered)).pages[0].images
    farm = make_farm(name='<img src="file:///etc/hostname"> Vườn')  # a farm's text is text, never markup
    login_as(client, farm.owner)
    data = client.get(PDF_URL).data
    assert '<img src="file:///etc/hostname"> Vườn' in pdf_text(data) and len(pdf_qr_codes(data)) == 1
