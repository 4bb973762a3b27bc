"""The invitation to rate, end to end against a real local push service (web-push-testing, tests/pushservice.py):
it arrives once, in neutral words, only with the booker's consent, and not once the session was rated or the
consent withdrawn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from server import worker
from server.notifications import dispatcher
from tests.pushservice import PushService, push_service
from tests.support.aftercare import attend, invites
from tests.support.appointments import appointment_for, counseling, form_post, fresh
from tests.support.notifications import subscribe

# The local push service checks the VAPID signature's expiry against the real time.
pytestmark = pytest.mark.real_clock


@pytest.fixture
def push() -> Iterator[PushService]:
    with push_service() as service:
        yield service


@pytest.fixture
def settings(settings, push):
    return replace(settings, push_allowed_hosts=(push.host,))


@pytest.mark.parametrize("agreed", [True, False])
def test_the_invitation_arrives_once_in_neutral_words_and_only_with_consent(agreed, as_user, db, engine,
                                                                            settings, push):
    service_type = counseling(db)
    appointment = appointment_for(db, service_type, started=True)
    parent = as_user("orangtua")
    phone = subscribe(parent, push)
    if agreed:
        assert form_post(parent, f"/konseling/{appointment.id}/penilaian",
                         {"rating_invite": "1"}).status_code == 303
    sender = worker.make_sender(settings)
    dispatcher.drain(engine, sender)  # what was due before: the confirmation
    before = len(push.messages(phone))

    attend(db, appointment)
    later = fresh(db, appointment.id).ends_at + timedelta(days=1)
    dispatcher.drain(engine, sender, now=later)
    dispatcher.drain(engine, sender, now=later + timedelta(days=7))
    arrived = push.payloads(phone)[before:]
    if not agreed:
        assert arrived == []
        assert invites(db, appointment.id) == []
        return
    assert arrived == [{"title": "Bintang Ceria", "body": "Bintang Ceria: ada pesan baru",
                        "url": f"/penilaian/{appointment.id}",
                        "tag": sender.topic(f"rate-{appointment.id}", phone.endpoint)}]
    for text in push.messages(phone)[before:]:
        assert service_type.name.lower() not in text.lower()
        assert "nilai" not in arrived[0]["body"]
        assert "konseling" not in text.lower()
    # The page it opens is the rating.
    assert "Apakah aman untuk bercerita?" in parent.get(arrived[0]["url"]).text


def test_no_invitation_once_rated_or_once_consent_is_withdrawn(as_user, db, engine, settings, push):
    parent = as_user("orangtua")
    phone = subscribe(parent, push)
    service_type = counseling(db)
    rated, withdrawn = (appointment_for(db, service_type, started=True, index=i) for i in (0, 1))
    for appointment in (rated, withdrawn):
        form_post(parent, f"/konseling/{appointment.id}/penilaian", {"rating_invite": "1"})
    sender = worker.make_sender(settings)
    dispatcher.drain(engine, sender)
    before = len(push.messages(phone))
    attend(db, rated)
    attend(db, withdrawn)
    assert form_post(parent, f"/penilaian/{rated.id}", {"face": "baik", "safe": "yes"}).status_code == 200
    assert form_post(parent, f"/konseling/{withdrawn.id}/penilaian", {}).status_code == 303
    dispatcher.drain(engine, sender, now=fresh(db, withdrawn.id).ends_at + timedelta(days=2))
    assert push.payloads(phone)[before:] == []
