"""Passkeys (WebAuthn, the `webauthn` package) as a second way through two-factor sign-in for staff, beside the
code from the authenticator app, which stays the account's base: a passkey is registered only by an account with
two-factor sign-in on, after its password and a current code (as turning it off asks), and turning two-factor
sign-in off removes the account's passkeys.

Each challenge the server gives a browser is kept here (`webauthn_challenge`), not in the browser, until it is used
once (a conditional DELETE: two requests with one challenge, one wins) or CHALLENGE_MINUTES pass. A signature's
count must grow (or stay 0 for authenticators that keep none): a passkey whose count goes back was copied, and is
refused. Registering, using and removing a passkey are audited; a failed use counts as a wrong code for the sign-in
limits.

The relying party id is WEBAUTHN_RP_ID, or the host name the request came to; the origin expected is that host
with https when COOKIE_SECURE is on, else the request's own scheme (http://127.0.0.1 and localhost are secure
contexts in browsers; an IP address cannot be a relying party id, so tests use localhost).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import webauthn
from sqlalchemy import delete, select, update
from sqlmodel import Session, col
from webauthn.helpers import exceptions as webauthn_errors
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server import audit, clock, ratelimit
from server.accounts import service, two_factor
from server.accounts.models import Passkey, User, WebAuthnChallenge
from server.db import rows_changed
from server.forms import has_control_characters
from server.i18n import gettext as _
from server.settings import Settings

CHALLENGE_MINUTES = 5
NAME_LIMIT = 60
MAX_PASSKEYS = 10
CREDENTIAL_LIMIT = 20_000  # characters of the JSON a browser sends back: far more than any real credential


class PasskeyError(Exception):
    """Why a passkey could not be registered or used, in words for the person."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party(settings: Settings, *, host: str, scheme: str, name: str) -> RelyingParty:
    """Who passkeys are registered for: WEBAUTHN_RP_ID or the request's host name (without its port)."""
    host = host.strip().lower()
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    scheme = "https" if settings.cookie_secure else scheme
    return RelyingParty(settings.webauthn_rp_id or hostname, f"{scheme}://{host}", name)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _challenge_in(credential: dict[str, Any]) -> str:
    """The challenge the browser signed, read from its clientDataJSON (checked again by the library)."""
    try:
        client_data = credential["response"]["clientDataJSON"]
        raw = base64.urlsafe_b64decode(client_data + "=" * (-len(client_data) % 4))
        challenge = json.loads(raw)["challenge"]
    except (KeyError, TypeError, ValueError) as exc:
        raise PasskeyError(_("Passkey tidak bisa dibaca. Coba lagi.")) from exc
    if not isinstance(challenge, str) or len(challenge) > 100:
        raise PasskeyError(_("Passkey tidak bisa dibaca. Coba lagi."))
    return challenge


def _new_challenge(session: Session, user: User, purpose: str, now: datetime) -> bytes:
    session.execute(delete(WebAuthnChallenge).where(col(WebAuthnChallenge.expires_at) < now))
    session.execute(delete(WebAuthnChallenge).where(col(WebAuthnChallenge.user_id) == user.id,
                                                    col(WebAuthnChallenge.purpose) == purpose))
    raw = secrets.token_bytes(32)
    session.add(WebAuthnChallenge(id=hashlib.sha256(raw).hexdigest(), user_id=user.id, purpose=purpose,
                                  challenge=_b64(raw), expires_at=now + timedelta(minutes=CHALLENGE_MINUTES)))
    return raw


def _spend_challenge(session: Session, user: User, purpose: str, credential: dict[str, Any], now: datetime) -> bytes:
    """The challenge this credential answers, removed so it works once; PasskeyError if it is unknown, someone
    else's, for another purpose, used or expired."""
    challenge = _challenge_in(credential)
    try:
        raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
    except ValueError as exc:
        raise PasskeyError(_("Passkey tidak bisa dibaca. Coba lagi.")) from exc
    spent = rows_changed(session.execute(delete(WebAuthnChallenge).where(
        col(WebAuthnChallenge.id) == hashlib.sha256(raw).hexdigest(), col(WebAuthnChallenge.user_id) == user.id,
        col(WebAuthnChallenge.purpose) == purpose, col(WebAuthnChallenge.expires_at) > now)))
    if spent != 1:
        raise PasskeyError(_("Waktunya sudah habis atau permintaan ini sudah dipakai. Coba lagi."))
    return raw


