"""Reading a bank statement that staff export as CSV: the credits in it, whatever the bank's layout.

Layouts (the header row is found among the first rows, after the bank's title lines; headers are compared
without diacritics or case, and a bilingual header such as "Số tiền ghi có/Credit" matches by either half):

- ``vcb`` Vietcombank: "Ngày giao dịch" (or "Ngày hiệu lực/Effective date"), "Số tham chiếu" (or "Số CT/Doc
  No"), "Số tiền ghi nợ/Debit", "Số tiền ghi có/Credit", "Mô tả" (or "Nội dung chi tiết/Transactions in
  detail"). A date cell may carry the document number after it ("31/10/2023 5243.65937"): the date is read.
- ``mb`` MB Bank: "Ngày giao dịch" (or "Ngày hạch toán/Posting date"), "Phát sinh nợ", "Phát sinh có", "Nội
  dung" (or "Diễn giải"), and "Số bút toán" or "Mã giao dịch" when the export has one.
- ``sepay`` the SePay transaction list, by the field names of SePay's user API (``transactions/list``):
  ``transaction_date``, ``amount_in``, ``amount_out``, ``transaction_content``, ``reference_number``.
- ``casso`` a Casso transaction list by the field names Casso documents for its Webhook V2 data:
  ``transactionDateTime``, ``amount`` (negative = money out), ``description``, ``reference``.
- ``generic`` what any other export can be renamed to: ``date``, ``amount`` (negative = out) or ``credit`` and
  ``debit``, ``content`` (or ``description``), ``reference`` (optional).

Where these come from, honestly: no bank publishes its export layout. The Vietcombank and MB Bank headers are
those that public statement parsers read from the banks' own Excel exports (saved as CSV by staff); they could
not be checked against a document of either bank, and an export that names its columns otherwise is refused
with a message that lists the columns it has (staff can then rename them to the generic layout). SePay's and
Casso's own export files (from their dashboards) could not be read either: the names above are their APIs'
documented field names, so a list fetched from their API or exported with those names is taken; their
dashboards' Vietnamese column titles are taken only where they are the same words as a bank's.

Reading: the bytes may be UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1258 (what Excel on a
Vietnamese Windows writes as "CSV"), read as NFC text; Windows-1252 is a subset of what 1258 decodes for these
headers. Separators: comma, semicolon or tab. Dates day first (dd/mm/yyyy or dd-mm-yyyy, a time after it
allowed) or ISO (yyyy-mm-dd hh:mm:ss); a time without an offset is Vietnam time. Amounts are whole dong:
"1.234.567", "1,234,567", "1 234 567", "1234567", "1,234,567.00", "1.234.567,00", a sign or parentheses for
money out, "VND"/"đ" around it; a separator followed by exactly three digits groups thousands, one followed by
one or two digits is a decimal point and what follows must be zeros (dong have no minor unit). Rows without a
date (totals, balances, footers) are passed over; a row with a date that cannot be read, or an amount that
cannot, refuses the whole file with its line number."""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from core.time import local_to_utc

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20000
HEADER_SEARCH_ROWS = 40
MAX_AMOUNT_VND = 10**13 - 1

# field -> aliases (folded: no diacritics, upper case, "_" and "/" as spaces), in the order they are tried.
ALIASES = {
    "credit": ("SO TIEN GHI CO", "PHAT SINH CO", "AMOUNT IN", "GHI CO", "CREDIT", "TIEN VAO", "CO"),
    "debit": ("SO TIEN GHI NO", "PHAT SINH NO", "AMOUNT OUT", "GHI NO", "DEBIT", "TIEN RA", "NO"),
    "date": ("NGAY GIAO DICH", "NGAY HACH TOAN", "NGAY HIEU LUC", "TRANSACTIONDATETIME", "TRANSACTION DATE",
             "POSTING DATE", "EFFECTIVE DATE", "NGAY GD", "NGAY", "DATE", "WHEN"),
    "reference": ("SO THAM CHIEU", "SO BUT TOAN", "MA GIAO DICH", "REFERENCE NUMBER", "REFERENCE", "SO CT",
                  "DOC NO", "MA GD", "REF"),
    "content": ("NOI DUNG CHI TIET", "TRANSACTIONS IN DETAIL", "TRANSACTION CONTENT", "NOI DUNG", "DIEN GIAI",
                "MO TA", "DESCRIPTION", "CONTENT"),
    "amount": ("SO TIEN", "AMOUNT", "GIA TRI"),
}
# Aliases that must be the whole header, not a word inside it ("CO"/"NO" would be found everywhere).
EXACT = {"CO", "NO", "NGAY", "DATE", "WHEN", "REF", "AMOUNT", "CONTENT", "CREDIT", "DEBIT"}
LAYOUTS = {"vcb": "Vietcombank", "mb": "MB Bank", "sepay": "SePay", "casso": "Casso", "generic": _l("generic")}


