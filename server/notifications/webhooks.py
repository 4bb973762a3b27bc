"""What the WhatsApp Cloud API and the SMS gateway tell us: delivery and read statuses of our messages, and people
who reply BERHENTI (or press the template's opt-out button).

A WhatsApp webhook is believed only with a valid `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the
app's secret); an SMS gateway's report only with its Bearer token. Nothing a webhook carries is logged but counts."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from server import clock
from server.notifications import consent, ladder


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is "sha256=<hex HMAC-SHA256 of body with app_secret>" (compared in constant time)."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def token_ok(expected: str, authorization: str | None) -> bool:
    if not expected or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(expected.encode(), authorization.removeprefix("Bearer ").strip().encode())


@dataclass
class Heard:
    statuses: int = 0  # status reports about our messages that changed something
    stopped: int = 0  # agreements withdrawn by a reply


def _when(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        return clock.now()


def _reply_text(message: dict[str, Any]) -> str:
    """The words of an inbound message: a text's body, a quick-reply button's payload or text, an interactive
    reply's title."""
    kind = message.get("type")
    found = message.get(kind) if isinstance(kind, str) else None
    part: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(part.get("body", ""))
    if kind == "button":
        return " ".join(str(part.get(key, "")) for key in ("payload", "text"))
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return " ".join(str(reply.get(key, "")) for key in ("id", "title")) if isinstance(reply, dict) else ""
    return ""


def _stops(words: str) -> bool:
    return consent.is_stop_word(words) or any(consent.is_stop_word(word) for word in words.split())


def whatsapp(session: Session, payload: object) -> Heard:
    """Apply a Cloud API webhook (object `whatsapp_business_account`, its entries' `messages` changes)."""
    heard = Heard()
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return heard
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and ladder.record_status(
                        session, "whatsapp", str(status.get("id", "")), str(status.get("status", "")),
                        _when(status.get("timestamp"))):
                    heard.statuses += 1
            for message in value.get("messages") or []:
                if isinstance(message, dict) and _stops(_reply_text(message)):
                    heard.stopped += consent.withdraw_number(session, "+" + str(message.get("from", "")).lstrip("+"),
                                                             how="berhenti" if message.get("type") == "text"
                                                             else "template")
    return heard


def sms(session: Session, payload: object) -> Heard:
    """An SMS gateway's report: `{"id": "...", "status": "delivered"|"failed"}` about a message, or `{"from":
    "+628...", "text": "BERHENTI"}` for a reply."""
    heard = Heard()
    if not isinstance(payload, dict):
        return heard
    if "status" in payload and ladder.record_status(session, "sms", str(payload.get("id", "")),
                                                   str(payload.get("status", ""))):
        heard.statuses += 1
    if "text" in payload and _stops(str(payload.get("text", ""))):
        heard.stopped += consent.withdraw_number(session, "+" + str(payload.get("from", "")).lstrip("+"), how="sms")
    return heard
