"""The channels above push on the ladder (ladder.py): the WhatsApp Business Cloud API and an SMS HTTP gateway. One
send each, answered as push's `Outcome` (200 accepted, 429/5xx/0 tried again by the dispatcher, anything else
refused), so that the dispatcher's retries and records work the same for every channel.

What the messages say is as discreet as a push: that there is a reminder, from the service only when the person
chose to see its name; never a name, a time, a place or anything of a case (a phone's lock screen and a shared
WhatsApp are read by others).

WhatsApp: `POST {WHATSAPP_API_URL}/{version}/{phone-number-id}/messages` with `Authorization: Bearer <token>` and a
*template* message (Meta requires an approved template outside the 24-hour customer-service window; ours is a
utility template with one body parameter, the sender). Meta answers `{"messages": [{"id": "wamid..."}]}`; its
rate limits come back as HTTP 429 or as error codes 4, 80007, 130429, 131048 and 131056, all retried later.

SMS: `POST SMS_GATEWAY_URL` with `Authorization: Bearer <token>` and `{"to": "+628...", "text": "...",
"reference": "<job id>"}`; a 2xx answer (optionally `{"id": "..."}`) is accepted, 429 and 5xx are retried."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from server import i18n
from server.notifications.push import Outcome, parse_retry_after
from server.settings import Settings

log = logging.getLogger("bintang.channels")

# Meta's error codes for throttling (the business's, the app's, the pair's) and a spam rate limit: try later.
WHATSAPP_RATE_LIMITED = frozenset({4, 80007, 130429, 131048, 131056})


def sender_label(service_name: str, show_service_name: bool) -> str:
    """The template's one parameter: the service's name if the person chose to see it, else a neutral word."""
    return service_name if show_service_name else i18n.gettext("Pengingat")


def sms_text(service_name: str, show_service_name: bool) -> str:
    if show_service_name:
        return i18n.gettext("%(service)s: ada pengingat jadwal untuk Anda. Buka aplikasinya untuk melihat. "
                            "Balas BERHENTI untuk berhenti.", service=service_name)
    return i18n.gettext("Ada pengingat jadwal untuk Anda. Buka aplikasinya untuk melihat. Balas BERHENTI untuk "
                        "berhenti.")


class Messenger(Protocol):
    channel: str

    def send(self, phone: str, *, reference: int, service_name: str, show_service_name: bool,
             language: str) -> Outcome: ...


def _post(url: str, *, token: str, body: dict[str, Any], timeout: float) -> requests.Response | Outcome:
    try:
        return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except requests.Timeout:
        return Outcome(0, reason="timeout")
    except (requests.RequestException, OSError) as exc:
        return Outcome(0, reason=f"connection: {type(exc).__name__}")


@dataclass
class WhatsApp:
    api_url: str
    version: str
    phone_number_id: str
    token: str
    template: str
    template_language: str = "id"
    timeout: float = 10.0
    channel: str = "whatsapp"

    # `reference` is the Channel's signature: the SMS gateway is sent it; WhatsApp's statuses name its own message id.
    def send(self, phone: str, *, reference: int, service_name: str, show_service_name: bool,  # noqa: ARG002
             language: str) -> Outcome:
        with i18n.language(language):
            label = sender_label(service_name, show_service_name)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": phone.lstrip("+"),
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": self.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": label}]}],
            },
        }
        answer = _post(f"{self.api_url}/{self.version}/{self.phone_number_id}/messages", token=self.token,
                       body=body, timeout=self.timeout)
        if isinstance(answer, Outcome):
            return answer
        return whatsapp_outcome(answer.status_code, _json(answer), answer.headers.get("Retry-After"))


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def whatsapp_outcome(status: int, data: dict[str, Any], retry_after: str | None = None) -> Outcome:
    """What a Cloud API answer means for the dispatcher (the error's code and title, never the message sent)."""
    if status in (200, 201, 202):
        messages = data.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        message_id = first.get("id", "") if isinstance(first, dict) else ""
        return Outcome(200, reason="accepted", message_id=str(message_id)[:128])
    found = data.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = error.get("code")
    cause = f"{status} whatsapp error {code}: {str(error.get('message', ''))[:80]}".strip()
    if status == 429 or code in WHATSAPP_RATE_LIMITED:
        return Outcome(429, parse_retry_after(retry_after), reason=cause)
    return Outcome(status, reason=cause)


@dataclass
class Sms:
    url: str
    token: str
    timeout: float = 10.0
    channel: str = "sms"

    def send(self, phone: str, *, reference: int, service_name: str, show_service_name: bool,
             language: str) -> Outcome:
        with i18n.language(language):
            text = sms_text(service_name, show_service_name)
        answer = _post(self.url, token=self.token, body={"to": phone, "text": text, "reference": str(reference)},
                       timeout=self.timeout)
        if isinstance(answer, Outcome):
            return answer
        status = answer.status_code
        if 200 <= status < 300:
            return Outcome(200, reason="accepted", message_id=str(_json(answer).get("id", ""))[:128])
        return Outcome(status, parse_retry_after(answer.headers.get("Retry-After")), reason=f"{status} sms gateway")


def messengers(settings: Settings) -> dict[str, Messenger]:
    """The channels that are configured; each is off until its settings are given."""
    found: dict[str, Messenger] = {}
    if settings.whatsapp_on:
        found["whatsapp"] = WhatsApp(settings.whatsapp_api_url, settings.whatsapp_api_version,
                                     settings.whatsapp_phone_number_id, settings.whatsapp_token,
                                     settings.whatsapp_template, settings.whatsapp_template_language,
                                     timeout=settings.push_timeout_seconds)
    if settings.sms_on:
        found["sms"] = Sms(settings.sms_gateway_url, settings.sms_gateway_token, timeout=settings.push_timeout_seconds)
    return found
