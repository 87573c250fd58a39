"""Acceptance 2: a Facebook comment -> a private reply to the comment (the sandbox records
`recipient.comment_id`) -> the Messenger thread that follows, from the same person, joins the
same conversation. Also the X DM invitation (a deep link in a public reply)."""

from __future__ import annotations

from typing import Any

from tests.hops.conftest import OWN_X_ID, Hops, some_id, wait_for
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import x as sx

PAGE_ID = "1234567890"


def meta_config(hop: Hops) -> dict[str, Any]:
    return {"app_secret": "sandbox_app_secret", "verify_token": "vt",
            "access_token": "EAAG-token", "api_base_url": hop.sandbox_url("/meta"),
            "page_id": PAGE_ID}


class TestPrivateReply:
    def test_messenger_thread_after_a_private_reply_joins_the_conversation(
            self, hop: Hops) -> None:
        config = meta_config(hop)
        account = hop.account("facebook", config)
        comment_id = f"{some_id()}_{some_id()}"
        hook = sm.page_comment_webhook(account, config, from_id=some_id(),
                                       text=f"My card was charged twice! {hop.tag}",
                                       post_id=f"{PAGE_ID}_{some_id()}", comment_id=comment_id)
        assert hop.post(hook).status_code == 200
        conv, _ = hop.wait_message(comment_id)

        offer = hop.offer(conv["id"], "private_reply")
        reply = offer["message"]
        assert offer["url"] is None and reply["visibility"] == "private"
        hop.wait_delivery(conv["id"], reply["id"])
        [call] = hop.calls("meta", method="POST", path_contains=f"/{PAGE_ID}/messages",
                           text=comment_id)
        assert call["json"]["recipient"] == {"comment_id": comment_id}
        [record] = hop.hops(conv["id"])
        psid = record["meta"]["recipient_id"]  # from the Send API's answer
        assert record["taken_at"] is None

        # The person answers in Messenger: same conversation, private, hop taken.
        mid = f"m_{some_id()}"
        said = f"Here are the details {hop.tag}"
        assert hop.post(sm.messenger_message_webhook(account, config, text=said, psid=psid,
                                                     mid=mid)).status_code == 200
        joined, message = hop.wait_message(mid)
        assert joined["id"] == conv["id"]
        assert message["visibility"] == "private" and message["direction"] == "inbound"
        assert len(hop.conversations()) == 1
        [record] = hop.hops(conv["id"])
        assert record["taken_at"] is not None and record["to_channel"] == "facebook"

        # The agent's next private message goes to the person's Messenger thread.
        answer = hop.sent(conv["id"], f"Refund on its way {hop.tag}", visibility="private")
        hop.wait_delivery(conv["id"], answer["id"])
        [dm] = hop.calls("meta", method="POST", path_contains=f"/{PAGE_ID}/messages",
                         text=f"Refund on its way {hop.tag}")
        assert dm["json"]["recipient"] == {"id": psid}
        customer = hop.api.get(f"/customers/{joined['customer']['id']}").json()
        assert customer["preferred_channel"] == "facebook"
        assert psid in {i["address"] for i in customer["identities"]}

    def test_private_reply_on_x_is_refused_with_a_typed_error(self, hop: Hops) -> None:
        _, conv, _ = hop.x_complaint(f"@acme hello {hop.tag}")
        answer = hop.api.post(f"/conversations/{conv['id']}/hops",
                              json={"method": "private_reply", "reason": "privacy"})
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "private_reply_unavailable"
        assert hop.hops(conv["id"]) == []


class TestDmInvite:
    def test_x_dm_invitation_then_the_dm_joins_the_conversation(self, hop: Hops) -> None:
        config = hop.x_config()
        account = hop.account("x", config)
        tweet, user = str(1_860_000_000_000_000_000 + int(some_id(12))), some_id(9)
        assert hop.post(sx.mention_webhook(account, config, tweet, user, "jane",
                                           f"@acme my account is locked {hop.tag}")
                        ).status_code == 200
        conv, _ = hop.wait_message(tweet)
        offer = hop.offer(conv["id"], "dm_invite")
        hop.wait_delivery(conv["id"], offer["message"]["id"])
        [call] = hop.calls("x", method="POST", path_contains="/2/tweets", text=tweet)
        assert call["json"]["reply"] == {"in_reply_to_tweet_id": tweet}
        assert OWN_X_ID in str(call["json"])  # the deep link to our inbox
        dm_id = str(1_870_000_000_000_000_000 + int(some_id(12)))
        assert hop.post(sx.dm_webhook(account, config, dm_id, user, "jane",
                                      f"it is locked since Monday {hop.tag}")).status_code == 200
        joined, message = hop.wait_message(dm_id)
        assert joined["id"] == conv["id"] and message["visibility"] == "private"

        def taken() -> dict[str, Any] | None:
            [record] = hop.hops(conv["id"])
            return record if record["taken_at"] else None
        assert wait_for(taken, what="hop taken")["to_channel"] == "x"
