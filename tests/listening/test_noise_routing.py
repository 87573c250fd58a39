"""The noise filter against the operations layer: with an available agent and a routing rule
that takes every X conversation, a retweet, a promotion, spam and a reply between two other
people arrive by webhook next to a real question. Only the question becomes a conversation,
is routed and gets a service-level due time; the noise is stored (listened posts, filtered,
with the reason) and routing never sees it. Restored, a post is routed like any other."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import select

from tests.routing.helpers import agent, conversations, rule, team
from threadline.conversations.models import Message
from threadline.listening.models import ListenedPost
from threadline.sandbox.providers import x as sx
from threadline.workspace.service import create_channel_account

OWN = "4242424242"
CONFIG = {"consumer_key": "ck", "consumer_secret": "noise_secret", "access_token": f"{OWN}-t",
          "access_token_secret": "ats", "user_id": OWN, "brand_handles": ["acmenoise"]}


def tweet_id() -> str:
    return str(1_880_000_000_000_000_000 + random.randrange(10**15))


def deliver(client: Any, hook: Any) -> None:
    response = client.post(hook.path, content=hook.body, headers=hook.headers)
    assert response.status_code == 200, response.text


def filtered(runtime: Any, workspace_id: uuid.UUID) -> dict[str, ListenedPost]:
    with runtime.db.session(write=False) as session:
        return {p.provider_id: p for p in session.scalars(select(ListenedPost).where(
            ListenedPost.workspace_id == workspace_id))}


class TestRoutingNeverAssignsNoise:
    def test_only_the_question_is_routed_and_a_restored_post_is_routed_too(
            self, runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        ada = agent(runtime, workspace_id, "Ada", realtime=10, delayed=10)
        care = team(client, "Care", [ada])
        rule(client, "everything on X", care, [{"field": "channel", "op": "is", "value": "x"}])
        with runtime.db.session() as session:
            account = create_channel_account(session, workspace_id, kind="x", name="X",
                                             config=dict(CONFIG))
            account_id = str(account.id)
        noise = {"retweet": tweet_id(), "promotion": tweet_id(), "spam": tweet_id(),
                 "not_for_brand": tweet_id()}
        question = tweet_id()
        deliver(client, sx.public_tweet_webhook(account_id, CONFIG, noise["retweet"], "11",
                                                "rita", "RT @acmenoise: new app!",
                                                retweet_of=tweet_id()))
        deliver(client, sx.mention_webhook(account_id, CONFIG, noise["promotion"], "12", "deal",
                                           "@acmenoise giveaway time! use code FREE50 today"))
        deliver(client, sx.mention_webhook(account_id, CONFIG, noise["spam"], "13", "bot",
                                           "@acmenoise earn $500 a day, get rich fast"))
        deliver(client, sx.public_tweet_webhook(account_id, CONFIG, noise["not_for_brand"],
                                                "14", "bob", "@carl lol same",
                                                in_reply_to=tweet_id(),
                                                in_reply_to_user_id="15"))
        deliver(client, sx.mention_webhook(account_id, CONFIG, question, "16", "kim",
                                           "@acmenoise my order never arrived, can you help?"))
        worker.drain()

        convs = conversations(runtime, workspace_id)
        assert len(convs) == 1 and convs[0].assignee_id == ada
        assert convs[0].sla_due_at is not None
        kept = filtered(runtime, workspace_id)
        assert {kept[pid].noise_reason for pid in noise.values()} == set(noise)
        assert {kept[pid].state for pid in noise.values()} == {"filtered"}
        with runtime.db.session(write=False) as session:
            held = set(session.scalars(select(Message.provider_id).where(
                Message.workspace_id == workspace_id)))
        assert held == {question}  # the noise is no message: nothing to route, time or group

        # A redelivery of the noise stores nothing twice.
        deliver(client, sx.mention_webhook(account_id, CONFIG, noise["promotion"], "12", "deal",
                                           "@acmenoise giveaway time! use code FREE50 today"))
        worker.drain()
        assert len(filtered(runtime, workspace_id)) == len(noise)

        # Restored, the promotion is a conversation in the queue and routing takes it.
        post_id = kept[noise["promotion"]].id
        answer = client.post(f"/api/v1/listening/posts/{post_id}/restore")
        assert answer.status_code == 200, answer.text
        worker.drain()
        restored = {str(c.id): c for c in conversations(runtime, workspace_id)}
        conv = restored[answer.json()["conversation_id"]]
        assert conv.assignee_id == ada and conv.relevance == "direct"
        assert conv.sla_due_at is not None


class TestDefensiveView:
    def test_the_brands_waiting_public_complaints_most_visible_first(
            self, runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        from datetime import UTC, datetime, timedelta

        with runtime.db.session() as session:
            account = create_channel_account(session, workspace_id, kind="x", name="X",
                                             config=dict(CONFIG))
            account_id = str(account.id)
        long_ago = datetime.now(UTC) - timedelta(minutes=50)
        texts = {"small": ("21", 90, long_ago), "big": ("22", 250_000, long_ago),
                 "recent": ("23", 1_000_000, datetime.now(UTC))}
        for name, (author, followers, at) in texts.items():
            deliver(client, sx.public_tweet_webhook(
                account_id, CONFIG, tweet_id(), author, name,
                f"@acmenoise {name}: terrible service, my refund never came and I am furious",
                followers=followers, created_at=at))
        worker.drain()
        assert client.patch("/api/v1/listening/settings",
                            json={"defensive_wait_minutes": 30}).status_code == 200
        items = client.get("/api/v1/listening/defensive").json()["items"]
        assert [i["reach"] for i in items] == [250_000, 90]  # the recent one waits < 30 min
        assert all(i["waited_seconds"] >= 50 * 60 for i in items)
        # Answered: no longer waiting.
        answer = client.post(f"/api/v1/conversations/{items[0]['conversation_id']}/messages",
                             json={"text": "We are sorry, we are on it.",
                                   "visibility": "public"})
        assert answer.status_code == 201, answer.text
        assert [i["reach"] for i in client.get("/api/v1/listening/defensive").json()[
            "items"]] == [90]


class TestErasure:
    def test_erasing_a_customer_deletes_his_kept_posts(
            self, runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        from threadline.conversations.models import Conversation
        from threadline.conversations.service import Actor
        from threadline.subjects.service import erase_customer

        with runtime.db.session() as session:
            account = create_channel_account(session, workspace_id, kind="x", name="X",
                                             config=dict(CONFIG))
            account_id = str(account.id)
        promo, question, other = tweet_id(), tweet_id(), tweet_id()
        deliver(client, sx.mention_webhook(account_id, CONFIG, promo, "31", "zed",
                                           "@acmenoise giveaway! use code ZED at checkout"))
        deliver(client, sx.mention_webhook(account_id, CONFIG, question, "31", "zed",
                                           "@acmenoise where is my refund?"))
        deliver(client, sx.mention_webhook(account_id, CONFIG, other, "32", "amy",
                                           "@acmenoise giveaway! use code AMY at checkout"))
        worker.drain()
        with runtime.db.session() as session:
            conv = session.scalar(select(Conversation).where(
                Conversation.workspace_id == workspace_id))
            assert conv is not None and conv.customer_id is not None
            report = erase_customer(session, workspace_id, conv.customer_id,
                                    Actor("agent", "admin"))
        assert report.counts["listened_posts"] == 1
        assert set(filtered(runtime, workspace_id)) == {other}  # another person's post stays


class TestWebhooksFeedListening:
    def test_a_matching_mention_is_queued_and_listed_a_reply_between_others_is_listened(
            self, runtime: Any, workspace_id: uuid.UUID, client: Any, worker: Any) -> None:
        assert client.put("/api/v1/listening/rules", json={"rules": [
            {"kind": "keyword", "value": "refund"},
            {"kind": "competitor_handle", "value": "globexnoise"}]}).status_code == 200
        with runtime.db.session() as session:
            account = create_channel_account(session, workspace_id, kind="x", name="X",
                                             config=dict(CONFIG))
            account_id = str(account.id)
        mention, aside = tweet_id(), tweet_id()
        deliver(client, sx.mention_webhook(account_id, CONFIG, mention, "41", "ola",
                                           "@acmenoise where is my refund?"))
        deliver(client, sx.public_tweet_webhook(
            account_id, CONFIG, aside, "42", "pia", "@ola @globexnoise never again, awful",
            in_reply_to=tweet_id(), in_reply_to_user_id="41", followers=77))
        worker.drain()
        heard = {p["provider_id"]: p for p in client.get("/api/v1/listening/posts").json()[
            "items"]}
        assert heard[mention]["state"] == "queued" and heard[mention]["matched"] == [
            "keyword:refund"]
        assert heard[aside]["state"] == "listening"
        assert heard[aside]["competitor"] == "globexnoise" and heard[aside]["followers"] == 77
        convs = conversations(runtime, workspace_id)
        assert len(convs) == 1  # the mention, in the queue; the aside is not a conversation
        with runtime.db.session(write=False) as session:
            held = set(session.scalars(select(Message.provider_id).where(
                Message.workspace_id == workspace_id)))
        assert held == {mention}
