"""CSAT end to end through real HTTP and the provider sandbox: the conversation is resolved
over the REST API, the survey leaves through the outbox in the channel it ended on (quick
replies on Messenger, reply buttons on WhatsApp, an inline keyboard on Telegram), the
customer's signed webhook answers it, and the answer is recorded as the score while the
conversation stays resolved and no other conversation appears."""

from __future__ import annotations

import time

from tests.csat.conftest import PAGE_ID, PHONE_ID, Csat, some_id, wait_for
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import telegram as st


def _messenger_conversation(csat: Csat) -> tuple[str, dict[str, str], str, str]:
    config = csat.meta_config(page_id=PAGE_ID)
    account = csat.account("facebook", config)
    psid, mid = some_id(), f"m_{some_id()}"
    csat.post(sm.messenger_message_webhook(account, config, text=f"my order {csat.tag}",
                                           psid=psid, mid=mid))
    conv, _ = csat.wait_message(mid)
    reply = csat.sent(conv["id"], f"It ships today {csat.tag}", visibility="private")
    csat.wait_delivery(conv["id"], reply["id"])
    return account, config, conv["id"], psid


class TestMessengerQuickReplies:
    def test_a_tap_is_the_score_and_the_conversation_stays_resolved(self, csat: Csat) -> None:
        csat.enable(question=f"How did we do {csat.tag}?")
        account, config, conv_id, psid = _messenger_conversation(csat)
        csat.resolve(conv_id)
        survey = csat.wait_survey(conv_id)
        assert (survey["channel"], survey["method"]) == ("facebook", "quick_replies")
        [call] = wait_for(lambda: csat.calls("meta", method="POST", text=csat.tag
                                             + "?\""), what="the survey's Send API call")
        message = call["json"]["message"]
        assert call["json"]["recipient"] == {"id": psid}
        assert message["text"] == f"How did we do {csat.tag}?"
        replies = message["quick_replies"]
        assert [r["title"] for r in replies] == ["1 \u2013 Very poor", "2 \u2013 Poor",
                                                 "3 \u2013 OK", "4 \u2013 Good",
                                                 "5 \u2013 Excellent"]
        assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)
        tap = sm.messenger_quick_reply_webhook(account, config, payload=replies[3]["payload"],
                                               title=replies[3]["title"], psid=psid)
        assert csat.post(tap).status_code == 200
        answered = csat.wait_survey(conv_id, "answered")
        assert answered["score"] == 4 and answered["comment"] is None
        conv = csat.conversation(conv_id)
        assert conv["status"] == "resolved" and conv["reopen_count"] == 0
        assert not [m for m in conv["messages"] if m["direction"] == "inbound"
                    and "Good" in m["text"]]  # the tap is no message
        assert csat.conversation_count() == 1
        marked = csat.survey_message(conv_id)
        assert marked["meta"]["csat"]["answered"] is True and marked["meta"]["csat"]["score"] == 4

    def test_the_same_tap_delivered_again_and_a_second_tap_change_nothing(self,
                                                                            csat: Csat) -> None:
        csat.enable()
        account, config, conv_id, psid = _messenger_conversation(csat)
        csat.resolve(conv_id)
        csat.wait_survey(conv_id)
        [call] = wait_for(lambda: [c for c in csat.calls("meta", method="POST", text=psid)
                                   if "quick_replies" in c["body"]], what="the survey")
        replies = call["json"]["message"]["quick_replies"]
        mid = f"m_{some_id()}"
        first = sm.messenger_quick_reply_webhook(account, config, payload=replies[4]["payload"],
                                                 title=replies[4]["title"], psid=psid, mid=mid)
        csat.post(first)
        csat.wait_survey(conv_id, "answered")
        csat.post(first)  # a redelivery
        csat.post(sm.messenger_quick_reply_webhook(account, config,
                                                   payload=replies[0]["payload"],
                                                   title=replies[0]["title"], psid=psid))
        wait_for(lambda: csat.audits("csat.answer_refused"), what="the second tap refused")
        time.sleep(0.3)
        [survey] = csat.surveys(conv_id)
        assert survey["score"] == 5
        assert [a["data"]["reason"] for a in csat.audits("csat.answer_refused")] == [
            "survey_answered"]
        assert csat.conversation(conv_id)["status"] == "resolved"
        assert csat.conversation_count() == 1


