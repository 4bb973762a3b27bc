"""Helpers for the push tests: a device's subscription, sending it as the page does, subscribing at the local push
service, and a job's topic as the push service sees it."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server import worker
from tests.pushservice import Client, PushService
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


def tag(settings, topic: str, device: Client) -> str:
    """The job's topic as the push service and the phone see it: a keyed hash (server/notifications/push.py)."""
    return worker.make_sender(settings).topic(topic, device.endpoint)


def subscribe(client, push: PushService) -> Client:
    """What the page does on opting in: read the key, subscribe at the push service, send the subscription."""
    key = client.get("/push/kunci").json()["publicKey"]
    device = push.subscribe(key)
    response = client.post("/push/langganan", json=device.subscription,
                           headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    return device
