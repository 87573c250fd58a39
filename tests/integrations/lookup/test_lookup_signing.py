"""The lookup request is signed like Standard Webhooks (reference sections 1.2 and 5.2): the
signer reproduces the official vector and Threadline's vectors (reference section 6), and the
request body follows section 5.2."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import orjson

from tests.integrations.lookup.receiver import verify
from threadline.integrations.lookup.client import new_secret, request_body, sign

THREADLINE_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
THREADLINE_BODY = (b'{"type":"conversation.created","timestamp":"2026-01-01T00:00:00Z",'
                   b'"data":{"conversation_id":"cnv_42","channel":"email"}}')


class TestVectors:
    def test_official_standard_webhooks_vector(self) -> None:
        assert sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                    1614265330, b'{"test": 2432232314}') == \
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    def test_threadline_vector(self) -> None:
        assert len(THREADLINE_BODY) == 120
        assert sign(THREADLINE_SECRET, "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2G", 1767225600,
                    THREADLINE_BODY) == "v1,nzI/o6IohUmkRgw/HkRXo1HmdP6Jo05AkOoYAHF3xYE="

    def test_utf8_vector_signs_raw_bytes(self) -> None:
        body = ('{"type":"message.created","timestamp":"2026-01-01T00:00:00Z","data":'
                '{"conversation_id":"cnv_42","text":"Grüße 👋"}}').encode()
        assert len(body) == 119
        assert sign(THREADLINE_SECRET, "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2H", 1767225600,
                    body) == "v1,KFHVQTXLEkrE8+Usf7AZSrY+WvOCMLi+kcySiSiy9vI="


class TestSecret:
    def test_a_new_secret_is_32_random_bytes_with_the_prefix(self) -> None:
        one, two = new_secret(), new_secret()
        assert one.startswith("whsec_") and one != two
        assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


class TestBody:
    def test_the_body_follows_the_contract_and_verifies(self) -> None:
        body = request_body(lookup_id="lkp_1", workspace_id="ws_1",
                            customer={"id": "cus_1", "email": "a@example.com"},
                            conversation_id="cnv_42",
                            now=datetime(2026, 1, 1, tzinfo=UTC))
        parsed = orjson.loads(body)
        assert parsed["type"] == "lookup.customer"
        assert parsed["timestamp"] == "2026-01-01T00:00:00Z"
        assert parsed["data"]["lookup_id"] == "lkp_1"
        assert parsed["data"]["customer"]["email"] == "a@example.com"
        assert parsed["data"]["conversation_id"] == "cnv_42"
        secret = new_secret()
        now = int(time.time())
        headers = {"webhook-id": "lkp_1", "webhook-timestamp": str(now),
                   "webhook-signature": sign(secret, "lkp_1", now, body)}
        assert verify(secret, headers, body)
        assert not verify(secret, headers, body + b" ")
        assert not verify(new_secret(), headers, body)
