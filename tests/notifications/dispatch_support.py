"""Shared pieces of the dispatcher tests: devices with real keys (pywebpush really encrypts to them), and a
fake transport that stands where requests' session would talk to a push service."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlmodel import Session

from server.accounts.models import User
from server.notifications.models import PushSubscription


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Phone:
    """A browser's side of one subscription: it holds the private key, so a test can read what was sent to it
    exactly as the phone would (RFC 8291, aes128gcm)."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        # A 65-byte uncompressed P-256 point and 16 bytes of auth secret, base64url without padding.
        self.p256dh = b64(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        self.auth = b64(self.auth_secret)

    def subscription(self, endpoint: str, *, user_id: int | None = None, report_id: int | None = None,
                     language: str = "id") -> PushSubscription:
        return PushSubscription(endpoint=endpoint, p256dh=self.p256dh, auth=self.auth, user_id=user_id,
                                report_id=report_id, language=language)

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret,
                                           version="aes128gcm"))


def subscription(endpoint: str, *, user_id: int | None = None, report_id: int | None = None,
                 language: str = "id") -> PushSubscription:
    return Phone().subscription(endpoint, user_id=user_id, report_id=report_id, language=language)


def person(db: Session, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


@dataclass
class FakeResponse:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    text: str = ""


@dataclass
class Request:
    url: str
    data: bytes
    headers: dict[str, str]
    timeout: float | None


class FakeTransport:
    """Answers every POST with `answer(url)`: a FakeResponse to return or an exception to raise. Records what
    was sent, headers as the push service would see them."""

    def __init__(self, answer: Callable[[str], FakeResponse | Exception]) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def post(self, url: str, data: bytes | None = None, headers: dict | None = None,
             timeout: float | None = None) -> FakeResponse:
        with self._lock:
            self.requests.append(Request(url, data or b"", {k.lower(): v for k, v in (headers or {}).items()},
                                         timeout))
        answer = self.answer(url)
        if isinstance(answer, Exception):
            raise answer
        return answer