class TestInstagramAndPostbacks:
    def test_an_instagram_dm_gets_quick_replies(self, csat: Csat) -> None:
        csat.enable()
        config = csat.meta_config(ig_user_id="17841400000000000")
        account = csat.account("instagram", config)
        igsid, mid = some_id(), f"aWdf{some_id()}"
        csat.post(sm.instagram_dm_webhook(account, config, text=f"size? {csat.tag}",
                                          igsid=igsid, mid=mid))
        conv, _ = csat.wait_message(mid)
        csat.resolve(conv["id"])
        assert csat.wait_survey(conv["id"])["method"] == "quick_replies"
        [call] = wait_for(lambda: [c for c in csat.calls("meta", method="POST", text=igsid)
                                   if "quick_replies" in c["body"]], what="the survey")
        reply = call["json"]["message"]["quick_replies"][0]
        csat.post(sm.instagram_quick_reply_webhook(account, config, payload=reply["payload"],
                                                   title=reply["title"], igsid=igsid))
        assert csat.wait_survey(conv["id"], "answered")["score"] == 1
        assert csat.conversation(conv["id"])["status"] == "resolved"

    def test_a_postback_with_a_survey_choice_counts(self, csat: Csat) -> None:
        csat.enable()
        account, config, conv_id, psid = _messenger_conversation(csat)
        csat.resolve(conv_id)
        survey = csat.wait_survey(conv_id)
        payload = f"csat:{survey['id'].replace('-', '')}:4"
        csat.post(sm.messenger_postback_webhook(account, config, payload=payload, title="4",
                                                psid=psid))
        assert csat.wait_survey(conv_id, "answered")["score"] == 4
        assert csat.conversation_count() == 1


class TestWhatsAppButtons:
    def test_three_buttons_a_tap_is_recorded(self, csat: Csat) -> None:
        csat.enable()
        config = csat.meta_config(phone_number_id=PHONE_ID)
        account = csat.account("whatsapp", config)
        wa_id, wamid = "1650555" + some_id(4), f"wamid.IN{some_id()}"
        csat.post(sm.whatsapp_message_webhook(account, config, text=f"late {csat.tag}",
                                              wa_id=wa_id, wamid=wamid))
        conv, _ = csat.wait_message(wamid)
        reply = csat.sent(conv["id"], f"Sorry, it left today {csat.tag}", visibility="private")
        csat.wait_delivery(conv["id"], reply["id"])
        csat.resolve(conv["id"])
        survey = csat.wait_survey(conv["id"])
        assert (survey["channel"], survey["method"]) == ("whatsapp", "buttons")
        [call] = wait_for(lambda: [c for c in csat.calls("meta", method="POST", text=wa_id)
                                   if '"interactive"' in c["body"]],
                          what="the interactive message")
        body = call["json"]
        assert body["to"] == wa_id and body["type"] == "interactive"
        assert body["interactive"]["type"] == "button"
        buttons = body["interactive"]["action"]["buttons"]
        assert [b["reply"]["title"] for b in buttons] == ["Good", "OK", "Bad"]
        sent = csat.survey_message(conv["id"])
        tap = sm.whatsapp_interactive_reply_webhook(
            account, config, reply_id=buttons[1]["reply"]["id"], title="OK",
            context_id=sent["provider_id"], wa_id=wa_id)
        assert csat.post(tap).status_code == 200
        answered = csat.wait_survey(conv["id"], "answered")
        assert answered["score"] == 3
        after = csat.conversation(conv["id"])
        assert after["status"] == "resolved" and after["reopen_count"] == 0
        assert csat.conversation_count() == 1

    def test_the_list_style_offers_the_whole_scale(self, csat: Csat) -> None:
        csat.enable(whatsapp_style="list")
        config = csat.meta_config(phone_number_id=PHONE_ID)
        account = csat.account("whatsapp", config)
        wa_id, wamid = "1650556" + some_id(4), f"wamid.IN{some_id()}"
        csat.post(sm.whatsapp_message_webhook(account, config, text="hello", wa_id=wa_id,
                                              wamid=wamid))
        conv, _ = csat.wait_message(wamid)
        csat.resolve(conv["id"])
        csat.wait_survey(conv["id"])
        [call] = wait_for(lambda: [c for c in csat.calls("meta", method="POST", text=wa_id)
                                   if '"list"' in c["body"]], what="the list message")
        action = call["json"]["interactive"]["action"]
        rows = action["sections"][0]["rows"]
        assert len(rows) == 5 and action["button"] == "Choose a rating"
        sent = csat.survey_message(conv["id"])
        csat.post(sm.whatsapp_interactive_reply_webhook(
            account, config, reply_id=rows[1]["id"], title=rows[1]["title"],
            context_id=sent["provider_id"], wa_id=wa_id, list_reply=True))
        assert csat.wait_survey(conv["id"], "answered")["score"] == 2


