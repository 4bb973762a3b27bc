"""A report's code and PIN: made at random, typed back forgivingly, kept only as hashes; the receipt sealed for
the browser that sent the report."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.settings import Settings

# Crockford's base32: no I, L, O or U, so a code read aloud or typed on a phone is hard to get wrong.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


CODE_LENGTH = 16  # 16 × 5 bits = 80 bits


PIN_LENGTH = 6


def _encode(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _position in range(length):
        number, index = divmod(number, 32)
        chars.append(CODE_ALPHABET[index])
    return "".join(chars)


def make_code_and_pin() -> tuple[str, str]:
    """A fresh random code (80 bits) and PIN, never derived from anything the browser sent: the form's
    idempotency key travels in the form and sits in the phone's offline queue, so it must open nothing."""
    code = _encode(secrets.token_bytes(10), CODE_LENGTH)
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    return code, pin


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str:
    """What people type: any case, spaces or dashes, and the letters Crockford maps to digits."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans("OILU", "011V"))


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def token_hash(value: str) -> str:
    """How idempotency keys and browser tokens are kept: random values, so a plain SHA-256 is enough."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_idempotency_key() -> str:
    """Put in the form by the server, so that a form sent twice without JavaScript is recognised too."""
    return secrets.token_hex(16)


def new_browser_token() -> str:
    return secrets.token_urlsafe(32)


def _sealing_key(settings: Settings, browser_token: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"receipt:" + browser_token.encode(), hashlib.sha256).digest()


def seal_receipt(settings: Settings, browser_token: str, code: str, pin: str) -> str:
    """The code and PIN, encrypted under a key only the browser's token opens (the database keeps only the token's
    hash), so that a database copy alone gives nobody a receipt."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(settings, browser_token)).encrypt(nonce, f"{code}:{pin}".encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal_receipt(settings: Settings, browser_token: str, sealed: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        code, pin = AESGCM(_sealing_key(settings, browser_token)).decrypt(raw[:12], raw[12:], None).decode().split(":")
    except (InvalidTag, ValueError):
        return None
    return code, pin
