"""Listening end to end over real HTTP: Threadline under uvicorn (with its embedded worker) and
the provider sandbox's X API. Rules saved through the REST API start the recent-search poller;
what it finds goes to the Listening view (never to the queues) with reach, category and
sentiment; a competitor's unhappy customer becomes an opportunity after the configured wait,
unless the competitor answered; an agent turns a post into a conversation and answers it in
public. Then the noise: a retweet and a promotion delivered by webhook never reach the queue
and are restored into it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.e2e.conftest import E2E, wait_for
from threadline.channels.x.adapter import sign
from threadline.events.models import AuditEvent
from threadline.inbound.learning import labelled_examples
from threadline.sandbox.providers import x as sx

_last = [1_870_000_000_000_000_000 + random.randrange(10**15)]


def tweet_id() -> str:
    """Increasing, like X's snowflake ids (the search cursor is the newest id seen)."""
    _last[0] += random.randrange(1, 10**6)
    return str(_last[0])


def user_id() -> str:
    return str(random.randrange(10**9, 10**10))


def x_config(e2e: E2E, own_id: str, **extra: Any) -> dict[str, Any]:
    return {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
            "access_token": f"{own_id}-token", "access_token_secret": "ats",
            "user_id": own_id, "api_base_url": e2e.sandbox_url("/x"), **extra}


