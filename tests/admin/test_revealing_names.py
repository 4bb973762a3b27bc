"""One list of revealing words decides whether the service's name may be shown: the supervisor's form, the page
titles, the installed app's name and every push text use the same check."""

from __future__ import annotations

import pytest

from server import service_info
from server.admin import service as admin
from server.models import ServiceSetting
from server.notifications import push
from server.pwa import routes as pwa
from tests.support.admin import SETTINGS, admin_post


def test_stop_aniaya_anak_is_refused_by_the_admin_form_and_nothing_changes(supervisor, db):
    response = admin_post(supervisor, "/admin/layanan", {**SETTINGS, "service_name": "Stop Aniaya Anak"})
    assert response.status_code == 422
    assert "Pakai nama yang tidak menyebut kekerasan." in response.text
    assert 'value="Stop Aniaya Anak"' in response.text  # what was typed is kept
    db.expire_all()
    assert service_info.load(db).service_name == "Bintang Ceria"


@pytest.mark.parametrize("word", service_info.REVEALING_WORDS)
def test_every_revealing_word_is_refused_by_the_admin_check_whatever_its_case(word):
    _info, errors = admin.validate_service_info({**SETTINGS, "service_name": f"Layanan {word.title()} Kota"})
    assert "service_name" in errors


def test_the_lists_that_used_to_differ_are_one():
    for word in ("aniaya", "kekerasan", "pemerkosaan", "trafficking", "abuse", "violence"):
        assert service_info.reveals(f"Pusat {word}")
    assert not service_info.reveals("Bintang Ceria")
    assert not service_info.reveals("Sahabat Anak")


def test_a_revealing_name_already_stored_is_never_shown_as_title_app_name_or_push_text(client, db):
    db.merge(ServiceSetting(key="service_name", value="Stop Aniaya Anak"))
    db.commit()
    service_info.forget()
    home = client.get("/").text
    assert "Aniaya" not in home
    manifest = client.get("/manifest.webmanifest").json()
    assert "Aniaya" not in manifest["name"]
    assert "Aniaya" not in manifest["short_name"]
    assert service_info.current(db.get_bind()).service_name == "Bintang Ceria"
    # The dispatcher reads the name with load() for every push it sends.
    assert "Aniaya" not in push.neutral_text("case_message", service_info.load(db).service_name)
    assert pwa.installed_name("Stop Aniaya Anak") == "Bintang Ceria"