def passkeys_of(session: Session, user_id: int) -> list[Passkey]:
    return list(session.execute(
        select(Passkey).where(col(Passkey.user_id) == user_id).order_by(col(Passkey.id))).scalars())


def _descriptors(session: Session, user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(p.credential_id))
            for p in passkeys_of(session, user.id)]


# --- registering ----------------------------------------------------------------------------------------------


def start_registration(session: Session, settings: Settings, user: User, rp: RelyingParty, *, password: str,
                       code: str, name: str, ip: str, device_cookie: str | None = None,
                       now: datetime | None = None) -> tuple[str | None, dict[str, str]]:
    """(the options for the browser as JSON, errors). Only for an account with two-factor sign-in on, after its
    password and a current code (or a recovery code), as turning two-factor sign-in off asks: a stolen session
    alone cannot add a way in."""
    now = now or clock.now()
    if not user.has_two_factor:
        return None, {"form": _("Aktifkan verifikasi dua langkah dengan aplikasi autentikator dulu.")}
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["passkey_name"] = _("Beri nama passkey ini, misalnya nama ponsel Anda.")
    elif len(name) > NAME_LIMIT or has_control_characters(name):
        errors["passkey_name"] = _("Nama paling banyak %(n)s huruf, tanpa tanda tak terlihat.", n=NAME_LIMIT)
    if len(passkeys_of(session, user.id)) >= MAX_PASSKEYS:
        errors["form"] = _("Sudah ada %(n)s passkey. Hapus satu dulu.", n=MAX_PASSKEYS)
    if errors:
        return None, errors
    proof = service.check_password_and_code(session, settings, user, password=password, code=code, ip=ip,
                                            device_cookie=device_cookie, now=now)
    if proof.errors:
        return None, proof.errors
    challenge = _new_challenge(session, user, "register", now)
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=user.username, user_id=str(user.id).encode(),
        user_display_name=user.display_name, challenge=challenge, timeout=CHALLENGE_MINUTES * 60_000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(session, user))
    return webauthn.options_to_json(options), {}


def finish_registration(session: Session, user: User, rp: RelyingParty, credential: Any, *, name: str, ip: str,
                        now: datetime | None = None) -> Passkey:
    """Check the new credential against the challenge given for it (once) and keep it; PasskeyError otherwise."""
    now = now or clock.now()
    if not isinstance(credential, dict) or len(json.dumps(credential)) > CREDENTIAL_LIMIT:
        raise PasskeyError(_("Passkey tidak bisa dibaca. Coba lagi."))
    name = name.strip()[:NAME_LIMIT] or _("Passkey")
    challenge = _spend_challenge(session, user, "register", credential, now)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            require_user_verification=True)
    except (webauthn_errors.InvalidRegistrationResponse, webauthn_errors.InvalidJSONStructure,
            webauthn_errors.InvalidCBORData, webauthn_errors.InvalidAuthenticatorDataStructure, ValueError,
            KeyError, TypeError) as exc:
        raise PasskeyError(_("Passkey ini tidak bisa didaftarkan. Coba lagi.")) from exc
    credential_id = _b64(verified.credential_id)
    if session.execute(select(col(Passkey.id)).where(col(Passkey.credential_id) == credential_id)).first() is not None:
        raise PasskeyError(_("Passkey ini sudah terdaftar."))
    passkey = Passkey(user_id=user.id, credential_id=credential_id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, name=name, created_at=now)
    session.add(passkey)
    session.flush()
    audit.record(session, "account.passkey_added", actor_id=user.id, actor_label=user.username,
                 object_type="user", object_id=user.id, ip=ip, passkey_id=passkey.id)
    return passkey


def remove(session: Session, user: User, passkey_id: int, *, ip: str) -> bool:
    """Remove one of one's own passkeys (a stranger's id removes nothing)."""
    removed = rows_changed(session.execute(
        delete(Passkey).where(col(Passkey.id) == passkey_id, col(Passkey.user_id) == user.id)))
    if removed:
        audit.record(session, "account.passkey_removed", actor_id=user.id, actor_label=user.username,
                     object_type="user", object_id=user.id, ip=ip, passkey_id=passkey_id)
    return bool(removed)


