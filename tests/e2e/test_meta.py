"""Facebook Page, Messenger, Instagram and WhatsApp end to end through real HTTP: signed
webhooks in, REST replies out, the right Graph API calls recorded by the sandbox; the 24-hour
windows refused with a typed 422 that names what is allowed instead."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from tests.e2e.conftest import E2E, wait_for
from threadline.sandbox.providers import meta as sm

PAGE_ID = "1234567890"
IG_ID = "17841400000000000"
PHONE_ID = "106540352242922"


def meta_config(e2e: E2E, **extra: Any) -> dict[str, Any]:
    return {"app_secret": "sandbox_app_secret", "verify_token": "vt",
            "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"), **extra}


def some_id() -> str:
    return str(random.randrange(10**14, 10**15))


class TestFacebookPage:
    def test_comment_public_reply_and_private_reply_with_the_comment_id(self,
                                                                         e2e: E2E) -> None:
        config = meta_config(e2e, page_id=PAGE_ID)
        account = e2e.account("facebook", config)
        post_id, comment_id = f"{PAGE_ID}_{some_id()}", f"{some_id()}_{some_id()}"
        hook = sm.page_comment_webhook(account, config, text=f"Is it in stock? {e2e.tag}",
                                       post_id=post_id, comment_id=comment_id,
                                       from_id=some_id())
        assert e2e.post(hook).status_code == 200
        conv, message = e2e.wait_message(comment_id)
        assert message["visibility"] == "public"

        public = e2e.sent(conv["id"], f"Yes, in stock {e2e.tag}")
        e2e.wait_delivery(conv["id"], public["id"])
        [call] = e2e.calls("meta", method="POST", path_contains=f"/{comment_id}/comments")
        assert call["json"]["message"] == f"Yes, in stock {e2e.tag}"

        private = e2e.sent(conv["id"], f"Sent you the details {e2e.tag}", visibility="private",
                           options={"private_reply_to": comment_id})
        e2e.wait_delivery(conv["id"], private["id"])
        [dm] = e2e.calls("meta", method="POST", path_contains=f"/{PAGE_ID}/messages",
                         text=comment_id)
        assert dm["json"]["recipient"] == {"comment_id": comment_id}
        # A comment takes one private reply.
        again = e2e.reply(conv["id"], "one more", visibility="private",
                          options={"private_reply_to": comment_id})
        assert again.status_code == 422
        assert again.json()["error"]["code"] == "private_reply_used"

    def test_edit_is_reflected_in_the_timeline(self, e2e: E2E) -> None:
        config = meta_config(e2e, page_id=PAGE_ID)
        account = e2e.account("facebook", config)
        post_id, comment_id = f"{PAGE_ID}_{some_id()}", f"{some_id()}_{some_id()}"
        author = some_id()
        e2e.post(sm.page_comment_webhook(account, config, text="teh price?", post_id=post_id,
                                         comment_id=comment_id, from_id=author))
        conv, _ = e2e.wait_message(comment_id)
        e2e.post(sm.page_comment_webhook(account, config, text="the price?", post_id=post_id,
                                         comment_id=comment_id, from_id=author,
                                         verb="edited"))

        def edited() -> dict[str, Any] | None:
            m = e2e.message(conv["id"], conv["messages"][0]["id"])
            return m if m["edited_at"] and m["text"] == "the price?" else None
        wait_for(edited, what="edited text")

    def test_wrong_signature_is_refused(self, e2e: E2E) -> None:
        config = meta_config(e2e, page_id=PAGE_ID)
        account = e2e.account("facebook", config)
        hook = sm.page_comment_webhook(account, {**config, "app_secret": "wrong"}, text="hi")
        assert e2e.post(hook).status_code in (401, 403)
        unsigned = {"content-type": "application/json"}
        assert e2e.post(hook, headers=unsigned).status_code in (401, 403)
        time.sleep(0.3)
        assert e2e.conversations() == []


class TestMessenger:
    def test_message_and_reply(self, e2e: E2E) -> None:
        config = meta_config(e2e, page_id=PAGE_ID)
        account = e2e.account("facebook", config)
        psid, mid = some_id(), f"m_{some_id()}"
        e2e.post(sm.messenger_message_webhook(account, config, text=f"hello {e2e.tag}",
                                              psid=psid, mid=mid))
        conv, message = e2e.wait_message(mid)
        assert message["visibility"] == "private"
        reply = e2e.sent(conv["id"], f"Hi! {e2e.tag}", visibility="private")
        e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("meta", method="POST", path_contains="/messages", text=psid)
        assert call["json"]["recipient"] == {"id": psid}
        assert call["json"]["messaging_type"] == "RESPONSE"
        assert call["json"]["message"]["metadata"] == f"threadline:{reply['id']}"

    def test_outside_24_hours_needs_the_human_agent_tag(self, e2e: E2E) -> None:
        config = meta_config(e2e, page_id=PAGE_ID)
        account = e2e.account("facebook", config)
        psid, mid = some_id(), f"m_{some_id()}"
        old = int((time.time() - 30 * 3600) * 1000)
        e2e.post(sm.messenger_message_webhook(account, config, text="still there?",
                                              psid=psid, mid=mid, timestamp_ms=old))
        conv, _ = e2e.wait_message(mid)
        refused = e2e.reply(conv["id"], "Sorry for the wait", visibility="private")
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "window_closed"
        assert "human_agent_tag" in error["details"]["allowed"]
        traits = e2e.api.get(f"/channel-accounts/{account}/traits",
                             params={"conversation_id": conv["id"]}).json()
        assert traits["window_hours"] == 24 and traits["replies"]["private"]["ok"] is False
        assert "human_agent_tag" in traits["replies"]["private"]["allowed"]

        tagged = e2e.sent(conv["id"], f"Sorry for the wait {e2e.tag}", visibility="private",
                          options={"tag": "HUMAN_AGENT"})
        e2e.wait_delivery(conv["id"], tagged["id"])
        [call] = e2e.calls("meta", method="POST", path_contains="/messages", text=psid)
        assert call["json"]["messaging_type"] == "MESSAGE_TAG"
        assert call["json"]["tag"] == "HUMAN_AGENT"


class TestInstagram:
    def test_comment_reply_and_dm(self, e2e: E2E) -> None:
        config = meta_config(e2e, ig_user_id=IG_ID)
        account = e2e.account("instagram", config)
        comment_id, media_id = f"179{some_id()}", f"180{some_id()}"
        e2e.post(sm.instagram_comment_webhook(account, config, text=f"Which size? {e2e.tag}",
                                              comment_id=comment_id, media_id=media_id,
                                              from_id=some_id()))
        conv, message = e2e.wait_message(comment_id)
        assert message["visibility"] == "public"
        reply = e2e.sent(conv["id"], f"Size M {e2e.tag}")
        e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("meta", method="POST", path_contains=f"/{comment_id}/replies")
        assert call["json"]["message"] == f"Size M {e2e.tag}"

        igsid, mid = some_id(), f"aWdf{some_id()}"
        e2e.post(sm.instagram_dm_webhook(account, config, text=f"dm {e2e.tag}", igsid=igsid,
                                         mid=mid))
        dm_conv, _ = e2e.wait_message(mid)
        answer = e2e.sent(dm_conv["id"], f"Answer {e2e.tag}", visibility="private")
        e2e.wait_delivery(dm_conv["id"], answer["id"])
        [dm] = e2e.calls("meta", method="POST", path_contains=f"/{IG_ID}/messages", text=igsid)
        assert dm["json"]["recipient"] == {"id": igsid}

    def test_wrong_signature_is_refused(self, e2e: E2E) -> None:
        config = meta_config(e2e, ig_user_id=IG_ID)
        account = e2e.account("instagram", config)
        hook = sm.instagram_dm_webhook(account, {**config, "app_secret": "nope"}, text="x")
        assert e2e.post(hook).status_code in (401, 403)


class TestWhatsApp:
    def config(self, e2e: E2E) -> dict[str, Any]:
        return meta_config(e2e, phone_number_id=PHONE_ID)

    def test_message_reply_and_statuses(self, e2e: E2E) -> None:
        config = self.config(e2e)
        account = e2e.account("whatsapp", config)
        wa_id, wamid = f"1650{random.randrange(10**7)}", f"wamid.IN{some_id()}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text=f"hi {e2e.tag}",
                                             wa_id=wa_id, wamid=wamid))
        conv, _ = e2e.wait_message(wamid)
        reply = e2e.sent(conv["id"], f"Hello {e2e.tag}", visibility="private")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("meta", method="POST", path_contains=f"/{PHONE_ID}/messages",
                           text=e2e.tag)
        assert call["json"]["to"].lstrip("+") == wa_id
        assert call["json"]["text"]["body"] == f"Hello {e2e.tag}"
        e2e.post(sm.whatsapp_status_webhook(account, config, wamid=sent["provider_id"],
                                            status="read", recipient_id=wa_id))
        e2e.wait_delivery(conv["id"], reply["id"], ("read",))

    @pytest.mark.parametrize("hours", [25])
    def test_outside_24_hours_needs_a_template(self, e2e: E2E, hours: int) -> None:
        config = self.config(e2e)
        account = e2e.account("whatsapp", config)
        wamid = f"wamid.IN{some_id()}"
        e2e.post(sm.whatsapp_message_webhook(account, config, text="order?",
                                             wa_id=f"1650{random.randrange(10**7)}",
                                             wamid=wamid,
                                             timestamp=int(time.time() - hours * 3600)))
        conv, _ = e2e.wait_message(wamid)
        refused = e2e.reply(conv["id"], "Here is your update", visibility="private")
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "window_closed" and error["details"]["allowed"] == ["template"]
        template = {"name": "order_update", "language": "en_US", "components": []}
        ok = e2e.sent(conv["id"], f"order_update {e2e.tag}", visibility="private",
                      options={"template": template})
        e2e.wait_delivery(conv["id"], ok["id"])
        [call] = e2e.calls("meta", method="POST", path_contains=f"/{PHONE_ID}/messages",
                           text="order_update\"")
        assert call["json"]["type"] == "template"

    def test_wrong_signature_is_refused(self, e2e: E2E) -> None:
        config = self.config(e2e)
        account = e2e.account("whatsapp", config)
        hook = sm.whatsapp_message_webhook(account, {**config, "app_secret": "bad"}, text="x")
        assert e2e.post(hook).status_code in (401, 403)
