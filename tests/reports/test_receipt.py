"""The receipt page: the code and PIN once, a "Salin" button for browsers that can copy, and "Lanjut" that carries
the code to /cek in the body of a POST, never in an address, so that only the PIN is typed."""

from __future__ import annotations

import html
import re

from tests.support.reports import submit_report
from tests.support.web import post_form


def lanjut_form(page: str) -> str:
    match = re.search(r'<form method="post" action="/cek" class="form">(.*?)</form>', page, re.DOTALL)
    assert match, "no Lanjut form on the receipt"
    return match.group(1)


def test_it_posts_the_code_to_cek_from_lanjut_and_never_puts_it_in_an_address(client):
    sent = submit_report(client)
    assert sent.response.status_code == 200
    form = lanjut_form(sent.response.text)
    assert f'name="code" value="{sent.code}"' in form
    assert 'name="pin"' not in form  # the PIN is typed, never carried
    assert ">Lanjut</button>" in form
    assert not re.search(rf'(href|action)="[^"]*{re.escape(sent.code)}', sent.response.text)
    assert not re.search(rf'(href|action)="[^"]*{re.escape(sent.code.replace("-", ""))}', sent.response.text)


def test_it_offers_salin_hidden_until_the_script_finds_a_clipboard(client):
    sent = submit_report(client)
    main = sent.response.text.split('<main id="main"', 1)[1]
    button = re.search(r"<button [^>]*data-copy-receipt[^>]*>", main, re.DOTALL)
    assert button
    assert " hidden" in button.group(0)
    assert f'data-code="{sent.code}"' in button.group(0)
    assert f'data-pin="{sent.pin}"' in button.group(0)
    assert "Salin" in sent.response.text
    assert '<script src="/static/js/receipt.js' in sent.response.text or "js/receipt" in sent.response.text


def test_it_opens_cek_with_the_code_filled_in_so_only_the_pin_is_typed(client):
    sent = submit_report(client)
    page = post_form(client, "/cek", {"code": sent.code, "lanjut": "1", "disimpan": "1"}, token_from="/cek")
    assert page.status_code == 200
    assert "<h1>Cek laporan</h1>" in page.text
    assert f'value="{sent.code}"' in page.text
    assert re.search(r'name="pin" type="password"[^>]*autofocus', page.text)
    assert "Ada yang perlu diperbaiki" not in page.text
    assert "no-store" in page.headers["cache-control"]


def test_it_then_opens_the_report_with_the_pin(client):
    sent = submit_report(client)
    post_form(client, "/cek", {"code": sent.code, "lanjut": "1"}, token_from="/cek")
    opened = post_form(client, "/cek", {"code": sent.code, "pin": sent.pin}, token_from="/cek",
                       follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/cek/laporan"


def test_it_still_asks_for_the_pin_when_cek_is_sent_without_one(client):
    sent = submit_report(client)
    page = post_form(client, "/cek", {"code": sent.code, "pin": ""}, token_from="/cek")
    assert page.status_code == 422
    assert html.escape("Tulis PIN-mu.") in page.text
