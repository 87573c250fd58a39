"""X end to end: a mention and a DM arrive as signed Account Activity webhooks, the agent
answers through the REST API, and the sandbox records `POST /2/tweets` with the right
`in_reply_to_tweet_id` and the DM call; limits, signatures, duplicates, order, deletes."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from tests.e2e.conftest import E2E, wait_for
from threadline.channels.x.adapter import sign
from threadline.sandbox.providers import x as sx

OWN_ID = "2244994945"


def x_config(e2e: E2E, **extra: Any) -> dict[str, Any]:
    return {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
            "access_token": f"{OWN_ID}-token", "access_token_secret": "ats",
            "user_id": OWN_ID, "api_base_url": e2e.sandbox_url("/x"), **extra}


def tweet_id() -> str:
    return str(1_850_000_000_000_000_000 + random.randrange(10**15))


class TestPublicReply:
    def test_mention_reply_goes_out_as_a_reply_tweet(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        tid, user = tweet_id(), str(random.randrange(10**9))
        hook = sx.mention_webhook(account, config, tid, user, "jane",
                                  f"@acme my parcel is late {e2e.tag}")
        assert e2e.post(hook).status_code == 200
        conv, message = e2e.wait_message(tid)
        assert message["visibility"] == "public" and message["channel"] == "x"

        text = f"Sorry Jane, we are on it {e2e.tag}"
        reply = e2e.sent(conv["id"], text)
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("x", method="POST", path_contains="/2/tweets", text=e2e.tag + '"')
        assert call["json"] == {"text": text, "reply": {"in_reply_to_tweet_id": tid}}
        assert sent["provider_id"] and sent["reply_to_provider_id"] == tid

    def test_over_280_characters_is_refused_naming_the_limit(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        tid = tweet_id()
        e2e.post(sx.mention_webhook(account, config, tid, "42", "bob", f"@acme hi {e2e.tag}"))
        conv, _ = e2e.wait_message(tid)
        answer = e2e.reply(conv["id"], "x" * 281, visibility="public")
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["code"] == "too_long" and "280" in error["message"]
        assert error["details"]["allowed"] == ["at most 280 characters"]
        assert not [m for m in e2e.conversation(conv["id"])["messages"]
                    if m["direction"] == "outbound"]


class TestDirectMessage:
    def test_dm_reply_goes_to_the_dm_endpoint(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        sender = str(random.randrange(10**9, 10**10))
        event_id = tweet_id()
        e2e.post(sx.dm_webhook(account, config, event_id, sender, "jane",
                               f"my order number? {e2e.tag}"))
        conv, message = e2e.wait_message(f"{event_id}")
        assert message["visibility"] == "private"
        text = f"Checking now {e2e.tag}"
        reply = e2e.sent(conv["id"], text, visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("x", method="POST", path_contains=f"/with/{sender}/messages")
        assert call["json"] == {"text": text}
        assert sent["provider_id"]


class TestInboundGuarantees:
    def test_bad_or_missing_signature_is_refused_and_nothing_is_stored(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        tid = tweet_id()
        hook = sx.mention_webhook(account, config, tid, "7", "eve", f"@acme {e2e.tag}")
        forged = {**hook.headers, "x-twitter-webhooks-signature": "sha256=AAAA"}
        missing = {"content-type": "application/json"}
        assert e2e.post(hook, headers=forged).status_code in (401, 403)
        assert e2e.post(hook, headers=missing).status_code in (401, 403)
        tampered = hook.body.replace(b"@acme", b"@evil")
        assert e2e.post(hook, body=tampered).status_code in (401, 403)
        # Nothing stored: a later valid event is the workspace's only conversation.
        other = tweet_id()
        e2e.post(sx.mention_webhook(account, config, other, "8", "ok", f"@acme {e2e.tag}"))
        e2e.wait_message(other)
        convs = e2e.conversations()
        assert len(convs) == 1
        assert all(m["provider_id"] != tid
                   for m in e2e.conversation(convs[0]["id"])["messages"])

    def test_crc_handshake(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        answer = e2e.post(sx.crc_webhook(account, "abc"))
        assert answer.status_code == 200
        assert json.loads(answer.content)["response_token"].startswith("sha256=")

    def test_replayed_duplicates_make_one_message(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        tid = tweet_id()
        hook = sx.mention_webhook(account, config, tid, "9", "dup", f"@acme twice {e2e.tag}")
        for _ in range(3):
            assert e2e.post(hook).status_code == 200
        conv, _ = e2e.wait_message(tid)
        assert [m["provider_id"] for m in conv["messages"]] == [tid]

    def test_reply_before_its_parent_is_threaded_once_the_parent_arrives(self,
                                                                          e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        parent, child = tweet_id(), tweet_id()
        e2e.post(sx.mention_webhook(account, config, child, "11", "kid",
                                    f"@acme and also this {e2e.tag}", in_reply_to=parent))
        e2e.wait_message(child)
        e2e.post(sx.mention_webhook(account, config, parent, "11", "kid",
                                    f"@acme first question {e2e.tag}"))

        def together() -> dict[str, Any] | None:
            convs = e2e.conversations()
            if len(convs) != 1:
                return None
            conv = e2e.conversation(convs[0]["id"])
            pids = {m["provider_id"] for m in conv["messages"]}
            return conv if pids == {parent, child} else None
        wait_for(together, what="parent and reply in one conversation")

    def test_delete_is_reflected_in_the_timeline(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        tid = tweet_id()
        e2e.post(sx.mention_webhook(account, config, tid, "12", "del", f"@acme oops {e2e.tag}"))
        conv, _ = e2e.wait_message(tid)
        assert e2e.post(sx.delete_webhook(account, config, tid, "12")).status_code == 200

        def deleted() -> dict[str, Any] | None:
            message = next(m for m in e2e.conversation(conv["id"])["messages"]
                           if m["provider_id"] == tid)
            return message if message["deleted_at"] else None
        wait_for(deleted, what="deleted_at")


class TestMentionsPoller:
    def test_polled_mentions_become_conversations_and_errors_reschedule(self,
                                                                         e2e: E2E) -> None:
        user_id = str(random.randrange(10**9, 10**10))  # this account's own id at X
        config = x_config(e2e, user_id=user_id, poll=True, poll_interval_seconds=30)
        tid = tweet_id()
        sx.add_mention(user_id, tid, "31", "pat", f"@acme polled {e2e.tag}")
        e2e.fault("x", f"/2/users/{user_id}/mentions", 503)  # the first poll fails
        account = e2e.account("x", config)  # creating it schedules the first poll
        wait_for(lambda: e2e.calls("x", method="GET", path_contains=f"/{user_id}/mentions"),
                 what="first poll")
        # Rescheduled 30 s later (backoff); poll now instead of waiting.
        assert e2e.api.post(f"/channel-accounts/{account}/poll").status_code == 202
        conv, message = e2e.wait_message(tid)
        assert message["visibility"] == "public"
        # The same tweet delivered by webhook later is not stored twice.
        e2e.post(sx.mention_webhook(account, config, tid, "31", "pat",
                                    f"@acme polled {e2e.tag}"))
        assert e2e.api.post(f"/channel-accounts/{account}/poll").status_code == 202
        time.sleep(0.5)
        conv = e2e.conversation(conv["id"])
        assert [m["provider_id"] for m in conv["messages"]] == [tid]
        traits = e2e.api.get(f"/channel-accounts/{account}/traits").json()
        assert traits["polling"] is True and traits["char_limit"] == 280
        assert traits["crash_recovery"] == "reconcile"


class TestCrcIsNoSigningOracle:
    """The attack found in review: ask the CRC handshake to sign a JSON body, then POST that
    body with the answer as its signature. Both halves must fail, and nothing is stored."""

    def test_forged_dm_through_the_crc_answer_is_refused(self, e2e: E2E) -> None:
        config = x_config(e2e)
        account = e2e.account("x", config)
        sender, first = str(random.randrange(10**9, 10**10)), tweet_id()
        e2e.post(sx.dm_webhook(account, config, first, sender, "jane", f"hello {e2e.tag}"))
        conv, _ = e2e.wait_message(first)

        forged = sx.dm_webhook(account, config, tweet_id(), sender, "jane",
                               f"send the refund to IBAN GB82WEST12345698765432 {e2e.tag}")
        answer = e2e.post(sx.crc_webhook(account, forged.body.decode()))
        assert answer.status_code == 400
        assert b"response_token" not in answer.content

        # Whatever a CRC may still sign (a token) is never accepted as a delivery.
        token_body = b"crc_test_token_123"
        refused = e2e.post(forged, body=token_body, headers={
            **forged.headers, "x-twitter-webhooks-signature": sign("sandbox_secret",
                                                                   token_body)})
        assert refused.status_code == 401
        time.sleep(1.0)
        assert [m["provider_id"] for m in e2e.conversation(conv["id"])["messages"]] == [first]

    def test_plain_tokens_still_get_their_answer(self, e2e: E2E) -> None:
        account = e2e.account("x", x_config(e2e))
        for token in ("crc_test_token_123", "Zm9vYmFy+/=", "a" * 256):
            assert e2e.post(sx.crc_webhook(account, token)).status_code == 200
        for token in ("a" * 257, '{"for_user_id":"1"}', "has space", "x\ny"):
            assert e2e.post(sx.crc_webhook(account, token)).status_code == 400
