"""One link, the customer's choice (issue 15): a choice link offers several ways at once — the
forms whose channel the workspace runs (chat, callback, email) and WhatsApp or SMS where the
offered channels list a number; the page lists them, the customer picks, and the way he picked
becomes his preferred channel. Forged picks, ways not offered and other links' codes change
nothing; the WhatsApp way leads only to the company's own number."""

from __future__ import annotations

from typing import Any

import pytest

from tests.desktop.browser import browser_login
from tests.desktop.conftest import make_agent
from tests.hops.conftest import Hops
from tests.hops.test_callbacks import phone, voice_config

WHATSAPP = "+1 555 010 4477"


def _setup(hop: Hops, *, whatsapp: bool = True) -> dict[str, Any]:
    _, conv, _ = hop.x_complaint(f"@acme my parcel never came {hop.tag}")
    hop.account("webchat", {"title": "Acme chat"}, name="Acme chat")
    hop.account("voice", voice_config(hop))
    channels = [{"kind": "webchat", "label": "Chat", "address": ""}]
    if whatsapp:
        channels.append({"kind": "whatsapp", "label": "WhatsApp", "address": WHATSAPP})
    answer = hop.api.put("/settings/offered-channels", json={"channels": channels})
    assert answer.status_code == 200, answer.text
    return conv


def test_the_customer_picks_a_call_back(hop: Hops) -> None:
    conv = _setup(hop)
    offer = hop.offer(conv["id"], "choice_link", reason="customer_choice")
    assert offer["hop"]["method"] == "choice_link" and offer["hop"]["to_channel"] is None
    assert offer["hop"]["meta"]["choices"] == ["chat", "callback", "whatsapp"]  # no email
    assert "Choose here: " in offer["message"]["text"]
    path = hop.path(offer["url"])

    page = hop.customer.get(path)
    assert page.status_code == 200
    for way in ("chat", "callback", "whatsapp"):
        assert f'id="choice-{way}"' in page.text
    assert 'id="choice-email"' not in page.text and "never came" in page.text
    assert hop.customer.get(f"{path}?m=email").text.count('id="choice-') == 3  # not offered
    form = hop.customer.get(f"{path}?m=callback")
    assert 'name="phone"' in form.text and 'name="choice" value="callback"' in form.text

    number = phone()
    done = hop.customer.post(path, data={"choice": "callback", "phone": number,
                                         "window_start": "", "window_end": "",
                                         "tz_offset": "0", "consent": "yes"})
    assert done.status_code == 200 and "We will call you" in done.text
    [record] = hop.hops(conv["id"])
    assert record["taken_at"] and record["to_channel"] == "voice"
    assert record["meta"]["chosen"] == "callback"
    assert "voice" in hop.snapshot()["preferred"]  # his choice is his preferred channel
    again = hop.customer.get(path)
    assert "has been used already" in again.text  # one link, used once


def test_forged_picks_and_other_ways_change_nothing(hop: Hops) -> None:
    conv = _setup(hop)
    offer = hop.offer(conv["id"], "choice_link", choices=["chat", "callback", "whatsapp"])
    hop.wait_delivery(conv["id"], offer["message"]["id"])  # nothing left in flight
    path = hop.path(offer["url"])
    before = hop.snapshot()
    good = {"phone": phone(), "window_start": "", "window_end": "", "tz_offset": "0",
            "consent": "yes"}
    for choice in ("email", "verify", "", "chat_session", "callback<script>"):
        answer = hop.customer.post(path, data={**good, "choice": choice})
        assert answer.status_code == 422, choice
        assert "Please pick one of the ways offered." in answer.text
        assert "<script>" not in answer.text
    answer = hop.customer.post(path, data={**good, "choice": "callback", "consent": ""})
    assert answer.status_code == 422 and 'name="choice" value="callback"' in answer.text
    for kind in ("telegram", "sms", "callback", "..%2F..%2Fadmin"):
        assert hop.customer.get(f"{path}/go/{kind}").status_code in (404, 422), kind
    assert hop.snapshot() == before

    # WhatsApp: the choice is recorded and the customer goes to the company's number only
    went = hop.customer.get(f"{path}/go/whatsapp", follow_redirects=False)
    assert went.status_code == 303 and went.headers["location"] == "https://wa.me/15550104477"
    [record] = hop.hops(conv["id"])
    assert record["meta"]["chosen"] == "whatsapp" and record["taken_at"] is None
    assert hop.customer.get(path).status_code == 200  # nothing proves who clicked: still open

    # a single-purpose link has no ways to pick
    chat = hop.offer(conv["id"], "chat_link")
    assert hop.customer.get(f"{hop.path(chat['url'])}/go/whatsapp").status_code == 404


def test_offers_that_cannot_be_made_are_typed_422s(hop: Hops) -> None:
    conv = _setup(hop, whatsapp=False)
    before = hop.snapshot()
    url = f"/conversations/{conv['id']}/hops"
    for body, code in (({"method": "choice_link", "choices": ["email"]}, "choice_unavailable"),
                       ({"method": "choice_link", "choices": ["whatsapp"]},
                        "choice_unavailable"),
                       ({"method": "chat_link", "choices": ["chat"]}, "invalid_choices")):
        answer = hop.api.post(url, json={"reason": "privacy", **body})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code
    for bad in ({"choices": []}, {"choices": ["fax"]}, {"choices": "chat"}):
        answer = hop.api.post(url, json={"method": "choice_link", "reason": "privacy", **bad})
        assert answer.status_code == 422, bad
    assert hop.snapshot() == before


@pytest.mark.slow
def test_the_choice_page_in_a_browser(hop: Hops, chromium: Any) -> None:
    conv = _setup(hop)
    agent = make_agent(hop.runtime, hop.workspace_id, "agent", "Ada Agent")
    desk = browser_login(chromium, hop.server.url, agent.email, agent.password)
    desk.goto(f"{hop.server.url}/conversations/{conv['id']}")
    desk.select_option("#hop-actions select[name=method]", "choice_link")
    desk.select_option("#hop-actions select[name=reason]", "customer_choice")
    desk.click("#hop-actions button[type=submit]")
    sent = desk.locator(".msg.dir-outbound", has_text="Choose here")
    sent.wait_for(timeout=15000)
    url = next(w for w in sent.inner_text().split() if "/s/" in w)

    customer = chromium.new_context(viewport={"width": 420, "height": 800})
    page = customer.new_page()
    page.goto(url)
    assert page.locator("#hop-choices li").count() == 3
    page.click("#choice-callback")
    page.fill("input[name=phone]", phone())
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.locator("text=We will call you").wait_for(timeout=15000)
    customer.close()
    desk.context.close()
    [record] = hop.hops(conv["id"])
    assert record["meta"]["chosen"] == "callback" and record["to_channel"] == "voice"
