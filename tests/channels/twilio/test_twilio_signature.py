"""X-Twilio-Signature: the test vectors (docs/providers/README.md#test-vectors), URL variants,
JSON bodies, bad signatures."""

from __future__ import annotations

import dataclasses

import pytest
from twilio_helpers import SMS, fixture, fixture_request, signed_request

from threadline.channels.base import AccountConfig, SignatureError, WebhookRequest
from threadline.channels.twilio.adapter import SmsAdapter, VoiceAdapter
from threadline.channels.twilio.signature import (
    body_hash_matches,
    body_sha256,
    compute_signature,
    url_variants,
)

ADAPTER = SmsAdapter()


def _account(token: str, **extra: str) -> AccountConfig:
    return AccountConfig(id="a", kind="sms", name="n", config={"auth_token": token, **extra})


class TestVectors:
    def test_form_vector_of_channels_md(self) -> None:
        v = fixture("signature_vector_form.json")
        pairs = sorted(v["params"].items())
        assert v["url"] + "".join(k + val for k, val in pairs) == v["signed_string"]
        assert compute_signature(v["auth_token"], v["url"], v["params"].items()) == \
            "tgUy9PjF1uyn11Fb8mVnyWmNXSM="

    def test_form_vector_passes_verify_from_raw_body(self) -> None:
        v = fixture("signature_vector_form.json")
        request = WebhookRequest(
            method="POST", url=v["url"], query={}, body=v["body"].encode(),
            headers={"content-type": "application/x-www-form-urlencoded",
                     "x-twilio-signature": v["expected_signature"]})
        ADAPTER.verify(_account(v["auth_token"]), request)

    def test_parameter_order_on_the_wire_does_not_matter(self) -> None:
        v = fixture("signature_vector_form.json")
        reversed_params = dict(reversed(list(v["params"].items())))
        request = signed_request(v["url"], reversed_params, token=v["auth_token"],
                                 signature=v["expected_signature"])
        ADAPTER.verify(_account(v["auth_token"]), request)

    def test_repeated_names_sign_every_value_sorted(self) -> None:
        sig = compute_signature("12345", "https://e.com/x", [("B", "2"), ("A", "z"), ("A", "y")])
        assert sig == compute_signature("12345", "https://e.com/xAyAzB2")

    def test_body_sha256_vector(self) -> None:
        v = fixture("signature_vector_json.json")
        assert body_sha256(v["body"].encode()) == \
            "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
        assert body_hash_matches(v["url"], v["body"].encode())

    def test_json_body_request_verifies_over_the_url_alone(self) -> None:
        v = fixture("signature_vector_json.json")
        request = WebhookRequest(
            method="POST", url=v["url"], query={}, body=v["body"].encode(),
            headers={"content-type": "application/json",
                     "x-twilio-signature": v["expected_signature"]})
        VoiceAdapter().verify(_account(v["auth_token"]), request)

    def test_json_body_tampered_is_refused(self) -> None:
        v = fixture("signature_vector_json.json")
        request = WebhookRequest(
            method="POST", url=v["url"], query={}, body=v["body"].replace("1303", "1304").encode(),
            headers={"content-type": "application/json",
                     "x-twilio-signature": v["expected_signature"]})
        with pytest.raises(SignatureError):
            VoiceAdapter().verify(_account(v["auth_token"]), request)


class TestUrlVariants:
    def test_https_default_port_is_tried_with_and_without(self) -> None:
        assert url_variants("https://e.com:443/a?b=1") == [
            "https://e.com:443/a?b=1", "https://e.com/a?b=1"]
        assert url_variants("https://e.com/a") == ["https://e.com/a", "https://e.com:443/a"]

    def test_custom_port_is_kept(self) -> None:
        assert url_variants("http://localhost:8000/w") == ["http://localhost:8000/w"]

    def test_signature_made_without_port_matches_request_with_port(self) -> None:
        params = {"MessageSid": "SM1", "From": "+15551230000", "Body": "x"}
        sig = compute_signature("tok", "https://care.example.com/webhooks/sms/a", params.items())
        request = signed_request("https://care.example.com:443/webhooks/sms/a", params,
                                 signature=sig)
        ADAPTER.verify(_account("tok"), request)

    def test_public_base_url_behind_a_proxy(self) -> None:
        params = {"MessageSid": "SM1", "From": "+15551230000"}
        sig = compute_signature("tok", "https://care.example.com/webhooks/sms/a", params.items())
        request = signed_request("http://10.0.0.5:8000/webhooks/sms/a", params, signature=sig)
        with pytest.raises(SignatureError):
            ADAPTER.verify(_account("tok"), request)
        ADAPTER.verify(_account("tok", webhook_base_url="https://care.example.com/"), request)

    def test_secondary_token_during_rotation(self) -> None:
        request = fixture_request("sms_inbound.json")
        rotated = _account("new-token", secondary_auth_token="test_auth_token")
        ADAPTER.verify(rotated, request)


class TestRefusals:
    def test_missing_header(self) -> None:
        request = signed_request("https://e.com/w", {"MessageSid": "SM1"}, signature="")
        with pytest.raises(SignatureError) as info:
            ADAPTER.verify(SMS, request)
        assert info.value.code == "missing_signature"

    def test_wrong_token(self) -> None:
        request = fixture_request("sms_inbound.json")
        with pytest.raises(SignatureError):
            ADAPTER.verify(_account("another-token"), request)

    def test_added_parameter_breaks_the_signature(self) -> None:
        good = fixture_request("sms_inbound.json")
        tampered = dataclasses.replace(good, body=good.body + b"&Extra=1")
        with pytest.raises(SignatureError):
            ADAPTER.verify(SMS, tampered)

    def test_changed_url_breaks_the_signature(self) -> None:
        good = fixture_request("sms_inbound.json")
        with pytest.raises(SignatureError):
            ADAPTER.verify(SMS, dataclasses.replace(good, url=good.url + "x"))

    def test_body_that_is_not_utf8_is_refused(self) -> None:
        good = fixture_request("sms_inbound.json")
        with pytest.raises(SignatureError):
            ADAPTER.verify(SMS, dataclasses.replace(good, body=b"\xff\xfe=1"))

    @pytest.mark.parametrize("name", ["sms_inbound.json", "call_inbound_ringing.json"])
    def test_every_fixture_verifies_when_signed(self, name: str) -> None:
        ADAPTER.verify(SMS, fixture_request(name))
