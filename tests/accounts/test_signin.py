from sqlalchemy import select

from server.accounts.models import WebSession
from server.models import AuditEntry
from tests.support.web import csrf_token, post_form, sign_in


def test_it_signs_in_with_the_right_password_and_lands_on_a_no_store_page(client):
    sign_in(client, "konselor")
    response = client.get("/akun")
    assert response.status_code == 200
    assert "Konselor Rina" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_it_refuses_a_wrong_password_with_a_message_next_to_the_form_and_keeps_the_name(client):
    response = post_form(client, "/masuk", {"username": "konselor", "password": "salah-sekali-123"})
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah." in response.text
    assert 'value="konselor"' in response.text


def test_it_gives_the_same_answer_for_an_unknown_account(client):
    known = post_form(client, "/masuk", {"username": "konselor", "password": "salah-sekali-123"})
    unknown = post_form(client, "/masuk", {"username": "tidak-ada", "password": "salah-sekali-123"})
    assert known.status_code == unknown.status_code == 422
    assert known.text.replace('value="konselor"', "X") == unknown.text.replace('value="tidak-ada"', "X")


def test_it_refuses_a_post_without_csrf_token(client):
    csrf_token(client)
    response = client.post("/masuk", data={"username": "konselor", "password": "ceria-demo-2026"})
    assert response.status_code == 403


def test_it_changes_the_session_id_at_sign_in(client, db):
    client.cookies.set("bc_session", "a-token-planted-by-someone-else", domain="127.0.0.1")
    sign_in(client, "konselor")
    assert client.cookies.get("bc_session") != "a-token-planted-by-someone-else"
    first = client.cookies.get("bc_session")
    sign_in(client, "konselor")
    assert client.cookies.get("bc_session") != first
    assert len(db.execute(select(WebSession)).scalars().all()) == 1


def test_an_old_cookie_is_useless_after_sign_out(client, make_client):
    sign_in(client, "konselor")
    token = client.cookies.get("bc_session")
    post_form(client, "/keluar-akun", {}, token_from="/akun")
    thief = make_client()
    thief.cookies.set("bc_session", token)
    response = thief.get("/akun", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/masuk")


def test_it_limits_wrong_passwords_per_account_even_with_the_right_one_after(client, db):
    for _ in range(5):
        post_form(client, "/masuk", {"username": "guru", "password": "salah-sekali-123"})
    response = post_form(client, "/masuk", {"username": "guru", "password": "ceria-demo-2026"})
    assert response.status_code == 429
    assert "Terlalu banyak percobaan masuk" in response.text
    assert db.execute(select(AuditEntry).where(AuditEntry.action == "signin.limited")).first()


def test_it_limits_an_unknown_account_the_same_way(client):
    for _ in range(5):
        post_form(client, "/masuk", {"username": "tidak-ada", "password": "salah-sekali-123"})
    response = post_form(client, "/masuk", {"username": "tidak-ada", "password": "salah-sekali-123"})
    assert response.status_code == 429


def test_it_limits_attempts_per_address_across_accounts(client, app):
    limit = app.state.settings.login_limit_per_address
    for n in range(limit):
        post_form(client, "/masuk", {"username": f"orang{n}", "password": "salah-sekali-123"})
    response = post_form(client, "/masuk", {"username": "konselor", "password": "ceria-demo-2026"})
    assert response.status_code == 429


def test_it_audits_sign_ins_and_failures(client, db):
    post_form(client, "/masuk", {"username": "konselor", "password": "salah-sekali-123"})
    sign_in(client, "konselor")
    actions = db.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-2:] == ["signin.failed", "signin.succeeded"]


def test_it_sends_a_signed_out_visitor_to_sign_in_and_back(client):
    response = client.get("/akun", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/masuk?lanjut=/akun"


def test_it_only_follows_local_next_links(client):
    response = post_form(
        client, "/masuk", {"username": "konselor", "password": "ceria-demo-2026", "lanjut": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
