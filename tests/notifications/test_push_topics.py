"""What a push service and a phone see of a job's topic (issue 12): the Topic header and the notification tag are
a keyed hash (HMAC with SECRET_KEY, base64url, 32 characters as RFC 8030 allows), never the job's own topic
('report-7-urgent', with an id and a word in it). Messages about the same thing still share it, so a newer one
replaces an older one at the push service and on the phone."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from server import worker
from server.notifications import dispatcher, outbox, push
from tests.notifications.dispatch_support import FakeResponse, FakeTransport, Phone, person

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
PHONE = "https://push.example.net/send/phone"
TABLET = "https://push.example.net/send/tablet"
OPAQUE = re.compile(r"[A-Za-z0-9_-]{32}")


@pytest.fixture
def settings(settings):
    return replace(settings, vapid_private_key=push.generate_private_key(),
                   secret_key="a-test-secret-key-of-at-least-32-characters")


@pytest.fixture
def phones(db) -> dict[str, Phone]:
    counselor = person(db, "konselor")
    phones = {PHONE: Phone(), TABLET: Phone()}
    for endpoint, phone in phones.items():
        db.add(phone.subscription(endpoint, user_id=counselor.id))
    db.commit()
    return phones


def alert(db, engine, settings, topic: str, *,
          secret_key: str | None = None) -> dict[str, tuple[str, bytes]]:
    """Enqueue an emergency alert with `topic` to the counselor and send it; returns, per endpoint, the Topic
    header on the wire and the tag in the message the device decrypts."""
    outbox.enqueue(db, "emergency_report", url="/kasus/7", topic=topic, user_ids=[person(db, "konselor").id],
                   urgency="high", due_at=NOW)
    db.commit()
    transport = FakeTransport(lambda _url: FakeResponse(201))
    if secret_key is not None:
        settings = replace(settings, secret_key=secret_key)
    dispatcher.drain(engine, worker.make_sender(settings, session=transport), worker="test", now=NOW)
    return {request.url: (request.headers["topic"], request.data) for request in transport.requests}


def test_the_topic_on_the_wire_and_the_tag_in_the_message_are_opaque(db, engine, settings, phones):
    sent = alert(db, engine, settings, "report-7-urgent")

    assert set(sent) == {PHONE, TABLET}
    for endpoint, (topic, data) in sent.items():
        assert OPAQUE.fullmatch(topic), topic
        assert not {"report", "urgent", "report-7"} & {topic.lower()[i:i + 6] for i in range(len(topic))}
        assert phones[endpoint].read(data)["tag"] == topic  # the phone replaces by the same opaque tag
    # Two devices do not share it: a push service cannot link them by their messages.
    assert sent[PHONE][0] != sent[TABLET][0]


def test_two_messages_about_the_same_thing_share_a_topic_and_others_do_not(db, engine, settings, phones):
    first = alert(db, engine, settings, "report-7-urgent")
    again = alert(db, engine, settings, "report-7-urgent")
    other_report = alert(db, engine, settings, "report-8-urgent")

    assert again[PHONE][0] == first[PHONE][0]
    assert again[TABLET][0] == first[TABLET][0]
    assert other_report[PHONE][0] != first[PHONE][0]


def test_the_topic_is_keyed_by_the_secret_key(db, engine, settings, phones):
    ours = alert(db, engine, settings, "report-7-urgent")
    another_key = alert(db, engine, settings, "report-7-urgent", secret_key="another-secret-key-of-32-characters!")
    assert OPAQUE.fullmatch(another_key[PHONE][0])
    assert another_key[PHONE][0] != ours[PHONE][0]
