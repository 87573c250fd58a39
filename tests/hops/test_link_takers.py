"""Issue 10, findings 3 and 9, end to end through real HTTP (Threadline under uvicorn with its
worker, the provider sandbox): a public short link's taker is not the customer until proven.

The attacker reads the public reply, opens the `/s/` link first and submits the form: nothing he
types reaches the public author's profile, he chats in the case as a separate, unverified person
(marked so in the API), the agent's private replies go to him with a warning, and the public
author's other private channels receive nothing. The real customer proves control of his X
account by posting (or sending) the code the page showed him, through a signed webhook: he is
merged into the public author. An agent can confirm instead (REST and desktop, audited). A used
link opens no chat session and shows no public message. Finding 12: the public follow-up
answers the hop's origin post on X and Facebook even when the customer posted again."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import make_token
from tests.desktop.conftest import Desk, make_agent
from tests.hops.conftest import Hops, some_id, wait_for
from tests.hops.test_callbacks import callbacks_of, phone, voice_config, wait_state
from tests.hops.test_private_reply import PAGE_ID, meta_config
from threadline.events.models import AuditEvent
from threadline.sandbox.providers import meta as sm
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_workspace

PROOF_RE = re.compile(r'id="proof-code">(TL-[A-Z2-9]{8})<')


@dataclass
class Case:
    hop: Hops
    x_account: str
    config: dict[str, Any]
    user: str  # the public author's X user id
    conv: dict[str, Any]
    tweet: str
    path: str = ""  # the /s/ link
    chat: str = ""  # the web chat account a chat link opens

    @property
    def author_id(self) -> str:
        return str(self.conv["customer"]["id"])

    def tweet_from(self, user: str, screen_name: str, text: str) -> str:
        tweet = str(1_880_000_000_000_000_000 + int(some_id(15)))
        hook = sx.mention_webhook(self.x_account, self.config, tweet, user, screen_name, text)
        assert self.hop.post(hook).status_code == 200
        self.hop.wait_message(tweet)
        return tweet

    def dm_from(self, user: str, screen_name: str, text: str) -> str:
        event = str(1_890_000_000_000_000_000 + int(some_id(15)))
        hook = sx.dm_webhook(self.x_account, self.config, event, user, screen_name, text)
        assert self.hop.post(hook).status_code == 200
        self.hop.wait_message(event)
        return event

    def author(self) -> dict[str, Any]:
        answer = self.hop.api.get(f"/customers/{self.author_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def takers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.hop.conversation(self.conv["id"])["takers"]
        return found


def public_case(hop: Hops, method: str = "chat_link") -> Case:
    """@jane complains in public on X (and wrote a private DM before); the agent offers a link."""
    config = hop.x_config()
    account = hop.account("x", config)
    user = some_id(9)
    tweet = str(1_850_000_000_000_000_000 + int(some_id(15)))
    assert hop.post(sx.mention_webhook(account, config, tweet, user, "jane",
                                       f"@acme my booking was cancelled {hop.tag}")
                    ).status_code == 200
    conv, _ = hop.wait_message(tweet)
    case = Case(hop, account, config, user, conv, tweet)
    if method == "chat_link":
        case.chat = hop.account("webchat", {"title": "Acme chat"}, name="Acme chat")
    case.dm_from(user, "jane", f"my booking reference is QX7-PRIVATE {hop.tag}")
    offer = hop.offer(conv["id"], method)
    hop.wait_delivery(conv["id"], offer["message"]["id"])
    case.path = hop.path(offer["url"])
    return case


def coordinates(customer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["kind"], i["address"]) for i in customer["identities"]}


def take_chat(case: Case, email: str, question: str) -> tuple[str, str | None]:
    """Submit the chat form like a browser: (visitor token, the proof code shown)."""
    page = case.hop.customer.get(case.path)
    assert page.status_code == 200
    answer = case.hop.customer.post(case.path, data={
        "name": "Jane", "email": email, "question": question, "consent": "yes"})
    assert answer.status_code == 200, answer.text
    token, _ = case.hop.handoff(answer.text)
    proof = PROOF_RE.search(answer.text)
    return token, proof.group(1) if proof else None


def say(hop: Hops, chat: str, token: str, text: str) -> None:
    sent = hop.customer.post(f"/webchat/{chat}/messages", json={"text": text,
                                                         "echo_id": uuid.uuid4().hex},
                             headers={"x-visitor-token": token})
    assert sent.status_code == 202, sent.text


def in_case(case: Case, *texts: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        detail = case.hop.conversation(case.conv["id"])
        seen = {m["text"] for m in detail["messages"]}
        return detail if all(t in seen for t in texts) else None
    return wait_for(probe, what=f"{texts} in the case")


class TestAttackerTakesThePublicLinkFirst:
    def test_nothing_reaches_the_authors_profile_and_replies_are_marked(self,
                                                                         hop: Hops) -> None:
        case = public_case(hop)
        chat = case.chat
        before = case.author()
        question = f"It's me Jane, what was my booking reference? {hop.tag}"
        token, _ = take_chat(case, "mallory@evil.example", question)
        said = f"and send the refund to my new card {hop.tag}"
        say(hop, chat, token, said)
        detail = in_case(case, question, said)

        # Nothing the taker typed is on the public author's profile, no consent either.
        after = case.author()
        assert coordinates(after) == coordinates(before)
        assert after["consents"] == before["consents"] == []
        assert "mallory@evil.example" not in str(after)

        # He is a separate, pending person in the case, marked on every message of his.
        [taker] = detail["takers"]
        assert taker["state"] == "pending" and not taker["verified"]
        assert taker["claimed_customer_id"] == case.author_id
        assert taker["customer_id"] != case.author_id
        assert taker["warning"] == "unverified — not proven to be @jane"
        his = [m for m in detail["messages"] if m["channel"] == "webchat"]
        assert len(his) == 2 and {m["unverified"] for m in his} == {taker["warning"]}
        assert all(m["unverified"] is None for m in detail["messages"]
                   if m["channel"] == "x")
        assert [t["id"] for t in after["takers"]] == [taker["id"]]  # on the author's file too
        own = hop.api.get(f"/customers/{taker['customer_id']}").json()
        assert ("email", "mallory@evil.example") in coordinates(own)
        assert {c["kind"] for c in own["consents"]} == {"webchat", "email"}

        # The agent's private reply goes to the taker's chat, with the warning ...
        text = f"Let me check that for you {hop.tag}"
        reply = hop.sent(case.conv["id"], text, visibility="private")
        assert reply["channel_account_id"] == chat and reply["unverified"] == taker["warning"]
        hop.wait_delivery(case.conv["id"], reply["id"])
        # ... and nothing to the author's other private channels (his X DMs).
        assert hop.calls("x", path_contains="/dm_conversations", text=hop.tag) == []

        # The taker's chat shows the public post, his own messages and the reply: nothing
        # from the author's records (his private DM above, his profile).
        history = hop.customer.get(f"/webchat/{chat}/history",
                                   headers={"x-visitor-token": token}).json()
        texts = [i["text"] for i in history["items"]]
        assert texts[0].startswith("@acme my booking was cancelled")
        assert texts[1:] == [question, said, text]
        assert "QX7-PRIVATE" not in str(history) and case.author_id not in str(history)

    def test_the_code_posted_from_another_account_proves_nothing(self, hop: Hops) -> None:
        case = public_case(hop)
        _, code = take_chat(case, "", f"hi {hop.tag}")
        assert code
        case.tweet_from(some_id(9), "mallory", f"@acme {code}")
        case.dm_from(some_id(9), "mallory2", code)
        [taker] = case.takers()
        assert taker["state"] == "pending"
        with hop.runtime.db.session(write=False) as session:
            refused = session.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == hop.workspace_id,
                AuditEvent.action == "hop.taker_proof_refused")).all()
        assert len(refused) == 2


class TestProof:
    def test_the_customer_posts_his_code_from_his_account_and_is_merged(self,
                                                                         hop: Hops) -> None:
        case = public_case(hop)
        chat = case.chat
        before = case.author()
        question = f"Booked for two on Friday {hop.tag}"
        token, code = take_chat(case, "jane@example.org", question)
        in_case(case, question)
        assert coordinates(case.author()) == coordinates(before)
        assert code, "the page shows him his proof code"

        # He posts the code from @jane (a signed X webhook): proven, merged into the author.
        case.tweet_from(case.user, "jane", f"@acme it's me: {code.lower()}")
        taker = wait_for(lambda: (lambda t: t if t["state"] == "proven" else None)(
            case.takers()[0]), what="the taker proven")
        assert taker["proven_by"] == "public_post" and taker["verified"]
        assert taker["warning"] is None
        author = case.author()
        identities = {i["kind"]: i for i in author["identities"]}
        assert identities["webchat"]["evidence"] == "verified"
        assert identities["email"]["address"] == "jane@example.org"
        assert {c["kind"] for c in author["consents"]} == {"webchat", "email"}
        assert author["preferred_channel"] == "webchat"
        merged = hop.api.get(f"/customers/{taker['customer_id']}").json()
        assert merged["merged_into_id"] == case.author_id
        detail = hop.conversation(case.conv["id"])
        assert all(m["unverified"] is None for m in detail["messages"])

        # His chat continues through his own token; replies carry no warning any more.
        say(hop, chat, token, f"thanks {hop.tag}")
        reply = hop.sent(case.conv["id"], f"You're welcome {hop.tag}", visibility="private")
        assert reply["unverified"] is None and reply["channel_account_id"] == chat
        # The code is spent: posting it again changes nothing.
        case.tweet_from(case.user, "jane", f"@acme again {code}")
        assert case.takers()[0]["proven_at"] == taker["proven_at"]


class TestAgentConfirms:
    def test_rest_confirm_merges_and_is_audited_and_guarded(self, hop: Hops) -> None:
        case = public_case(hop)
        take_chat(case, "", f"hello {hop.tag}")
        [taker] = wait_for(lambda: case.takers() or None, what="the taker")
        url = f"/takers/{taker['id']}/confirm"

        # Hostile calls first: none changes anything.
        with hop.runtime.db.session() as session:
            other = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:10]}").id
        stranger = make_token(hop.runtime, other, role="admin")
        assert hop.api.post(url, headers={"Authorization": f"Bearer {stranger}"}
                            ).status_code == 404
        assert hop.api.post(url, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert hop.api.post(f"/takers/{uuid.uuid4()}/confirm").status_code == 404
        assert hop.api.post("/takers/not-an-id/confirm").status_code == 422
        assert hop.api.post(f"/takers/{'9' * 5000}/confirm").status_code in (404, 414, 422)
        assert case.takers()[0]["state"] == "pending"

        agent = make_token(hop.runtime, hop.workspace_id, role="agent")  # any agent may
        answer = hop.api.post(url, headers={"Authorization": f"Bearer {agent}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "confirmed" and answer.json()["proven_by"] == "agent"
        again = hop.api.post(url)
        assert again.status_code == 422 and again.json()["error"]["code"] == "taker_not_pending"
        author = case.author()
        assert [i["evidence"] for i in author["identities"] if i["kind"] == "webchat"] == [
            "verified"]
        with hop.runtime.db.session(write=False) as session:
            actions = set(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == hop.workspace_id)))
        assert {"hop.taker_pending", "hop.taker_proven", "customer.merged",
                "identity.verified"} <= actions

    def test_desktop_confirm_needs_csrf_and_the_right_conversation(self, hop: Hops) -> None:
        case = public_case(hop)
        take_chat(case, "", f"hello {hop.tag}")
        [taker] = wait_for(lambda: case.takers() or None, what="the taker")
        desk = Desk(httpx.Client(base_url=hop.server.url, timeout=10),
                    make_agent(hop.runtime, hop.workspace_id, "agent", "Ada Agent"))
        pane = desk.get(f"/conversations/{case.conv['id']}")
        assert "not proven to be @jane" in pane.text and 'data-role="confirm-taker"' in pane.text
        url = f"/conversations/{case.conv['id']}/takers/{taker['id']}/confirm"
        assert desk.post(url, csrf=False, htmx=True).status_code == 403
        elsewhere = f"/conversations/{uuid.uuid4()}/takers/{taker['id']}/confirm"
        assert desk.post(elsewhere, htmx=True).status_code == 404
        assert case.takers()[0]["state"] == "pending"
        done = desk.post(url, htmx=True)
        assert done.status_code == 200 and "not proven to be" not in done.text
        assert case.takers()[0]["state"] == "confirmed"
        desk.client.close()


class TestCallbackAndEmailForms:
    def test_callback_is_for_the_taker_and_the_number_stays_off_the_profile(
            self, hop: Hops) -> None:
        hop.account("voice", voice_config(hop))
        case = public_case(hop, "callback_form")
        before = case.author()
        number = phone()
        done = hop.customer.post(case.path, data={"phone": number, "consent": "yes",
                                                  "tz_offset": "0"})
        assert done.status_code == 200
        placed = wait_state(hop, case.conv["id"], "placed")
        assert coordinates(case.author()) == coordinates(before)
        assert PROOF_RE.search(done.text)
        [taker] = case.takers()
        assert taker["channel"] == "voice" and taker["state"] == "pending"
        assert placed["customer_id"] == taker["customer_id"] != case.author_id
        assert placed["meta"]["taker_id"] == taker["id"]
        _, call = hop.wait_message(placed["call_provider_id"])
        assert call["unverified"] == taker["warning"]

        # He proves it by DM from @jane: the callback is now the author's, the mark is gone.
        code = PROOF_RE.search(done.text)
        assert code
        case.dm_from(case.user, "jane", f"code {code.group(1)}")
        proven = wait_for(lambda: (lambda t: t if t["state"] == "proven" else None)(
            case.takers()[0]), what="proven by DM")
        assert proven["proven_by"] == "dm"
        [callback] = callbacks_of(hop, case.conv["id"])
        assert callback["customer_id"] == case.author_id
        assert ("phone", number) in coordinates(case.author())

    def test_email_form_taker_gets_the_email_not_the_author(self, hop: Hops) -> None:
        hop.account("email", {"smtp_host": "127.0.0.1", "smtp_port": 1,
                              "imap_host": "127.0.0.1", "imap_port": 1, "username": "u",
                              "password": "p", "address": "support@acme.example",
                              "poll": False})
        case = public_case(hop, "email_form")
        before = case.author()
        done = hop.customer.post(case.path, data={"email": "mallory@evil.example",
                                                  "consent": "yes"})
        assert done.status_code == 200
        assert coordinates(case.author()) == coordinates(before)
        assert PROOF_RE.search(done.text)
        detail = hop.conversation(case.conv["id"])
        [taker] = detail["takers"]
        [first] = [m for m in detail["messages"] if m["channel"] == "email"]
        assert first["meta"]["recipient"] == "mallory@evil.example"
        assert first["unverified"] == taker["warning"]
        assert coordinates(case.author()) == coordinates(before)
        assert case.author()["consents"] == []


class TestUsedLinks:
    def test_a_used_link_opens_no_chat_and_shows_no_public_message(self, hop: Hops) -> None:
        case = public_case(hop)
        chat = case.chat
        code = case.path.rsplit("/", 1)[1]
        token, _ = take_chat(case, "", f"first {hop.tag}")
        in_case(case, f"first {hop.tag}")
        before = hop.snapshot()
        page = hop.customer.get(case.path)
        assert page.status_code == 410 and "booking was cancelled" not in page.text
        opened = hop.http.post(f"{hop.server.url}/webchat/{chat}/session",
                               json={"link_token": code})
        assert opened.status_code == 410 and opened.json()["error"]["code"] == "link_used"
        said = hop.customer.post(f"/webchat/{chat}/messages",
                                 json={"text": "x", "echo_id": "x1", "link_token": code},
                                 headers={"x-visitor-token": token})
        assert said.status_code == 410
        assert hop.snapshot() == before
        # The taker's own session goes on through his signed token, not through the link.
        history = hop.customer.get(f"/webchat/{chat}/history",
                                   headers={"x-visitor-token": token})
        assert history.status_code == 200 and history.json()["items"][0]["type"] == "context"
        say(hop, chat, token, f"still here {hop.tag}")
        in_case(case, f"still here {hop.tag}")

    def test_a_live_public_code_opens_no_chat_session_without_its_form(self,
                                                                      hop: Hops) -> None:
        case = public_case(hop)
        chat = case.chat
        code = case.path.rsplit("/", 1)[1]
        before = hop.snapshot()
        opened = hop.http.post(f"{hop.server.url}/webchat/{chat}/session",
                               json={"link_token": code, "question": "it's me"})
        assert opened.status_code == 422
        assert hop.snapshot() == before


class TestFollowUpAnswersTheOriginalPost:
    """Finding 12: the public follow-up replies to the hop's origin post, not to a later one."""

    def resolve_and_follow_up(self, hop: Hops, conversation_id: str) -> dict[str, Any]:
        assert hop.api.post(f"/conversations/{conversation_id}/resolve").status_code == 200
        wait_for(lambda: hop.conversation(conversation_id)["status"] == "resolved",
                 what="resolved committed")
        follow = hop.api.post(f"/conversations/{conversation_id}/follow-up", json={})
        assert follow.status_code == 201, follow.text
        sent: dict[str, Any] = hop.wait_delivery(conversation_id, follow.json()["id"])
        return sent

    def test_x_follow_up_replies_to_the_first_tweet(self, hop: Hops) -> None:
        case = public_case(hop)
        offer_tweet = next(m["provider_id"] for m in hop.conversation(case.conv["id"])["messages"]
                           if m["direction"] == "outbound" and "/s/" in m["text"])
        later = str(1_880_000_000_000_000_000 + int(some_id(15)))
        assert hop.post(sx.mention_webhook(case.x_account, case.config, later, case.user,
                                           "jane", f"@acme still waiting {hop.tag}",
                                           in_reply_to=offer_tweet)).status_code == 200
        joined, _ = hop.wait_message(later)
        assert joined["id"] == case.conv["id"]
        sent = self.resolve_and_follow_up(hop, case.conv["id"])
        [call] = [c for c in hop.calls("x", method="POST", path_contains="/2/tweets")
                  if c["json"]["text"] == sent["text"] and case.tweet in c["body"]]
        assert call["json"]["reply"] == {"in_reply_to_tweet_id": case.tweet}
        assert sent["reply_to_provider_id"] == case.tweet

    def test_facebook_follow_up_replies_to_the_first_comment(self, hop: Hops) -> None:
        config = meta_config(hop)
        account = hop.account("facebook", config)
        post, person = f"{PAGE_ID}_{some_id()}", some_id()
        first, later = f"{some_id()}_{some_id()}", f"{some_id()}_{some_id()}"
        assert hop.post(sm.page_comment_webhook(account, config, from_id=person, post_id=post,
                                                comment_id=first,
                                                text=f"Charged twice! {hop.tag}")
                        ).status_code == 200
        conv, _ = hop.wait_message(first)
        offer = hop.offer(conv["id"], "private_reply")
        hop.wait_delivery(conv["id"], offer["message"]["id"])
        assert hop.post(sm.page_comment_webhook(account, config, from_id=person, post_id=post,
                                                comment_id=later, parent_id=first,
                                                text=f"Hello?? {hop.tag}")).status_code == 200
        joined, _ = hop.wait_message(later)
        assert joined["id"] == conv["id"]
        sent = self.resolve_and_follow_up(hop, conv["id"])
        # this case's comments only: the sandbox also holds other tests' calls, and the
        # default follow-up text is the same in every case
        calls = [c for c in hop.calls("meta", method="POST", path_contains="/comments")
                 if sent["text"] in c["body"]
                 and c["path"].rsplit("/", 2)[-2] in (first, later)]
        assert [c["path"].rsplit("/", 2)[-2] for c in calls] == [first]
        assert sent["reply_to_provider_id"] == first
