"""Notification pages and the push subscription endpoints.

/notifikasi              the in-app list (the same items push sends, for every device)
/notifikasi/pengaturan   this person's devices; turn push off on one, or on this one
/push/kunci              the VAPID public key a page subscribes with
/push/langganan          a page sends this device's subscription (on opting in, and again on each visit)
/push/berhenti           this device no longer wants push
/push/ganti              the service worker's `pushsubscriptionchange`: no cookies to prove who it is, so the old
                         endpoint (known only to this device) is the proof, and nothing new is created
/push/tampil             the service worker showed a laddered reminder: its job id and the token the push carried
/whatsapp/webhook        Meta's verification handshake (GET) and its signed status and message webhooks (POST)
/sms/laporan             the SMS gateway's delivery reports and replies (Bearer token)

Every page here is private (no-store) and belongs to whoever is let in: a signed-in person or a case code holder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import anyio
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.accounts.visitor import Visitor, visitor_of
from server.db import DB
from server.forms import many, one
from server.i18n import current_language
from server.notifications import consent, ladder, service, webhooks
from server.notifications.push import ack_token, load_vapid, public_key
from server.privacy import phone as phones
from server.web import PRIVATE, Form, client_ip, page

SUBSCRIPTION_BODY_LIMIT = 4096
WEBHOOK_BODY_LIMIT = 256 * 1024


def _owner_or_sign_in(request: Request) -> Visitor:
    owner = visitor_of(request)
    if not owner:
        raise NotAuthorizedException()
    return owner


def _battery_note(db: Session, request: Request, owner: Visitor) -> bool:
    """The Android battery-settings note: the person's last pushed reminders went unshown twice in a row."""
    return ladder.pushes_go_unshown(db, user_id=owner.user.id if owner.user else None,
                                    report_id=None if owner.user else owner.case_report_id,
                                    wait=timedelta(minutes=request.app.state.settings.ladder_push_wait_minutes))


class NotificationController(Controller):
    opt = PRIVATE
    path = "/notifikasi"

    @get("/", name="notifications", sync_to_thread=True)
    def notifications(self, request: Request, db: DB) -> Any:
        owner = _owner_or_sign_in(request)
        items = service.inbox(db, owner)
        unread = {item.id for item in items if item.read_at is None}
        service.mark_read(db, owner)
        db.commit()
        kamu = service.speaks_to_a_child(visitor_of(request))
        return page(request, "notifications/list.html", items=items, unread=unread,
                    describe=lambda kind: service.describe(kind, kamu=kamu))

    @get("/pengaturan", name="notification_settings", sync_to_thread=True)
    def settings_page(self, request: Request, db: DB) -> Any:
        owner = _owner_or_sign_in(request)
        agreed = consent.of(db, owner)
        form = {"nomor": phones.shown(agreed.phone) if agreed else "",
                "saluran": [c for c in ("whatsapp", "sms") if agreed and getattr(agreed, c)],
                "nama": ["1"] if agreed and agreed.show_service_name else []}
        return page(request, "notifications/settings.html", devices=service.devices_of(db, owner), agreed=agreed,
                    consent_form=form, errors={}, battery_note=_battery_note(db, request, owner))

    @post("/nomor", sync_to_thread=True)
    def consent_form(self, request: Request, db: DB, state: State, data: Form) -> Any:
        """The person's own agreement to WhatsApp/SMS reminders (only for themselves: a child ticks it on their own
        account, nobody for another)."""
        owner = _owner_or_sign_in(request)
        number, channels, named = one(data, "nomor")[:40], many(data, "saluran"), many(data, "nama")
        form = {"nomor": number, "saluran": channels, "nama": named}
        try:
            consent.agree(db, owner, number=number, whatsapp="whatsapp" in channels, sms="sms" in channels,
                          show_service_name="1" in named,
                          ip=client_ip(request.scope, state.settings))
        except consent.ConsentError as exc:
            db.rollback()
            return page(request, "notifications/settings.html", status_code=422, devices=service.devices_of(db, owner),
                        agreed=consent.of(db, owner), consent_form=form, errors={"nomor": str(exc)},
                        battery_note=_battery_note(db, request, owner))
        db.commit()
        return Redirect("/notifikasi/pengaturan?nomor=1#nomor", status_code=303)

    @post("/perangkat/{device_id:int}/hapus", sync_to_thread=True)
    def remove_device(self, request: Request, db: DB, device_id: FromPath[int]) -> Any:
        owner = _owner_or_sign_in(request)
        service.remove_device(db, owner, device_id)
        db.commit()
        return Redirect("/notifikasi/pengaturan?dihapus=1", status_code=303)