# --- signing in -----------------------------------------------------------------------------------------------


def signin_options(session: Session, token: str | None, rp: RelyingParty, now: datetime | None = None) -> str | None:
    """Options for a browser half signed in (its password step recent) to an account with passkeys; else None."""
    now = now or clock.now()
    found = two_factor.pending_user(session, token, now)
    if found is None:
        return None
    _pending, user = found
    allowed = _descriptors(session, user)
    if not allowed:
        return None
    challenge = _new_challenge(session, user, "signin", now)
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=CHALLENGE_MINUTES * 60_000, allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED)
    return webauthn.options_to_json(options)


def has_passkeys(session: Session, token: str | None, now: datetime | None = None) -> bool:
    found = two_factor.pending_user(session, token, now or clock.now())
    return found is not None and bool(passkeys_of(session, found[1].id))


def sign_in(session: Session, settings: Settings, rp: RelyingParty, *, token: str | None, credential: Any, ip: str,
            device_cookie: str | None = None, now: datetime | None = None) -> tuple[service.SignIn, str | None]:
    """The second step with a passkey instead of a code: as `service.sign_in_second_step`, the same limits."""
    now = now or clock.now()
    found = two_factor.pending_user(session, token, now)
    if found is None:
        return service.SignIn(error=_("Waktu untuk memasukkan kode sudah habis. Masuk lagi dari awal.")), None
    pending, user = found
    who = service.guesser(settings, username=user.username, ip=ip, device_cookie=device_cookie,
                          secret=service.code_key(user))
    if wait := ratelimit.guess_wait(session, who, now):
        service.limited(session, who, ip=ip, now=now, user=user)
        return service.SignIn(error=service.wait_message(wait), limited=True), pending.next_url
    try:
        passkey = _verify_use(session, user, rp, credential, now)
    except PasskeyError as exc:
        ratelimit.guess_failed(session, who, service.login_guesses(settings), now)
        audit.record(session, "signin.passkey_failed", actor_id=user.id, actor_label=user.username, ip=ip)
        session.commit()
        return service.SignIn(error=str(exc)), pending.next_url
    ratelimit.guess_succeeded(session, who)
    if token:
        two_factor.end_pending(session, token)
    audit.record(session, "account.passkey_used", actor_id=user.id, actor_label=user.username, object_type="user",
                 object_id=user.id, ip=ip, passkey_id=passkey.id)
    return service.signed_in(session, settings, user, ip=ip, now=now, device_cookie=device_cookie,
                             second_step="passkey"), pending.next_url


def _verify_use(session: Session, user: User, rp: RelyingParty, credential: Any, now: datetime) -> Passkey:
    if not isinstance(credential, dict) or len(json.dumps(credential)) > CREDENTIAL_LIMIT:
        raise PasskeyError(_("Passkey tidak bisa dibaca. Coba lagi."))
    challenge = _spend_challenge(session, user, "signin", credential, now)
    passkey = session.execute(select(Passkey).where(
        col(Passkey.credential_id) == str(credential.get("id", ""))[:400], col(Passkey.user_id) == user.id,
    )).scalar_one_or_none()
    if passkey is None:
        raise PasskeyError(_("Passkey ini tidak terdaftar untuk akun Anda."))
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
            require_user_verification=True)
    except (webauthn_errors.InvalidAuthenticationResponse, webauthn_errors.InvalidJSONStructure,
            webauthn_errors.InvalidCBORData, webauthn_errors.InvalidAuthenticatorDataStructure, ValueError,
            KeyError, TypeError) as exc:
        raise PasskeyError(_("Passkey tidak cocok. Coba lagi, atau pakai kode dari aplikasi.")) from exc
    # The count must grow (0 stays 0 for authenticators that keep none); conditional, so a copy used at the
    # same moment as the original is refused one of the two times.
    new_count = verified.new_sign_count
    grows = (col(Passkey.sign_count) < new_count) if new_count > 0 else (col(Passkey.sign_count) == 0)
    changed = rows_changed(session.execute(update(Passkey).where(col(Passkey.id) == passkey.id, grows)
                              .values(sign_count=new_count, last_used_at=now)
                              .execution_options(synchronize_session=False)))
    if changed != 1:
        raise PasskeyError(_("Passkey tidak cocok. Coba lagi, atau pakai kode dari aplikasi."))
    return passkey
