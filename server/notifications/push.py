"""Web push: the VAPID key, the neutral payload, and one encrypted send to one device (pywebpush does the
encryption, RFC 8291, and we sign with VAPID, RFC 8292).

Nothing here knows about jobs; the dispatcher decides what to send and what a response means."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import threading
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPusher

from server import clock, i18n
from server.db import private_dir
from server.notifications.transport import (
    EndpointRefused,
    PushTimeout,
    PushTransport,
    check_endpoint,
    parse_allowed_hosts,
)
from server.service_info import ServiceInfo
from server.settings import Settings

log = logging.getLogger("bintang.push")
KEY_FILE = "vapid-private-key.txt"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def generate_private_key() -> str:
    """A new VAPID private key as base64url of its 32 raw bytes (what VAPID_PRIVATE_KEY holds)."""
    vapid = Vapid02()
    vapid.generate_keys()
    return _b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


def load_vapid(settings: Settings) -> Vapid02:
    """The key from VAPID_PRIVATE_KEY; in development, one generated on first use and kept in DATA_DIR."""
    text = settings.vapid_private_key
    if not text:
        path = Path(settings.data_dir) / KEY_FILE
        if not path.exists():
            private_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_private_key() + "\n")
        text = path.read_text().strip()
    return Vapid02.from_string(text)


def public_key(vapid: Vapid02) -> str:
    """The applicationServerKey a page passes to pushManager.subscribe()."""
    return _b64url(vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint))


# --- what a device shows ------------------------------------------------------------------------------------

REMINDER_KINDS_PREFIX = "reminder_"
DEFAULT_SERVICE_NAME = ServiceInfo.service_name


def neutral_text(kind: str, service_name: str) -> str:
    """What every push says, in the current language: the service's name and that there is something, nothing
    more (the name is checked for revealing words when a supervisor sets it)."""
    if kind.startswith(REMINDER_KINDS_PREFIX):
        return i18n.gettext("%(service)s: ada pengingat untuk Anda", service=service_name)
    if kind in ("check_in", "rating_invite"):  # after a case or session: the same few words whoever holds the phone
        return i18n.gettext("%(service)s: ada pesan baru", service=service_name)
    return i18n.gettext("%(service)s: ada kabar baru untuk Anda", service=service_name)


def payload(kind: str, url: str, tag: str, language: str, service_name: str = DEFAULT_SERVICE_NAME,
            ack: tuple[int, str] | None = None) -> bytes:
    """A small JSON message with a neutral title and text: never a name, a case detail or a category (a phone's
    lock screen may be seen by the person the child is afraid of). `ack`: the job's id and its ack_token, which the
    service worker sends back once the notification is shown (a laddered reminder's proof of arrival)."""
    with i18n.language(language):
        body = neutral_text(kind, service_name)
    message: dict[str, object] = {"title": service_name, "body": body, "url": url, "tag": tag}
    if ack is not None:
        message["ack"] = {"job": ack[0], "t": ack[1]}
    return json.dumps(message, separators=(",", ":")).encode()


def topic_key(secret_key: str) -> bytes:
    """The key topics are hashed with: derived from SECRET_KEY for this use only."""
    return hmac.new(secret_key.encode(), b"bintang-ceria push topic", hashlib.sha256).digest()


def opaque_topic(key: bytes, topic: str, endpoint: str) -> str:
    """What a push service and the device see of a job's topic ('report-7-urgent'): a keyed hash, the same for
    every message about the same thing to the same device (so the newer replaces the older), telling nothing of
    what the thing is, and not the same on two devices (a push service cannot link them by it). 24 bytes of
    HMAC-SHA256 in base64url: 32 characters, RFC 8030's limit for Topic."""
    digest = hmac.new(key, f"{endpoint}\n{topic}".encode(), hashlib.sha256).digest()
    return _b64url(digest[:24])


def ack_token(secret_key: str, job_id: int) -> str:
    """What a push carries besides its job's id so that the service worker's "shown" acknowledgement (POST
    /push/tampil) cannot be made up for another job: a keyed hash of the id, nothing else."""
    key = hmac.new(secret_key.encode(), b"bintang-ceria push ack", hashlib.sha256).digest()
    return _b64url(hmac.new(key, str(job_id).encode(), hashlib.sha256).digest()[:16])


# --- one send -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Outcome:
    """What a push service answered: `status` is 0 when no answer came (timeout, refused connection), -1 when
    nothing could be sent to the device, -2 when its endpoint names a host we do not connect to (not public)."""

    status: int
    retry_after: float | None = None
    reason: str = ""
    # WhatsApp and SMS (channels.py): the provider's id of the message, which its status reports name.
    message_id: str = ""

    @property
    def delivered(self) -> bool:
        return self.status in (200, 201, 202)

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)

    @property
    def blocked(self) -> bool:
        return self.status == -2

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds, from either form (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now if now is not None else clock.timestamp()))


