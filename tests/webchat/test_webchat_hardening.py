"""Hardening (docs/webchat.md): origins, CORS, sizes, types, rate limits — typed 4xx, nothing
stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webchat.conftest import ORIGIN, Chat
from threadline.channels.webchat.payloads import MAX_TEXT


class TestBadInput:
    @pytest.mark.parametrize(("body", "field"), [
        ({"text": "", "echo_id": "e1"}, "text"),
        ({"text": " \n\t\u200b ", "echo_id": "e1"}, "text"),
        ({"text": "x" * (MAX_TEXT + 1), "echo_id": "e1"}, "text"),
        ({"text": "hi", "echo_id": "has spaces"}, "echo_id"),
        ({"text": "hi"}, "echo_id"),
        ({"text": 42, "echo_id": "e1"}, "text"),
        ({"text": "hi", "echo_id": "e1", "visibility": "public"}, "visibility"),
    ])
    def test_bad_messages_are_422_and_store_nothing(self, chat: Chat, body: dict[str, Any],
                                                    field: str):
        token = chat.start({})
        answer = chat.http.post(f"{chat.base}/messages", json=body,
                                headers={"x-visitor-token": token})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert any(field in e["loc"] for e in error["details"]["errors"])
        assert chat.stored_events() == 0

    @pytest.mark.parametrize("body", [
        {"email": "not-an-email", "question": "hi"},
        {"name": "x" * 201},
        {"identifier": "has space", "identifier_hash": "00"},
        {"question": "hi", "surprise": True},
    ])
    def test_bad_entry_forms_are_422_and_store_nothing(self, chat: Chat, body: dict[str, Any]):
        answer = chat.session(body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_failed"
        assert chat.stored_events() == 0

    def test_wrong_type_oversize_and_broken_json(self, chat: Chat):
        token = chat.start({})
        headers = {"x-visitor-token": token}
        as_form = chat.http.post(f"{chat.base}/messages", data={"text": "hi"}, headers=headers)
        assert as_form.status_code == 415
        assert as_form.json()["error"]["code"] == "unsupported_media_type"
        huge = chat.http.post(f"{chat.base}/messages", headers={
            **headers, "content-type": "application/json"},
            content=b'{"text": "' + b"a" * 20_000 + b'", "echo_id": "e1"}')
        assert huge.status_code == 413
        assert huge.json()["error"]["code"] == "payload_too_large"
        broken = chat.http.post(f"{chat.base}/messages", headers={
            **headers, "content-type": "application/json"}, content=b'{"text": ')
        assert broken.status_code == 422
        unknown = chat.http.post(f"{chat.server.url}/webchat/{'0' * 8}/session", json={})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "unknown_account"
        assert chat.stored_events() == 0

    def test_markup_is_kept_as_text_and_control_characters_dropped(self, chat: Chat):
        token = chat.start({})
        chat.say(token, "<img src=x onerror=alert(1)>\x00\u202e hi")
        conv = chat.conversation_with("<img src=x onerror=alert(1)> hi")
        assert conv["messages"][0]["text"] == "<img src=x onerror=alert(1)> hi"


class TestOrigins:
    def test_allowed_origin_gets_cors_headers_and_others_403(self, chat: Chat):
        pre = chat.http.options(f"{chat.base}/messages", headers={
            "origin": ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-visitor-token"})
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == ORIGIN
        assert "x-visitor-token" in pre.headers["access-control-allow-headers"]
        ok = chat.session({}, headers={"origin": ORIGIN})
        assert ok.status_code == 201 and ok.headers["access-control-allow-origin"] == ORIGIN
        # Errors are readable by the allowed site too.
        bad = chat.session({"email": "nope"}, headers={"origin": ORIGIN})
        assert bad.status_code == 422 and bad.headers["access-control-allow-origin"] == ORIGIN
        token = ok.json()["token"]
        for answer in (
            chat.http.options(f"{chat.base}/messages", headers={
                "origin": "https://evil.example", "access-control-request-method": "POST"}),
            chat.session({"question": "hi"}, headers={"origin": "https://evil.example"}),
            chat.http.post(f"{chat.base}/messages", json={"text": "hi", "echo_id": "e1"},
                           headers={"origin": "https://evil.example",
                                    "x-visitor-token": token}),
        ):
            assert answer.status_code == 403
            assert answer.json()["error"]["code"] == "origin_not_allowed"
            assert "access-control-allow-origin" not in answer.headers
        # Threadline's own origin (the standalone page) is always allowed.
        own = chat.session({}, headers={"origin": chat.server.url})
        assert own.status_code == 201
        assert chat.stored_events() == 0


class TestRateLimits:
    @pytest.fixture
    def chat_config(self) -> dict[str, Any]:
        return {"messages_per_minute": 3, "sessions_per_minute": 4}

    def test_visitor_over_the_limit_gets_429_with_retry_after(self, chat: Chat):
        token = chat.start({})
        for i in range(3):
            assert chat.say(token, f"message {i}").status_code == 202
        over = chat.say(token, "one too many")
        assert over.status_code == 429
        assert over.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(over.headers["retry-after"]) <= 61
        assert chat.stored_events() == 3
        # Another visitor is not held back by the first one.
        assert chat.say(chat.start({}), "hello").status_code == 202

    def test_sessions_are_limited_per_client_address(self, chat: Chat):
        answers = [chat.session({}).status_code for _ in range(5)]
        assert answers == [201, 201, 201, 201, 429]
