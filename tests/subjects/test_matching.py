"""Which stored documents mention a customer (raw payloads, jobs, live events)."""

from __future__ import annotations

import base64
import uuid

from threadline.subjects.matching import Matcher
from threadline.subjects.subject import Subject


def matcher() -> tuple[Matcher, uuid.UUID]:
    message_id = uuid.uuid4()
    subject = Subject(workspace_id=uuid.uuid4(), customer_id=uuid.uuid4(),
                      customer_ids=[uuid.uuid4()], message_ids=[message_id],
                      coordinates={"@maya_x", "+447700900123", "maya@example.org"},
                      provider_ids={"1850000000000000001", "42"})
    return Matcher.of(subject), message_id


class TestMatcher:
    def test_his_ids_handles_and_numbers_as_providers_write_them(self) -> None:
        m, message_id = matcher()
        assert m.document({"job": {"message_id": str(message_id)}})
        assert m.document({"user": {"screen_name": "Maya_X"}})
        assert m.document({"contacts": [{"wa_id": "447700900123"}]})
        assert m.document({"id_str": 1850000000000000001})
        assert m.document({"from": "Maya <MAYA@example.org>"})

    def test_base64_raw_email_is_decoded(self) -> None:
        m, _ = matcher()
        raw = base64.b64encode(b"From: Maya <maya@example.org>\r\nSubject: hi\r\n\r\n" * 3)
        assert m.document({"raw": raw.decode(), "encoding": "base64"})

    def test_other_people_and_short_ids_do_not_match(self) -> None:
        m, _ = matcher()
        assert not m.document({"user": {"screen_name": "maya_xyz"}})
        assert not m.document({"text": "ask @maya_xyz", "message_id": 42, "n": "42"})
        assert not m.document({"contacts": [{"wa_id": "4477009001234"}]})
        assert not m.document({"from": "Sam <sam@example.org>", "flag": True})
