"""Visitor sessions: tokens, the entry form, HMAC identity verification, token checks."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.webchat.conftest import HMAC_SECRET, Chat, wait_for
from threadline.contacts.models import Evidence
from threadline.webchat import tokens


class TestSessionStart:
    def test_without_entry_form_gives_a_token_and_stores_nothing(self, chat: Chat):
        answer = chat.session({})
        assert answer.status_code == 201
        body = answer.json()
        assert body["verified"] is False and body["question_stored"] is False
        assert body["visitor_id"].startswith("v_") and body["expires_in"] > 0
        history = chat.history(body["token"])
        assert history.status_code == 200
        assert history.json()["items"] == []
        assert chat.stored_events() == 0

    def test_entry_form_question_opens_a_conversation_with_the_email_linked(self, chat: Chat):
        answer = chat.session({"name": "Ada Lovelace", "email": " Ada@Example.COM ",
                               "question": "My invoice shows the wrong address."})
        assert answer.status_code == 201 and answer.json()["question_stored"] is True
        conv = chat.conversation_with("My invoice shows the wrong address.")
        [message] = conv["messages"]
        assert (message["channel"], message["visibility"], message["direction"]) == (
            "webchat", "private", "inbound")
        customer = chat.api.get(f"/customers/{conv['customer_id']}").json()
        assert customer["name"] == "Ada Lovelace"
        kinds = {(i["kind"], i["address"]): i["evidence"] for i in customer["identities"]}
        assert kinds[("webchat", answer.json()["visitor_id"])] == Evidence.PROVIDER
        assert kinds[("email", "ada@example.com")] == Evidence.CUSTOMER

    def test_renewing_with_the_old_token_keeps_the_visitor(self, chat: Chat):
        first = chat.session({"name": "Ada"}).json()
        again = chat.session({}, token=first["token"])
        assert again.status_code == 201
        assert again.json()["visitor_id"] == first["visitor_id"]
        assert chat.session({}, token="not-a-token").json()["visitor_id"] != first["visitor_id"]


class TestIdentityVerification:
    def test_valid_hash_verifies_the_visitor_across_devices(self, chat: Chat):
        body = {"identifier": "customer-4242",
                "identifier_hash": tokens.identifier_hash(HMAC_SECRET, "customer-4242"),
                "question": "Logged in: where is my refund?"}
        first = chat.session(body)
        assert first.status_code == 201
        assert first.json()["verified"] is True
        assert first.json()["visitor_id"] == "u:customer-4242"
        chat.conversation_with("Logged in: where is my refund?")
        # Another browser of the same logged-in user sees the same chat.
        second = chat.start({"identifier": "customer-4242",
                             "identifier_hash": body["identifier_hash"].upper()})
        items = wait_for(lambda: chat.history(second).json()["items"], what="history")
        assert [i["text"] for i in items] == ["Logged in: where is my refund?"]

    def test_forged_hash_is_refused_and_stores_nothing(self, chat: Chat):
        answer = chat.session({"identifier": "customer-4242",
                               "identifier_hash": tokens.identifier_hash("guess", "customer-4242"),
                               "question": "let me in"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "identity_hash_invalid"
        assert chat.stored_events() == 0

    def test_missing_hash_is_refused(self, chat: Chat):
        answer = chat.session({"identifier": "customer-4242", "question": "hi"})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "identifier_hash_required"
        lone = chat.session({"identifier_hash": "ab" * 32})
        assert lone.status_code == 422 and lone.json()["error"]["code"] == "identifier_required"
        assert chat.stored_events() == 0

    def test_required_verification_refuses_anonymous_visitors(self, chat: Chat, runtime):
        from threadline.workspace.models import ChannelAccount

        with runtime.db.session() as session:
            account = session.get(ChannelAccount, chat.account.id)
            account.config = {**account.config, "require_identity_verification": True}
        answer = chat.session({"question": "anonymous"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "identity_required"
        assert chat.stored_events() == 0


class TestVisitorTokens:
    def _expired(self, chat: Chat, secret: str) -> str:
        class PastSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - 31 * 24 * 3600

        serializer = URLSafeTimedSerializer(secret, salt=tokens.SALT, signer=PastSigner)
        return str(serializer.dumps({"a": chat.id, "v": "v_expiredvisitor000000"}))

    def test_forged_expired_foreign_and_missing_tokens_get_401(self, chat: Chat, runtime):
        token = chat.start({})
        secret = runtime.settings.resolved_secret_key()
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        other_key = tokens.issue("another-secret", tokens.Visitor(chat.id, "v_someone"))
        foreign = tokens.issue(secret, tokens.Visitor(
            "00000000-0000-0000-0000-000000000000", "v_someone"))
        cases = {forged: "visitor_token_invalid", other_key: "visitor_token_invalid",
                 foreign: "visitor_token_invalid",
                 self._expired(chat, secret): "visitor_token_expired"}
        for bad, code in cases.items():
            for answer in (chat.say(bad, "hello"), chat.history(bad),
                           chat.http.get(f"{chat.base}/stream",
                                         headers={"x-visitor-token": bad})):
                assert answer.status_code == 401, answer.text
                assert answer.json()["error"]["code"] == code
        missing = chat.http.post(f"{chat.base}/messages", json={"text": "x", "echo_id": "e1"})
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "visitor_token_missing"
        assert chat.stored_events() == 0