class TestTelegramKeyboard:
    def test_a_callback_is_recorded_and_answered(self, csat: Csat) -> None:
        csat.enable()
        config = {"bot_token": "123456:sandbox-token", "secret_token": "tg-secret",
                  "api_base_url": csat.sandbox_url("/telegram")}
        account = csat.account("telegram", config)
        user = int(some_id(9))
        hook = st.telegram_message_webhook(account, config, chat_id=user, user_id=user,
                                           text=f"where is it {csat.tag}")
        assert csat.post(hook).status_code == 200
        conv = wait_for(lambda: next(iter(csat.conversations()), None), what="conversation")
        csat.resolve(conv["id"])
        csat.wait_survey(conv["id"])
        [call] = wait_for(lambda: [c for c in csat.calls("telegram", text=str(user))
                                   if "inline_keyboard" in c["body"]], what="the keyboard")
        rows = call["json"]["reply_markup"]["inline_keyboard"]
        assert [row[0]["text"][0] for row in rows] == ["1", "2", "3", "4", "5"]
        sent = csat.survey_message(conv["id"])
        message_id = int(sent["provider_id"].rpartition(":")[2])
        tap = st.telegram_callback_query_webhook(account, config, chat_id=user, user_id=user,
                                                 data=rows[4][0]["callback_data"],
                                                 message_id=message_id, callback_id=f"cq-{user}")
        assert csat.post(tap).status_code == 200
        assert csat.wait_survey(conv["id"], "answered")["score"] == 5
        [ack] = wait_for(lambda: csat.calls("telegram", path_contains="/answerCallbackQuery",
                                            text=f"cq-{user}"), what="the callback answered")
        assert ack["json"] == {"callback_query_id": f"cq-{user}",
                               "text": "Thank you for your feedback!"}
        assert csat.conversation(conv["id"])["status"] == "resolved"
        assert csat.conversation_count() == 1


