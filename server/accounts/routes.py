"""Sign-in, sign-out and the account page. Thin: the rules are in service.py and auth.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect

from server.accounts import auth, service
from server.accounts.models import User
from server.db import DB
from server.routes import safe_next
from server.web import client_ip, drop_cookie, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _session_cookie(response: Redirect, token: str, state: State) -> None:
    response.set_cookie(
        state.settings.cookie_name(auth.SESSION_COOKIE),
        token,
        httponly=True,
        samesite="lax",
        secure=state.settings.cookie_secure,
        path="/",
    )


class AccountController(Controller):
    @get("/masuk", name="signin")
    async def signin_form(self, request: Request, lanjut: FromQuery[str | None] = None) -> Any:
        if request.user is not None:
            return Redirect(safe_next(lanjut), status_code=303)
        return page(request, "accounts/signin.html", form={"lanjut": lanjut or ""}, errors={})

    @post("/masuk", sync_to_thread=True)
    def signin(self, request: Request, data: Form, db: DB, state: State) -> Any:
        ip = client_ip(request.scope, state.settings)
        result = service.sign_in(
            db, state.settings, username=data.get("username", ""), password=data.get("password", ""), ip=ip
        )
        if result.user is None:
            form = {"username": data.get("username", ""), "lanjut": data.get("lanjut", "")}
            return page(
                request,
                "accounts/signin.html",
                status_code=429 if result.limited else 422,
                form=form,
                errors={"form": result.error},
            )
        token = auth.start_session(db, result.user, ip=ip, previous_token=request.cookies.get(state.settings.cookie_name(auth.SESSION_COOKIE)))
        db.commit()
        response = Redirect(safe_next(data.get("lanjut")), status_code=303)
        _session_cookie(response, token, state)
        return response

    @post("/keluar-akun", name="signout", sync_to_thread=True)
    def signout(self, request: Request, db: DB, state: State) -> Redirect:
        token = request.cookies.get(state.settings.cookie_name(auth.SESSION_COOKIE))
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
    def change_password(self, request: Request[User, Any, Any], data: Form, db: DB, state: State) -> Any:
        user = db.get(User, request.user.id)
        ip = client_ip(request.scope, state.settings)
        errors = service.change_password(
            db, user, current=data.get("current", ""), new=data.get("new", ""), repeat=data.get("repeat", ""), ip=ip
        )
        if errors:
            children = service.children_of(db, user.id) if user.role == "parent" else []
            return page(request, "accounts/account.html", status_code=422, children=children, errors=errors,
                        saved=False)
        token = auth.start_session(db, user, ip=ip)
        db.commit()
        response = Redirect("/akun?tersimpan=1", status_code=303)
        _session_cookie(response, token, state)
        return response
