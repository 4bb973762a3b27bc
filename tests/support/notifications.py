"""Helpers for the push subscription tests: a device's subscription and sending it as the page does."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.web import csrf_token


def device(n: int = 1, *, host: str = "push.example.net") -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"https://{host}/send/device-{n}", "keys": {"p256dh": b64(key), "auth": b64(os.urandom(16))}}


def send(client, path: str, body: dict, **headers):
    token = csrf_token(client, "/")
    return client.post(path, json=body, headers={"X-CSRFToken": token, **headers})


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
