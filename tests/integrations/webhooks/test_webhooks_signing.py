"""Standard Webhooks signing: the official and Threadline test vectors
(shared/reference/integrations.md section 6), the documented snippet, forgeries."""

from __future__ import annotations

import itertools
import random

import pytest

from tests.integrations.webhooks.snippet import documented_verify
from threadline.integrations.webhooks import rules

OFFICIAL = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330, b'{"test": 2432232314}',
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
OLD_SECRET = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
BODY = (b'{"type":"conversation.created","timestamp":"2026-01-01T00:00:00Z",'
        b'"data":{"conversation_id":"cnv_42","channel":"email"}}')
UTF8_BODY = ('{"type":"message.created","timestamp":"2026-01-01T00:00:00Z",'
             '"data":{"conversation_id":"cnv_42","text":"Grüße 👋"}}').encode()
TS = 1767225600


class TestVectors:
    def test_official_vector(self) -> None:
        secret, msg_id, ts, body, expected = OFFICIAL
        assert rules.sign(secret, msg_id, ts, body) == expected

    def test_threadline_vector(self) -> None:
        assert len(BODY) == 120
        assert rules.sign(SECRET, "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2G", TS, BODY) == (
            "v1,nzI/o6IohUmkRgw/HkRXo1HmdP6Jo05AkOoYAHF3xYE=")

    def test_rotation_header_is_accepted_with_either_secret(self) -> None:
        header = ("v1,nzI/o6IohUmkRgw/HkRXo1HmdP6Jo05AkOoYAHF3xYE= "
                  "v1,P3PKph1YhAqGWBjCyj2fG/qxG7IOb5SS1NWmf54lx7o=")
        assert rules.sign(OLD_SECRET, "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2G", TS, BODY) == (
            header.split(" ")[1])
        headers = {"webhook-id": "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2G",
                   "webhook-timestamp": str(TS), "webhook-signature": header}
        for secret in (SECRET, OLD_SECRET):
            assert rules.verify(secret, headers, BODY, now=TS)
            assert documented_verify()(secret, headers, BODY, tolerance=10**10)

    def test_utf8_vector(self) -> None:
        assert len(UTF8_BODY) == 119
        assert rules.sign(SECRET, "msg_01JH5Z8Q3R7T9V2X4Y6A8C0E2H", TS, UTF8_BODY) == (
            "v1,KFHVQTXLEkrE8+Usf7AZSrY+WvOCMLi+kcySiSiy9vI=")


class TestVerification:
    def headers(self, secret: str = SECRET, body: bytes = BODY, now: float = TS
                ) -> dict[str, str]:
        return rules.headers(secret, "msg_abc", body, now=now)

    def test_documented_snippet_accepts_our_requests(self) -> None:
        secret = rules.new_secret()
        headers = rules.headers(secret, "msg_x", BODY)
        assert documented_verify()(secret, headers, BODY)
        assert rules.verify(secret, headers, BODY)

    @pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret", "version", "old"])
    def test_forgeries_are_refused(self, change: str) -> None:
        headers, body, secret, now = self.headers(), BODY, SECRET, TS
        if change == "body":
            body = BODY.replace(b"cnv_42", b"cnv_43")
        elif change == "id":
            headers["webhook-id"] = "msg_other"
        elif change == "timestamp":
            headers["webhook-timestamp"] = str(TS + 1)
        elif change == "secret":
            secret = rules.new_secret()
        elif change == "version":
            headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
        elif change == "old":
            now = TS + 301
        assert not rules.verify(secret, headers, body, now=now)
        # the snippet uses the clock: the vectors' timestamp is long past
        tolerance = 300 if change == "old" else 10**10
        assert not documented_verify()(secret, headers, body, tolerance=tolerance)

    def test_malformed_headers_are_refused(self) -> None:
        assert not rules.verify(SECRET, {}, BODY)
        assert not rules.verify(SECRET, {"webhook-id": "x", "webhook-timestamp": "soon",
                                         "webhook-signature": "v1,AAAA"}, BODY)

    def test_secrets_are_random_32_bytes(self) -> None:
        a, b = rules.new_secret(), rules.new_secret()
        assert a != b and a.startswith("whsec_") and len(rules.secret_key(a)) == 32


class TestBackoff:
    def test_gaps_grow_with_jitter_and_cap(self) -> None:
        rng = random.Random(7)
        for _ in range(200):
            gaps = [rules.backoff_seconds(n, 5, 3600, rng=rng) for n in range(1, 8)]
            assert all(later > earlier for earlier, later in itertools.pairwise(gaps))
            assert 4.0 <= gaps[0] < 6.0
        assert rules.backoff_seconds(30, 5, 60, rng=rng) < 72

    def test_retry_after(self) -> None:
        assert rules.retry_after_seconds("120") == 120
        assert rules.retry_after_seconds(None) is None
        assert rules.retry_after_seconds("soon") is None
        assert rules.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