class TestNeverPublic:
    def test_a_public_comment_alone_gets_no_survey(self, csat: Csat) -> None:
        csat.enable(question=f"Public survey {csat.tag}?")
        config = csat.meta_config(page_id=PAGE_ID)
        account = csat.account("facebook", config)
        comment_id = f"{some_id()}_{some_id()}"
        csat.post(sm.page_comment_webhook(account, config, text=f"closed today? {csat.tag}",
                                          post_id=f"{PAGE_ID}_{some_id()}",
                                          comment_id=comment_id, from_id=some_id()))
        conv, _ = csat.wait_message(comment_id)
        public = csat.sent(conv["id"], f"Open at nine {csat.tag}")
        csat.wait_delivery(conv["id"], public["id"])
        csat.resolve(conv["id"])
        skipped = wait_for(lambda: [a for a in csat.audits("csat.skipped")
                                    if a["subject_id"] == conv["id"]], what="the decision")
        assert skipped[0]["data"] == {"reason": "no_private_channel"}
        assert csat.surveys(conv["id"]) == []
        assert csat.calls("meta", text=f"Public survey {csat.tag}") == []

    def test_a_comment_that_moved_to_messenger_is_asked_there(self, csat: Csat) -> None:
        csat.enable(question=f"Private survey {csat.tag}?")
        config = csat.meta_config(page_id=PAGE_ID)
        account = csat.account("facebook", config)
        comment_id = f"{some_id()}_{some_id()}"
        csat.post(sm.page_comment_webhook(account, config, text=f"charged twice {csat.tag}",
                                          post_id=f"{PAGE_ID}_{some_id()}",
                                          comment_id=comment_id, from_id=some_id()))
        conv, _ = csat.wait_message(comment_id)
        offer = csat.api.post(f"/conversations/{conv['id']}/hops",
                              json={"method": "private_reply", "reason": "privacy"})
        assert offer.status_code == 201, offer.text
        csat.wait_delivery(conv["id"], offer.json()["message"]["id"])
        psid = wait_for(lambda: (csat.api.get(f"/conversations/{conv['id']}/hops").json()[0]
                                 ["meta"].get("recipient_id")), what="the private thread")
        mid = f"m_{some_id()}"
        csat.post(sm.messenger_message_webhook(account, config, text="my order is 4411",
                                               psid=psid, mid=mid))
        csat.wait_message(mid)
        close_out = csat.sent(conv["id"], f"Refunded, sorry {csat.tag}")  # public, last
        csat.wait_delivery(conv["id"], close_out["id"])
        csat.resolve(conv["id"])
        survey = csat.wait_survey(conv["id"])
        assert (survey["channel"], survey["method"]) == ("facebook", "quick_replies")
        [call] = wait_for(lambda: csat.calls("meta", text=f"Private survey {csat.tag}"),
                          what="the survey")
        assert call["path"].endswith(f"/{PAGE_ID}/messages")
        assert call["json"]["recipient"] == {"id": psid}
        assert not csat.calls("meta", path_contains="/comments",
                              text=f"Private survey {csat.tag}")


class TestForgedTaps:
    def test_a_stranger_a_forged_payload_and_a_bad_score_are_refused(self, csat: Csat) -> None:
        csat.enable()
        account, config, conv_id, psid = _messenger_conversation(csat)
        csat.resolve(conv_id)
        survey = csat.wait_survey(conv_id)
        survey_hex = survey["id"].replace("-", "")
        stranger = some_id()
        csat.post(sm.messenger_message_webhook(account, config, text="hi", psid=stranger))
        taps = [(stranger, f"csat:{survey_hex}:5"),  # someone else's survey
                (psid, f"csat:{survey_hex}:0"), (psid, f"csat:{survey_hex}:6"),
                (psid, "csat:not-a-survey:5"), (psid, f"csat:{'0' * 32}:5")]
        for who, payload in taps:
            csat.post(sm.messenger_quick_reply_webhook(account, config, payload=payload,
                                                       title="5", psid=who))
        refused = wait_for(lambda: (lambda r: r if len(r) == 5 else None)(
            csat.audits("csat.answer_refused")), what="five refusals")
        assert sorted(a["data"]["reason"] for a in refused) == sorted([
            "not_the_surveyed_customer", "invalid_score", "invalid_score", "unknown_survey",
            "unknown_survey"])
        [after] = csat.surveys(conv_id)
        assert after["status"] == "sent" and after["score"] is None
        conv = csat.conversation(conv_id)
        assert conv["status"] == "resolved"
        assert not [m for m in conv["messages"] if m["text"] == "5"]  # taps are no messages
