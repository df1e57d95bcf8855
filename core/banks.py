"""Vietnamese banks on the NAPAS 247 network, by their 6-digit BIN (used by VietQR)."""
from __future__ import annotations

BANKS: dict[str, str] = {
    "970405": "Agribank",
    "970436": "Vietcombank",
    "970415": "VietinBank",
    "970418": "BIDV",
    "970407": "Techcombank",
    "970422": "MB Bank",
    "970416": "ACB",
    "970432": "VPBank",
    "970403": "Sacombank",
    "970423": "TPBank",
    "970441": "VIB",
    "970443": "SHB",
    "970437": "HDBank",
    "970449": "LPBank",
    "970448": "OCB",
    "970426": "MSB",
    "970440": "SeABank",
    "970431": "Eximbank",
}


def bank_name(bin_code: str | None) -> str:
    return BANKS.get(bin_code or "", bin_code or "")

ACCOUNT_NUMBER = r"^[0-9]{6,19}$"


def account_digits(value: str | None) -> str | None:
    """An account number as people copy it from cards and statements ("0123 456 789", "0123.456.789",
    "0123-456-789"), as the digits alone; a form filter, so its validators see the cleaned number."""
    if value is None:
        return None
    return value.strip().replace(" ", "").replace(".", "").replace("-", "").replace("\u00a0", "")
