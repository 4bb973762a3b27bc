"""A local stand-in for the WhatsApp Business Cloud API and an SMS gateway, for tests and the bench: a real HTTP
server on 127.0.0.1 (in a thread of the test process) that takes what the app sends in the Cloud API's own request
format, answers as Meta does (the message's `wamid`, or Meta's error objects: 429 and error 130429 for a rate limit,
131026 for an undeliverable number), and makes the webhooks Meta would send about it (statuses `sent`, `delivered`,
`read`; an inbound text or quick-reply button), signed with `X-Hub-Signature-256` as Meta signs them. The SMS side
takes `{"to", "text", "reference"}` with a Bearer token and answers `{"id": ...}`.

Faults are queued: `fail_next("whatsapp", 429)` answers the next WhatsApp request with a rate-limit error, then
normally again."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

TOKEN = "stand-in-access-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_SECRET = "stand-in-app-secret"
SMS_TOKEN = "stand-in-sms-token"
VERSION = "v21.0"

META_ERRORS = {
    429: (429, {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
                "error_data": {"messaging_product": "whatsapp", "details": "Cloud API message throughput has been "
                                                                           "reached."}, "fbtrace_id": "AbCdEf"}),
    131056: (400, {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                   "type": "OAuthException", "code": 131056, "fbtrace_id": "AbCdEg"}),
    131026: (400, {"message": "Message undeliverable", "type": "OAuthException", "code": 131026,
                   "fbtrace_id": "AbCdEh"}),
    401: (401, {"message": "Error validating access token", "type": "OAuthException", "code": 190,
                "fbtrace_id": "AbCdEi"}),
}


@dataclass
class Sent:
    channel: str
    to: str
    body: dict[str, Any]
    message_id: str


@dataclass
class StandIn:
    """What arrived (accepted or not: `requests` counts every request) and what was accepted (`sent`)."""

    sent: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _faults: dict[str, deque[int]] = field(default_factory=lambda: {"whatsapp": deque(), "sms": deque()})
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    # --- what the app's settings need -----------------------------------------------------------------------

    @property
    def whatsapp_settings(self) -> dict[str, str]:
        return dict(whatsapp_token=TOKEN, whatsapp_phone_number_id=PHONE_NUMBER_ID, whatsapp_app_secret=APP_SECRET,
                    whatsapp_template="pengingat_jadwal", whatsapp_api_url=self.base_url,
                    whatsapp_api_version=VERSION, whatsapp_verify_token="kata-verifikasi")

    @property
    def sms_settings(self) -> dict[str, str]:
        return dict(sms_gateway_url=f"{self.base_url}/sms/send", sms_gateway_token=SMS_TOKEN)

    def fail_next(self, channel: str, code: int) -> None:
        self._faults[channel].append(code)

    def of(self, channel: str) -> list[Sent]:
        with self._lock:
            return [sent for sent in self.sent if sent.channel == channel]

    # --- the webhooks Meta and a gateway send ----------------------------------------------------------------

    @staticmethod
    def sign(body: bytes, secret: str = APP_SECRET) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    @staticmethod
    def _webhook(value: dict[str, Any]) -> bytes:
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID}, **value}
        return json.dumps({"object": "whatsapp_business_account", "entry": [
            {"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}]}).encode()

    def status_webhook(self, sent: Sent, status: str, timestamp: int = 1796000000) -> bytes:
        """Meta's status notification about one message: sent, delivered, read or failed."""
        item: dict[str, Any] = {"id": sent.message_id, "status": status, "timestamp": str(timestamp),
                                "recipient_id": sent.to}
        if status in ("sent", "delivered"):
            item["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "utility"}}
            item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
        if status == "failed":
            item["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
        return self._webhook({"statuses": [item]})

    def post_status(self, webhook_url: str, sent: Sent, status: str) -> int:
        """Post Meta's signed status notification about `sent` to the app's webhook, as Meta does; returns the
        app's answer's status code."""
        body = self.status_webhook(sent, status)
        return httpx.post(webhook_url, content=body, timeout=10.0, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)}).status_code

    def text_webhook(self, from_number: str, text: str) -> bytes:
        """A person's message to the business number (e.g. BERHENTI)."""
        return self._webhook({
            "contacts": [{"profile": {"name": "Kontak"}, "wa_id": from_number.lstrip("+")}],
            "messages": [{"from": from_number.lstrip("+"), "id": "wamid.inbound", "timestamp": "1796000000",
                          "type": "text", "text": {"body": text}}]})

    def button_webhook(self, from_number: str, payload: str, text: str) -> bytes:
        """A press of the template's quick-reply button (its opt-out)."""
        return self._webhook({"messages": [{
            "from": from_number.lstrip("+"), "id": "wamid.button", "timestamp": "1796000000", "type": "button",
            "context": {"from": "15550783881", "id": "wamid.original"}, "button": {"payload": payload, "text": text}}]})

    # --- the server ------------------------------------------------------------------------------------------

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if path == f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
                self.requests.append(("whatsapp", body))
                if headers.get("authorization") != f"Bearer {TOKEN}":
                    status, error = META_ERRORS[401]
                    return status, {"error": error}
                template = body.get("template") or {}
                if (body.get("messaging_product") != "whatsapp" or body.get("type") != "template"
                        or not template.get("name") or not (template.get("language") or {}).get("code")
                        or not str(body.get("to", "")).isdigit()):
                    return 400, {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException",
                                           "code": 100}}
                if self._faults["whatsapp"]:
                    status, error = META_ERRORS[self._faults["whatsapp"].popleft()]
                    return status, {"error": error}
                sent = Sent("whatsapp", str(body["to"]), body, f"wamid.HBgN{next(self._ids):06d}")
                self.sent.append(sent)
                return 200, {"messaging_product": "whatsapp", "contacts": [{"input": sent.to, "wa_id": sent.to}],
                             "messages": [{"id": sent.message_id, "message_status": "accepted"}]}
            if path == "/sms/send":
                self.requests.append(("sms", body))
                if headers.get("authorization") != f"Bearer {SMS_TOKEN}":
                    return 401, {"error": "unauthorized"}
                if self._faults["sms"]:
                    return self._faults["sms"].popleft(), {"error": "try later"}
                if not str(body.get("to", "")).startswith("+") or not body.get("text"):
                    return 400, {"error": "to and text are required"}
                sent = Sent("sms", str(body["to"]), body, f"sms-{next(self._ids)}")
                self.sent.append(sent)
                return 200, {"id": sent.message_id, "status": "queued"}
        return 404, {"error": "no such path"}


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer = stand_in.answer(self.path, headers, body if isinstance(body, dict) else {})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    # The dispatcher sends up to 128 messages at once: a listen backlog of 5 would refuse most of a burst.
    request_queue_size = 512


@contextmanager
def messaging_stand_in() -> Iterator[StandIn]:
    stand_in = StandIn()
    server = _Server(("127.0.0.1", 0), _handler(stand_in))
    server.daemon_threads = True
    stand_in.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="messaging-stand-in", daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