def posts(e2e: E2E, view: str = "listening", **params: Any) -> list[dict[str, Any]]:
    answer = e2e.api.get("/listening/posts", params={"view": view, **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def opportunities(e2e: E2E) -> dict[str, Any]:
    answer = e2e.api.get("/listening/opportunities")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def provider_ids_in_conversations(e2e: E2E, **params: Any) -> set[str]:
    found: set[str] = set()
    for item in e2e.conversations(**params):
        found.update(m["provider_id"] for m in e2e.conversation(item["id"])["messages"]
                     if m["provider_id"])
    return found


class TestListeningThroughTheSandboxSearch:
    def test_rules_search_view_opportunity_and_conversion(self, e2e: E2E) -> None:
        t = e2e.tag
        own, competitor = user_id(), f"globex_{t[:7]}"
        e2e.account("x", x_config(e2e, own, listen=True, brand_handles=[f"acme{t}"]))
        # the sandbox serves the whole test session: tweets other tests posted are not ours
        tweeted_before = {c["seq"] for c in e2e.calls("x", method="POST",
                                                      path_contains="/2/tweets")}
        now = datetime.now(UTC)
        dana, eli, fay, globex_id = user_id(), user_id(), user_id(), user_id()
        waiting = tweet_id()  # unhappy with the competitor for 10 minutes: an opportunity
        sx.add_public_post(waiting, dana, f"dana{t[:5]}", f"@{competitor} your app has been "
                           "down all morning, this is terrible and I am furious",
                           followers=5400, created_at=now - timedelta(minutes=10))
        fresh = tweet_id()  # unhappy, but only just now: not yet
        sx.add_public_post(fresh, eli, f"eli{t[:5]}",
                           f"@{competitor} still broken. awful service, fix it",
                           followers=12, created_at=now)
        answered = tweet_id()  # unhappy 20 minutes ago, but the competitor answered
        sx.add_public_post(answered, fay, f"fay{t[:5]}",
                           f"@{competitor} I hate the new update, nothing works at all",
                           created_at=now - timedelta(minutes=20))
        reply = tweet_id()
        sx.add_public_post(reply, globex_id, competitor, f"@fay{t[:5]} sorry, please DM us",
                           in_reply_to=answered, in_reply_to_user_id=fay,
                           created_at=now - timedelta(minutes=19))
        about_us = tweet_id()  # the brand's name without @: listened, not in a queue
        sx.add_public_post(about_us, user_id(), f"gus{t[:5]}",
                           f"Acme{t} lost my bag again, worst airline ever #fail",
                           followers=310, created_at=now - timedelta(minutes=5))
        sx.add_public_post(tweet_id(), user_id(), "someone", "nothing to do with anyone")

        saved = e2e.api.put("/listening/rules", json={"rules": [
            {"kind": "brand_name", "value": f"Acme{t}"},
            {"kind": "competitor_handle", "value": f"@{competitor}"},
            {"kind": "hashtag", "value": f"#{t}"}]})
        assert saved.status_code == 200, saved.text
        assert f"from:{competitor}" in saved.json()["query"]
        assert e2e.api.patch("/listening/settings", json={
            "opportunity_wait_minutes": 5}).status_code == 200

        # Saving the rules scheduled the search: the poller finds the five matching posts.
        heard = wait_for(lambda: (lambda found: found if len(found) == 5 else None)(
            {p["provider_id"]: p for p in posts(e2e)}), what="the listened posts")
        assert set(heard) == {waiting, fresh, answered, reply, about_us}
        search = e2e.calls("x", method="GET", path_contains="/2/tweets/search/recent")
        assert search and search[0]["query"]["query"].endswith("-is:retweet")
        assert "public_metrics" in search[0]["query"]["user.fields"]
        post = heard[waiting]
        assert post["followers"] == 5400 and post["sentiment"] == "negative"
        assert post["category"] == "complaint" and post["competitor"] == competitor
        assert post["state"] == "listening" and post["source"] == "search"
        assert heard[about_us]["matched"] == [f"brand_name:acme{t}"]
        assert heard[about_us]["followers"] == 310
        # Apart from the agents' queues: none of them is a message of any conversation.
        assert not provider_ids_in_conversations(e2e, relevance="all") & set(heard)

        # Opportunities: the one waiting 10 minutes (wait 5), not the fresh one, not the
        # one the competitor answered; with the time waited. Nothing was sent.
        found = opportunities(e2e)
        assert found["enabled"] is True
        assert [o["post"]["provider_id"] for o in found["items"]] == [waiting]
        assert found["items"][0]["waited_seconds"] >= 600
        assert not [c for c in e2e.calls("x", method="POST", path_contains="/2/tweets")
                    if c["seq"] not in tweeted_before]
        assert e2e.api.patch("/listening/settings", json={
            "opportunity_wait_minutes": 30}).status_code == 200
        assert opportunities(e2e)["items"] == []  # 10 minutes is not 30
        e2e.api.patch("/listening/settings", json={"opportunity_wait_minutes": 5})
        assert e2e.api.patch("/listening/settings", json={
            "opportunities_enabled": False}).json()["opportunities_enabled"] is False
        assert opportunities(e2e) == {"enabled": False, "items": []}
        e2e.api.patch("/listening/settings", json={"opportunities_enabled": True})

        # The next search goes on from the newest id seen (the durable cursor).
        newer = tweet_id()
        sx.add_public_post(newer, user_id(), f"hal{t[:5]}", f"#{t} is trending, why?")
        assert e2e.api.post("/listening/search").json() == {"scheduled": 1}
        wait_for(lambda: any(p["provider_id"] == newer for p in posts(e2e)),
                 what="the second search")
        calls = e2e.calls("x", method="GET", path_contains="/2/tweets/search/recent")
        assert calls[-1]["query"].get("since_id") == max(heard, key=int)

        # A 429 is honoured: the search is retried after X's reset, nothing is lost.
        later = tweet_id()
        sx.add_public_post(later, user_id(), f"ivy{t[:5]}", f"#{t} again")
        e2e.fault("x", "/2/tweets/search/recent", 429, retry_after=1)
        e2e.api.post("/listening/search")
        wait_for(lambda: any(p["provider_id"] == later for p in posts(e2e)),
                 what="the search after the 429")

        # One step: the opportunity becomes a conversation in the queue, answered in public.
        converted = e2e.api.post(f"/listening/posts/{post['id']}/convert")
        assert converted.status_code == 200, converted.text
        conv_id = converted.json()["conversation_id"]
        again = e2e.api.post(f"/listening/posts/{post['id']}/convert")
        assert again.json()["conversation_id"] == conv_id  # the same, never twice
        assert conv_id in {c["id"] for c in e2e.conversations()}  # the default queue
        conv = e2e.conversation(conv_id)
        assert [m["provider_id"] for m in conv["messages"]] == [waiting]
        sent = e2e.sent(conv_id, f"Hi from Acme{t}: we would love to help.")
        e2e.wait_delivery(conv_id, sent["id"])
        tweet = e2e.calls("x", method="POST", path_contains="/2/tweets",
                          text=f"Acme{t}")[-1]
        assert tweet["json"]["reply"]["in_reply_to_tweet_id"] == waiting
        assert {p["provider_id"]: p for p in posts(e2e)}[waiting]["state"] == "converted"


class TestNoiseNeverReachesTheQueue:
    def test_a_retweet_and_a_promotion_are_filtered_and_can_be_restored(
            self, e2e: E2E, runtime: Any, workspace_id: Any) -> None:
        t = e2e.tag
        own = user_id()
        config = x_config(e2e, own, brand_handles=[f"acme{t[:6]}"])
        account = e2e.account("x", config)
        retweet, promo, real = tweet_id(), tweet_id(), tweet_id()
        for hook in (
                sx.public_tweet_webhook(account, config, retweet, user_id(), f"rt{t[:6]}",
                                        f"RT @acme{t[:6]}: we are back up {t}",
                                        retweet_of=tweet_id(), followers=40),
                sx.mention_webhook(account, config, promo, user_id(), f"deals{t[:6]}",
                                   f"@acme{t[:6]} GIVEAWAY! Use code WIN50 for 50% off "
                                   f"https://promo.example/{t}"),
                sx.mention_webhook(account, config, real, user_id(), f"kim{t[:6]}",
                                   f"@acme{t[:6]} my order {t} never arrived, can you help?")):
            assert e2e.post(hook).status_code == 200
        e2e.wait_message(real)  # the real question is in the queue
        filtered = wait_for(lambda: (lambda f: f if len(f) == 2 else None)(
            {p["provider_id"]: p for p in posts(e2e, "filtered")}), what="the filtered posts")
        assert {p: f["noise_reason"] for p, f in filtered.items()} == {
            retweet: "retweet", promo: "promotion"}
        assert filtered[retweet]["followers"] == 40
        # Never in an agent's queue, nor in any view of conversations.
        everything = provider_ids_in_conversations(e2e, relevance="all")
        assert real in everything and not everything & {retweet, promo}

        # Restore: the post goes to the queue, and the agent's decision is a label.
        restored = e2e.api.post(f"/listening/posts/{filtered[promo]['id']}/restore",
                                json={"category": "question"})
        assert restored.status_code == 200, restored.text
        promo_conv = restored.json()["conversation_id"]
        rt_conv = e2e.api.post(f"/listening/posts/{filtered[retweet]['id']}/restore"
                               ).json()["conversation_id"]
        queue = {c["id"] for c in e2e.conversations()}
        assert {promo_conv, rt_conv} <= queue
        assert provider_ids_in_conversations(e2e) >= {retweet, promo}
        assert posts(e2e, "filtered") == []
        # Restoring again returns the same conversation; a restored post cannot be converted
        # into a second one; an unknown id is a 404.
        again = e2e.api.post(f"/listening/posts/{filtered[promo]['id']}/restore")
        assert again.json()["conversation_id"] == promo_conv
        assert e2e.api.post("/listening/posts/00000000-0000-0000-0000-000000000000/restore"
                            ).status_code == 404
        with runtime.db.session(write=False) as session:
            examples = {str(e.conversation_id): e for e in
                        labelled_examples(session, workspace_id)}
            assert examples[promo_conv].category == "question"  # what `train` learns from
            actions = set(session.scalars(select(AuditEvent.action).where(
                AuditEvent.workspace_id == workspace_id,
                AuditEvent.action.like("listening.%"))))
        assert {"listening.filtered", "listening.restored"} <= actions

    def test_a_forged_retweet_is_refused_and_nothing_is_stored(self, e2e: E2E) -> None:
        own = user_id()
        config = x_config(e2e, own)
        account = e2e.account("x", config)
        hook = sx.public_tweet_webhook(account, config, tweet_id(), user_id(), "x",
                                       "RT @acme: hi", retweet_of=tweet_id())
        forged = dict(hook.headers)
        forged["x-twitter-webhooks-signature"] = sign("not_the_secret", hook.body)
        assert e2e.post(hook, headers=forged).status_code == 401
        assert posts(e2e, "filtered") == []