class Sender:
    """Sends to push services over one HTTP session (connections are kept), signing VAPID once per push service
    origin and reusing the signature until shortly before it expires. `timeout` bounds each request in all (see
    transport.py), and only public hosts or PUSH_ALLOWED_HOSTS are sent to. `session` may be any object with
    requests' `post()`, which is how tests put faults on the line (the endpoint is still checked before)."""

    SIGNATURE_SECONDS = 12 * 3600

    def __init__(self, vapid: Vapid02, subject: str, *, timeout: float, session: Any = None,
                 allowed_hosts: tuple[str, ...] = (), secret_key: str = "",
                 channels: dict[str, Any] | None = None) -> None:
        self.vapid = vapid
        # The ladder's other channels that are configured (channels.messengers): "whatsapp", "sms".
        self.channels: dict[str, Any] = dict(channels or {})
        self.secret_key = secret_key
        self.subject = subject
        self.timeout = timeout
        self.allowed_hosts = parse_allowed_hosts(allowed_hosts)
        self.session = session if session is not None else PushTransport(allowed_hosts)
        self._topic_key = topic_key(secret_key)
        self._signatures: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = clock.timestamp()
        with self._lock:
            cached = self._signatures.get(audience)
            if cached is None or cached[0] - now < 600:
                expires = int(now) + self.SIGNATURE_SECONDS
                headers = self.vapid.sign({"aud": audience, "sub": self.subject, "exp": expires})
                cached = (expires, headers)
                self._signatures[audience] = cached
        return dict(cached[1])

    def topic(self, topic: str, endpoint: str) -> str:
        """The Topic header and notification tag for a job's topic on this device (see opaque_topic)."""
        return opaque_topic(self._topic_key, topic, endpoint)

    def send(self, device: Device, data: bytes, *, ttl: int, urgency: str, topic: str) -> Outcome:
        """One message to one device; `topic` goes on the wire as it is (make it with `topic()`)."""
        try:
            check_endpoint(device.endpoint, self.allowed_hosts)
        except EndpointRefused as exc:
            return Outcome(-2, reason=f"endpoint refused: {exc}")
        headers = self._vapid_headers(device.endpoint)
        headers["Urgency"] = urgency
        headers["Topic"] = topic
        # As the web-push reference library sends it; some push services refuse a body without a type.
        headers["Content-Type"] = "application/octet-stream"
        subscription = {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}}
        try:
            response = WebPusher(subscription, requests_session=self.session).send(
                data, headers, ttl=max(1, ttl), timeout=self.timeout
            )
        except EndpointRefused as exc:
            return Outcome(-2, reason=f"endpoint refused: {exc}")
        except (requests.Timeout, PushTimeout):
            return Outcome(0, reason="timeout")
        except (requests.RequestException, OSError, http.client.HTTPException) as exc:
            return Outcome(0, reason=f"connection: {type(exc).__name__}")
        except ValueError:
            # Keys that are no P-256 point (65 bytes pass the subscribe check) cannot be encrypted to, now or
            # later: refused, so that the job ends instead of being claimed again and re-sent to the other devices.
            return Outcome(-1, reason="unusable subscription keys")
        status = int(response.status_code)
        return Outcome(status, parse_retry_after(response.headers.get("Retry-After")),
                       reason=f"{status} {getattr(response, 'reason', '') or ''}".strip())