class PushController(Controller):
    path = "/push"

    @get("/kunci", name="push_key", sync_to_thread=True)
    def key(self, state: State) -> dict[str, str]:
        return {"publicKey": public_key(load_vapid(state.settings))}

    @post("/langganan", status_code=200, sync_to_thread=True, request_max_body_size=SUBSCRIPTION_BODY_LIMIT)
    def subscribe(self, request: Request, db: DB, state: State,
                  data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
        owner = visitor_of(request)
        if not owner:
            return Response({"ok": False, "error": "not signed in"}, status_code=401)
        try:
            service.subscribe(db, owner, data, language=current_language(),
                              user_agent=request.headers.get("user-agent", ""),
                              allowed_hosts=state.settings.push_allowed_hosts)
        except service.SubscriptionError as exc:
            return Response({"ok": False, "error": str(exc)}, status_code=422)
        db.commit()
        return Response({"ok": True})

    @post("/berhenti", status_code=200, sync_to_thread=True, request_max_body_size=SUBSCRIPTION_BODY_LIMIT)
    def unsubscribe(self, db: DB, data: JSONBody[dict[str, Any]]) -> dict[str, bool]:
        endpoint = data.get("endpoint")
        removed = isinstance(endpoint, str) and service.unsubscribe(db, endpoint)
        db.commit()
        return {"ok": True, "removed": bool(removed)}

    @post("/ganti", status_code=200, sync_to_thread=True, request_max_body_size=SUBSCRIPTION_BODY_LIMIT,
          opt={"exclude_from_csrf": True})
    def change(self, db: DB, state: State, data: JSONBody[dict[str, Any]]) -> Response[dict[str, bool]]:
        old = data.get("oldEndpoint")
        try:
            changed = isinstance(old, str) and service.change(db, old, data.get("subscription"),
                                                               allowed_hosts=state.settings.push_allowed_hosts)
        except service.SubscriptionError:
            return Response({"ok": False}, status_code=422)
        db.commit()
        return Response({"ok": bool(changed)}, status_code=200 if changed else 404)

    @post("/tampil", status_code=200, sync_to_thread=True, request_max_body_size=256,
          opt={"exclude_from_csrf": True})
    def shown(self, db: DB, state: State, data: JSONBody[dict[str, Any]]) -> Response[dict[str, bool]]:
        """The service worker showed a notification; the token it carried proves which job (no cookie, no
        content)."""
        job, token = data.get("job"), data.get("t")
        if not isinstance(job, int) or not isinstance(token, str) or token != ack_token(state.settings.secret_key, job):
            return Response({"ok": False}, status_code=403)
        ladder.acknowledge_shown(db, job)
        db.commit()
        return Response({"ok": True})


class WhatsAppWebhookController(Controller):
    path = "/whatsapp/webhook"

    @get("/", sync_to_thread=False, media_type=MediaType.TEXT)
    def verify(self, request: Request, state: State) -> Response[str]:
        """Meta's subscription check: hub.challenge echoed when hub.verify_token is ours."""
        params = request.query_params
        expected = state.settings.whatsapp_verify_token
        if (params.get("hub.mode") == "subscribe" and expected and params.get("hub.verify_token") == expected
                and params.get("hub.challenge")):
            return Response(str(params.get("hub.challenge")), media_type=MediaType.TEXT)
        return Response("forbidden", status_code=403, media_type=MediaType.TEXT)

    @post("/", status_code=200, request_max_body_size=WEBHOOK_BODY_LIMIT, opt={"exclude_from_csrf": True})
    async def receive(self, request: Request, state: State) -> Response[dict[str, bool]]:
        body = await request.body()
        if not webhooks.signature_ok(state.settings.whatsapp_app_secret, body,
                                     request.headers.get("x-hub-signature-256")):
            return Response({"ok": False}, status_code=403)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response({"ok": False}, status_code=400)
        await anyio.to_thread.run_sync(_apply, state.engine, webhooks.whatsapp, payload)
        return Response({"ok": True})


class SmsReportController(Controller):
    path = "/sms/laporan"

    @post("/", status_code=200, request_max_body_size=WEBHOOK_BODY_LIMIT, opt={"exclude_from_csrf": True})
    async def receive(self, request: Request, state: State) -> Response[dict[str, bool]]:
        if not webhooks.token_ok(state.settings.sms_gateway_token, request.headers.get("authorization")):
            return Response({"ok": False}, status_code=403)
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return Response({"ok": False}, status_code=400)
        await anyio.to_thread.run_sync(_apply, state.engine, webhooks.sms, payload)
        return Response({"ok": True})


def _apply(engine: Engine, handle: Callable[[Session, object], webhooks.Heard], payload: object) -> None:
    with Session(engine) as session:
        handle(session, payload)
        session.commit()
