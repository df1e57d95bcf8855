"""The signature in a ticket's QR code, which a farmer's phone checks without signal.

A ticket's check-in token is ``<code>.<farm id>.<visit day YYYYMMDD>.<signature>``: an ECDSA
P-256 / SHA-256 signature over the text before the last dot, as the 64 raw bytes r‖s in
unpadded base64url (the form WebCrypto's ``verify`` takes; DER would need converting on the
phone). The phone holds only the public key (from /farmer/checkin/today.json), so it can tell
a real ticket of this farm and day from a forged one on the hill, offline; it cannot make one.

The key pair is derived from the app's SECRET_KEY (HKDF-SHA256 with its own label), so every
app instance signs alike with no key file to copy, and changing SECRET_KEY changes it. Signing
is deterministic (RFC 6979): one ticket always has the same QR.

Tickets sent before this had ``<code>.<HMAC>`` (itsdangerous); those still check in online.
"""
from __future__ import annotations

import base64
import binascii
import functools
from datetime import date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_LABEL = b"kep.tours.checkin.ecdsa-p256.v1"
# The order of the P-256 group (FIPS 186-4, D.1.2.3): a private key is a number from 1 to n - 1.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_ALGORITHM = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


@functools.lru_cache(maxsize=4)
def _key_for(secret: str) -> ec.EllipticCurvePrivateKey:
    # 48 bytes reduced modulo n - 1 leaves a bias below 2**-128 (FIPS 186-4, B.4.1).
    material = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=_LABEL).derive(secret.encode())
    return ec.derive_private_key(int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _key() -> ec.EllipticCurvePrivateKey:
    return _key_for(str(current_app.config["SECRET_KEY"]))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk() -> dict[str, str]:
    """The public key as a JSON Web Key, for ``crypto.subtle.importKey("jwk", ...)`` on the phone."""
    numbers = _key().public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big"))}


def sign(code: str, farm_id: int, day: date) -> str:
    message = f"{code}.{farm_id}.{day:%Y%m%d}"
    r, s = decode_dss_signature(_key().sign(message.encode(), _ALGORITHM))
    return f"{message}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def verify(token: str) -> tuple[str, int, date] | None:
    """(code, farm id, visit day) of a token this market signed, or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 4 or not (parts[1].isascii() and parts[1].isdigit()) or len(parts[1]) > 9:
        return None
    try:
        raw = _unb64(parts[3])
        day = datetime.strptime(parts[2], "%Y%m%d").date()
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 64:
        return None
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        _key().public_key().verify(signature, ".".join(parts[:3]).encode(), _ALGORITHM)
    except InvalidSignature:
        return None
    return parts[0], int(parts[1]), day