class StatementError(ValueError):
    """The file is not a statement that can be read; ``message`` says why, in the staff's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Credit:
    line: int  # the line of the file (1 = the first)
    booked_on: date  # the bank's day, Vietnam
    booked_at: datetime | None  # naive UTC, when the bank gave a time
    amount_vnd: int
    content: str
    reference: str | None


@dataclass(frozen=True)
class Statement:
    layout: str
    credits: list[Credit]
    debits: int  # money out, passed over


def fold(text: str) -> str:
    """Without diacritics (đ as d), upper case, separators as single spaces: how headers are compared."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    return " ".join(re.sub(r"[_/\\|:()\[\].,-]+", " ", text).split())


def decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return unicodedata.normalize("NFC", raw[3:].decode("utf-8", errors="strict"))
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return unicodedata.normalize("NFC", raw.decode("utf-16"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1258", errors="replace")
    return unicodedata.normalize("NFC", text)


def _parts(header: str) -> list[str]:
    """A header folded, whole and each half of a bilingual one ("Số tiền ghi có/Credit")."""
    return [fold(header), *(fold(half) for half in header.split("/") if "/" in header)]


def _matches(alias: str, parts: list[str]) -> bool:
    if alias in EXACT:
        return alias in parts
    return any(f" {alias} " in f" {part} " for part in parts)


def _columns(header: list[str]) -> dict[str, int]:
    """Which column is which field: each field takes the first column one of its aliases names (aliases in
    order), and a column is one field only."""
    cells = [_parts(cell) for cell in header]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            index = next((i for i, parts in enumerate(cells) if i not in found.values() and parts[0]
                          and _matches(alias, parts)), None)
            if index is not None:
                found[name] = index
                break
    return found


def _layout(header: list[str]) -> str:
    text = " | ".join(fold(cell) for cell in header)
    if "PHAT SINH CO" in text:
        return "mb"
    if "GHI CO" in text:
        return "vcb"
    if "AMOUNT IN" in text:
        return "sepay"
    if "TRANSACTIONDATETIME" in text:
        return "casso"
    return "generic"


def _usable(columns: dict[str, int]) -> bool:
    return "date" in columns and ("credit" in columns or "amount" in columns)


def _rows(text: str) -> tuple[list[list[str]], int, dict[str, int]]:
    """The rows, the index of the header row and its columns, with the separator that finds a header."""
    best_header: list[str] = []
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as error:
            raise StatementError(_l("The file is not a CSV file that can be read (%(error)s).",
                                    error=str(error))) from None
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            columns = _columns(row)
            if _usable(columns):
                return rows, index, columns
            if len(row) > len(best_header):
                best_header = row
    names = ", ".join(cell.strip() for cell in best_header if cell.strip())[:300] or "—"
    raise StatementError(_l("No header row with a date column and a credit (or amount) column was found. Columns "
                            "seen: %(names)s. Export the statement again as CSV, or name the columns date, "
                            "amount, content, reference.", names=names))


_DATE = re.compile(r"^\s*(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{1,2})-(\d{1,2}))"
                   r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def read_date(value: str) -> tuple[date, datetime | None] | None:
    """The day and (when given) the UTC time of a date cell; None when it holds no date."""
    match = _DATE.match(value or "")
    if not match:
        return None
    d1, m1, y1, y2, m2, d2, hour, minute, second = match.groups()
    day, month, year = (int(d1), int(m1), int(y1)) if y1 else (int(d2), int(m2), int(y2))
    try:
        day_value = date(year, month, day)
        if hour is None:
            return day_value, None
        local = datetime(year, month, day, int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    return day_value, local_to_utc(local)


_CURRENCY = re.compile(r"(?i)vnd|vnđ|đ|₫|dong")


def read_amount(value: str) -> int | None:
    """Whole dong, signed (money out negative); None for an empty cell. Raises ValueError when it cannot be read.

    >>> [read_amount(v) for v in ("1.234.567", "1,234,567", "1 234 567 đ", "-500.000", "(20,000)", "1,234.00")]
    [1234567, 1234567, 1234567, -500000, -20000, 1234]
    """
    text = _CURRENCY.sub("", (value or "").replace("\u00a0", " ")).strip()
    if not text or text in ("-", "0", "0.00", "0,00"):
        return None if not text or text == "-" else 0
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("()+- ").replace(" ", "")
    if not re.fullmatch(r"[0-9.,]+", text) or not text[0].isdigit():
        raise ValueError(value)
    whole, fraction = text, ""
    last = max(text.rfind("."), text.rfind(","))
    if last != -1 and len(text) - last - 1 in (1, 2):  # a decimal part
        whole, fraction = text[:last], text[last + 1:]
    groups = re.split(r"[.,]", whole)
    if len(groups) > 1 and (len({ch for ch in whole if ch in ".,"}) > 1 or not 1 <= len(groups[0]) <= 3
                            or any(len(group) != 3 for group in groups[1:])):
        raise ValueError(value)
    if fraction.strip("0"):
        raise ValueError(value)
    amount = int("".join(groups))
    if amount > MAX_AMOUNT_VND:
        raise ValueError(value)
    return -amount if negative else amount


def parse_statement(raw: bytes) -> Statement:
    """The credits of a statement file; raises ``StatementError`` for a file that cannot be read as one."""
    if not raw.strip():
        raise StatementError(_l("The file is empty."))
    if len(raw) > MAX_BYTES:
        raise StatementError(_l("The file is too large (at most %(size)d MB).", size=MAX_BYTES // (1024 * 1024)))
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise StatementError(_l("This is an Excel file. Open it in Excel and save it as CSV (UTF-8), then "
                                "upload the CSV file."))
    rows, header_index, columns = _rows(decode(raw))
    layout = _layout(rows[header_index])
    if len(rows) - header_index > MAX_ROWS:
        raise StatementError(_l("The file has more than %(num)d rows: export a shorter period.", num=MAX_ROWS))
    credits, debits = [], 0

    def cell(row, name):
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    for number, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        date_cell = cell(row, "date")
        if not any(ch.isdigit() for ch in date_cell):
            continue  # a totals row, a balance line, a footer
        when = read_date(date_cell)
        if when is None:
            raise StatementError(_l("Line %(line)d: the date %(value)s cannot be read (day/month/year).",
                                    line=number, value=date_cell[:40]))
        try:
            credit = read_amount(cell(row, "credit")) if "credit" in columns else None
            debit = read_amount(cell(row, "debit")) if "debit" in columns else None
            amount = read_amount(cell(row, "amount")) if "amount" in columns and "credit" not in columns else None
        except ValueError as error:
            raise StatementError(_l("Line %(line)d: the amount %(value)s is not a whole number of dong.",
                                    line=number, value=str(error)[:40])) from None
        incoming = abs(credit) if credit else (amount if amount and amount > 0 else 0)
        if not incoming:
            if debit or (amount and amount < 0):
                debits += 1
            continue
        content = " ".join(cell(row, "content").split())[:1000]
        reference = cell(row, "reference")[:100] or None
        credits.append(Credit(number, when[0], when[1], incoming, content, reference))
    if not credits and not debits:
        raise StatementError(_l("No transaction was found under the header row."))
    return Statement(layout, credits, debits)
