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
