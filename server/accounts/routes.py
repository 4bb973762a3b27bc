"""Sign-in (password, then a code for accounts with two-factor sign-in), sign-out and the account page.
Thin: the rules are in service.py, auth.py and two_factor.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from server import clock, service_info
from server.accounts import auth, passkeys, service, two_factor
from server.accounts.forms import CodeForm, PasswordChangeForm, SetupForm, SignInForm, TwoFactorForm
from server.accounts.models import User
from server.accounts.visitor import session_tokens
from server.db import DB, existing
from server.i18n import gettext as _
from server.routes import safe_next
from server.web import (
    PRIVATE,
    TextForm,
    cookie,
    device_cookie,
    drop_cookie,
    ip,
    page,
    set_cookie,
    set_device_cookie,
)

# The half-signed-in browser's token: only the code page reads it.
PENDING_COOKIE = "bc_signin"

ENROL_PATH = "/akun/dua-langkah"

Json = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON)]


def _session_cookie(response: Response, token: str, state: State) -> None:
    set_cookie(response, auth.SESSION_COOKIE, token, state.settings)


def _signed_in_response(db: DB, request: Request, state: State, result: service.SignIn, next_url: str | None, *,
                        as_json: bool = False) -> Response:
    """Start the session; a redirect to where the person was going, or (for passkey.js) JSON naming it."""
    if result.user is None:
        raise ValueError("a refused sign-in starts no session")
    token = auth.start_session(db, result.user, ip=ip(request),
                               previous_token=session_tokens(request)[0])
    db.commit()
    target = ENROL_PATH if result.enrol else safe_next(next_url)
    response = _json({"next": target}) if as_json else Redirect(target, status_code=303)
    _session_cookie(response, token, state)
    if result.device_cookie:
        set_device_cookie(response, result.device_cookie, state.settings)
    return response


def _enrol_page(request: Request, db: DB, state: State, user: User, *, secret: str | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Any:
    requirement = two_factor.requirement_for(db, state.settings, user)
    context: dict[str, Any] = {"person": user, "errors": errors or {}, "requirement": requirement,
                               "grace_shown": state.settings.is_production and not user.has_two_factor}
    if user.has_two_factor:
        context["codes_left"] = two_factor.recovery_codes_left(db, user.id)
        context["passkeys"] = passkeys.passkeys_of(db, user.id)
    else:
        secret = secret if secret and two_factor.is_secret(secret) else two_factor.new_secret()
        issuer = service_info.current(state.engine).service_name
        uri = two_factor.provisioning_uri(secret, username=user.username, issuer=issuer)
        qr = two_factor.qr_svg(uri, title=_("Kode QR untuk aplikasi autentikator"))
        context.update(secret=secret, grouped_secret=two_factor.grouped(secret), qr=qr)
    return page(request, "accounts/two_factor.html", status_code=status, **context)


def _rp(request: Request, state: State) -> passkeys.RelyingParty:
    return passkeys.relying_party(state.settings, host=request.headers.get("host", ""), scheme=request.url.scheme,
                                  name=service_info.current(state.engine).service_name)


def _json(content: Any, status: int = 200) -> Response:
    return Response(content, status_code=status, media_type="application/json")


def _setup_page(request: Request, state: State, found: tuple[Any, User], *, token: str,
                secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    link, user = found
    secret = secret if secret and two_factor.is_secret(secret) else two_factor.new_secret()
    issuer = service_info.current(state.engine).service_name
    uri = two_factor.provisioning_uri(secret, username=user.username, issuer=issuer)
    qr = two_factor.qr_svg(uri, title=_("Kode QR untuk aplikasi autentikator"))
    return page(request, "accounts/setup.html", status_code=status, person=user, token=token, secret=secret,
                grouped_secret=two_factor.grouped(secret), qr=qr, expires_at=link.expires_at, errors=errors or {})


def _setup_gone(request: Request, db: DB) -> Any:
    service.setup_link_refused(db, ip=ip(request))
    return page(request, "accounts/setup_gone.html", status_code=410)


class AccountController(Controller):
    @get("/masuk", name="signin")
    async def signin_form(self, request: Request,
                          next_url: Annotated[str | None, QueryParameter(name="lanjut")] = None) -> Any:
        if request.user is not None:
            return Redirect(safe_next(next_url), status_code=303)
        return page(request, "accounts/signin.html", form={"lanjut": next_url or ""}, errors={})

    @post("/masuk", sync_to_thread=True)
    def signin(self, request: Request, data: TextForm, db: DB, state: State) -> Any:
        form = SignInForm.from_data(data)
        result = service.sign_in(
            db, state.settings, username=form.username, password=form.password, ip=ip(request),
            next_url=form.lanjut, device_cookie=device_cookie(request, state.settings),
        )
        if result.pending_token:
            db.commit()
            response = Redirect("/masuk/kode", status_code=303)
            set_cookie(response, PENDING_COOKIE, result.pending_token, state.settings, path="/masuk", prefixed=False)
            return response
        if result.user is None:
            db.commit()
            status = 429 if result.limited else 403 if result.refused else 422
            return page(request, "accounts/signin.html", status_code=status,
                        form={"username": form.username, "lanjut": form.lanjut}, errors={"form": result.error})
        return _signed_in_response(db, request, state, result, form.lanjut)

    @get("/masuk/kode", name="signin_code", opt=PRIVATE, sync_to_thread=True)
    def signin_code_form(self, request: Request, db: DB) -> Any:
        token = cookie(request, PENDING_COOKIE, request.app.state.settings, prefixed=False)
        if two_factor.pending_user(db, token, clock.now()) is None:
            return Redirect("/masuk", status_code=303)
        return page(request, "accounts/signin_code.html", errors={}, has_passkeys=passkeys.has_passkeys(db, token))

    @post("/masuk/kode", opt=PRIVATE, sync_to_thread=True)
    def signin_code(self, request: Request, data: TextForm, db: DB, state: State) -> Any:
        token = cookie(request, PENDING_COOKIE, state.settings, prefixed=False)
        result, next_url = service.sign_in_second_step(
            db, state.settings, token=token, code=CodeForm.from_data(data).code, ip=ip(request),
            device_cookie=device_cookie(request, state.settings),
        )
        if result.user is None:
            if next_url is None:
                # The password step is too old or unknown: start again, saying why.
                return page(request, "accounts/signin.html", status_code=422, form={"username": "", "lanjut": ""},
                            errors={"form": result.error})
            return page(request, "accounts/signin_code.html", status_code=429 if result.limited else 422,
                        errors={"code": result.error}, has_passkeys=passkeys.has_passkeys(db, token))
        response = _signed_in_response(db, request, state, result, next_url)
        response.delete_cookie(PENDING_COOKIE, path="/masuk")
        return response

    # The second step with a passkey (static/js/passkey.js): options for the half-signed-in browser, then the
    # signed answer. JSON both ways; the CSRF token rides in the X-CSRFToken header.
    @post("/masuk/passkey/opsi", opt=PRIVATE, sync_to_thread=True)
    def passkey_signin_options(self, request: Request, db: DB, state: State) -> Response:
        options = passkeys.signin_options(db, cookie(request, PENDING_COOKIE, state.settings, prefixed=False), _rp(request, state))
        db.commit()
        if options is None:
            return _json({"error": _("Waktu untuk memasukkan kode sudah habis. Masuk lagi dari awal.")}, 422)
        return _json({"options": options})

    @post("/masuk/passkey", opt=PRIVATE, sync_to_thread=True)
    def passkey_signin(self, request: Request, data: Json, db: DB, state: State) -> Response:
        token = cookie(request, PENDING_COOKIE, state.settings, prefixed=False)
        result, next_url = passkeys.sign_in(
            db, state.settings, _rp(request, state), token=token, credential=data.get("credential"),
            ip=ip(request), device_cookie=device_cookie(request, state.settings))
        if result.user is None:
            db.commit()
            return _json({"error": result.error, "restart": next_url is None}, 429 if result.limited else 422)
        response = _signed_in_response(db, request, state, result, next_url or "", as_json=True)
        response.delete_cookie(PENDING_COOKIE, path="/masuk")
        return response

    # The first supervisor's one-time link (`bintang setup-link`). The token rides in the query string, which
    # no log of ours keeps, and the page is private (no-store, no referrer).
    @get(service.SETUP_LINK_PATH, name="account_setup", opt=PRIVATE, sync_to_thread=True)
    def setup_form(self, request: Request, db: DB, state: State, t: FromQuery[str | None] = None) -> Any:
        found = service.setup_link_for(db, t)
        if found is None:
            return _setup_gone(request, db)
        return _setup_page(request, state, found, token=t or "")

    @post(service.SETUP_LINK_PATH, opt=PRIVATE, sync_to_thread=True)
    def setup(self, request: Request, data: TextForm, db: DB, state: State) -> Any:
        form = SetupForm.from_data(data)
        token = form.t
        result = service.complete_setup(
            db, state.settings, token=token, password=form.password, repeat=form.repeat,
            secret=form.secret, code=form.code, ip=ip(request),
            device_cookie=device_cookie(request, state.settings),
        )
        if result.gone:
            return _setup_gone(request, db)
        if result.errors or result.user is None:  # no user without errors
            found = service.setup_link_for(db, token)
            if found is None:
                return _setup_gone(request, db)
            return _setup_page(request, state, found, token=token, secret=form.secret,
                               errors=result.errors, status=422)
        session_token = auth.start_session(
            db, result.user, ip=ip(request),
            previous_token=session_tokens(request)[0])
        db.commit()
        response = page(request, "accounts/recovery_codes.html", codes=result.recovery_codes, set_up=True)
        _session_cookie(response, session_token, state)
        if result.device_cookie:
            set_device_cookie(response, result.device_cookie, state.settings)
        return response

    @post("/keluar-akun", name="signout", sync_to_thread=True)
    def signout(self, request: Request, db: DB, state: State) -> Redirect:
        token = session_tokens(request)[0]
        if token:
            auth.end_session(db, token)
            db.commit()
        response = Redirect("/", status_code=303)
        drop_cookie(response, auth.SESSION_COOKIE, state.settings)
        return response

    @get("/akun", name="account", guards=[auth.signed_in], sync_to_thread=True)
    def account(self, request: Request[User, Any, Any], db: DB) -> Any:
        children = service.children_of(db, request.user.id) if request.user.role == "parent" else []
        return page(request, "accounts/account.html", children=children, errors={}, saved=False)

    @post("/akun/kata-sandi", name="change_password", guards=[auth.signed_in], sync_to_thread=True)
    def change_password(self, request: Request[User, Any, Any], data: TextForm, db: DB, state: State) -> Any:
        user = existing(db, User, request.user.id)
        form = PasswordChangeForm.from_data(data)
        address = ip(request)
        result = service.change_password(
            db, state.settings, user, current=form.current, new=form.new,
            repeat=form.repeat, ip=address, device_cookie=device_cookie(request, state.settings),
        )
        if result.errors:
            children = service.children_of(db, user.id) if user.role == "parent" else []
            return page(request, "accounts/account.html", status_code=429 if result.limited else 422,
                        children=children, errors=result.errors, saved=False)
        token = auth.start_session(db, user, ip=address)
        db.commit()
        response = Redirect("/akun?tersimpan=1", status_code=303)
        _session_cookie(response, token, state)
        return response

    @get(ENROL_PATH, name="two_factor", guards=[auth.staff_only], opt=PRIVATE, sync_to_thread=True)
    def two_factor_page(self, request: Request[User, Any, Any], db: DB, state: State) -> Any:
        return _enrol_page(request, db, state, existing(db, User, request.user.id))

    @post(ENROL_PATH, guards=[auth.staff_only], opt=PRIVATE, sync_to_thread=True)
    def enrol_two_factor(self, request: Request[User, Any, Any], data: TextForm, db: DB, state: State) -> Any:
        user = existing(db, User, request.user.id)
        form = TwoFactorForm.from_data(data)
        result = service.enrol_two_factor(db, user, secret=form.secret, code=form.code, ip=ip(request))
        if result.errors:
            return _enrol_page(request, db, state, user, secret=form.secret, errors=result.errors,
                               status=422)
        token = auth.start_session(db, user, ip=ip(request))
        db.commit()
        response = page(request, "accounts/recovery_codes.html", codes=result.recovery_codes)
        _session_cookie(response, token, state)
        return response

    @post(ENROL_PATH + "/passkey/mulai", guards=[auth.staff_only], opt=PRIVATE, sync_to_thread=True)
    def passkey_options(self, request: Request[User, Any, Any], data: TextForm, db: DB, state: State) -> Response:
        user = existing(db, User, request.user.id)
        form = TwoFactorForm.from_data(data)
        options, errors = passkeys.start_registration(
            db, state.settings, user, _rp(request, state), password=form.password,
            code=form.code, name=form.passkey_name, ip=ip(request),
            device_cookie=device_cookie(request, state.settings))
        db.commit()
        if errors:
            return _json({"errors": errors}, 422)
        return _json({"options": options})

    @post(ENROL_PATH + "/passkey", guards=[auth.staff_only], opt=PRIVATE, sync_to_thread=True)
    def passkey_register(self, request: Request[User, Any, Any], data: Json, db: DB,
                         state: State) -> Response:
        user = existing(db, User, request.user.id)
        try:
            passkeys.finish_registration(db, user, _rp(request, state), data.get("credential"),
                                         name=str(data.get("name", "")), ip=ip(request))
        except passkeys.PasskeyError as exc:
            db.commit()  # the challenge is spent either way
            return _json({"error": str(exc)}, 422)
        db.commit()
        return _json({"next": ENROL_PATH + "?passkey=1"})

    @post(ENROL_PATH + "/passkey/{passkey_id:int}/hapus", guards=[auth.staff_only], opt=PRIVATE,
          sync_to_thread=True)
    def passkey_remove(self, request: Request[User, Any, Any], passkey_id: FromPath[int], db: DB) -> Redirect:
        passkeys.remove(db, existing(db, User, request.user.id), passkey_id, ip=ip(request))
        db.commit()
        return Redirect(ENROL_PATH + "?passkey=dihapus", status_code=303)

    @post(ENROL_PATH + "/matikan", guards=[auth.staff_only], opt=PRIVATE, sync_to_thread=True)
    def disable_two_factor(self, request: Request[User, Any, Any], data: TextForm, db: DB, state: State) -> Any:
        user = existing(db, User, request.user.id)
        form = TwoFactorForm.from_data(data)
        result = service.disable_own_two_factor(db, state.settings, user, password=form.password,
                                                code=form.code, ip=ip(request),
                                                device_cookie=device_cookie(request, state.settings))
        if result.errors:
            return _enrol_page(request, db, state, user, errors=result.errors,
                               status=429 if result.limited else 422)
        db.commit()
        return Redirect(ENROL_PATH + "?dimatikan=1", status_code=303)
