"""The peer community end to end through real HTTP: the sandbox's Discourse posts signed
webhooks into Threadline (uvicorn, with its worker), the escalation scan runs on a clock the
test moves, agents answer through the REST API and the sandbox records `POST /posts.json`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.e2e.conftest import E2E, wait_for
from threadline.community.engine import scan, scan_workspace
from threadline.contacts.models import Evidence
from threadline.contacts.service import create_customer, link_identity
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.jobs.hooks import OPERATIONS_LOCK
from threadline.jobs.runtime import Runtime
from threadline.sandbox.providers import discourse as sd

SECRET = "discourse-sandbox-secret"


def config(e2e: E2E) -> dict[str, Any]:
    return {"api_base_url": e2e.sandbox_url("/discourse"), "api_key": f"key-{e2e.tag}",
            "api_username": "acme_support", "webhook_secret": SECRET}


def topic_conversation(e2e: E2E, topic_id: int, status: str,
                       label: str = "community") -> dict[str, Any]:
    """The topic's conversation once the community hook has decided it (`status`, `label`)."""
    def probe() -> dict[str, Any] | None:
        for item in e2e.conversations(status=[status]):
            conv = e2e.conversation(item["id"])
            if label in conv["labels"] and any(m["provider_id"] == f"{topic_id}:1"
                                               for m in conv["messages"]):
                return conv
        return None
    return wait_for(probe, what=f"topic {topic_id} {status}")


def open_topic(e2e: E2E, account: str, cfg: dict[str, Any], text: str, *,
               username: str = "alice", email: str | None = None) -> int:
    topic_id, hooks = sd.topic_webhooks(account, cfg, username, text,
                                        title="Router keeps dropping", email=email)
    for hook in hooks:
        assert e2e.post(hook).status_code == 200
    return topic_id


def decide(runtime: Runtime, workspace_id: uuid.UUID, later: timedelta) -> dict[str, int]:
    """The escalation scan of this test's workspace, `later` from now (the moved clock)."""
    with runtime.db.session() as session:
        workspace_lock(session, workspace_id, OPERATIONS_LOCK)
        counts, _ = scan_workspace(session, workspace_id, now=utcnow() + later)
    return counts


def in_queue(e2e: E2E, conversation_id: str) -> bool:
    return any(c["id"] == conversation_id for c in e2e.conversations(view="active"))


class TestEscalation:
    def test_unanswered_topic_is_escalated_answered_in_the_topic_and_closed_out(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg, name="Acme community")
        changed = e2e.api.put("/community/settings", json={"escalate_after_hours": 2})
        assert changed.status_code == 200 and changed.json()["escalate_after_hours"] == 2
        topic = open_topic(e2e, account, cfg,
                           f"How do I reset the router to factory settings? {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        assert "community" in conv["labels"] and not in_queue(e2e, conv["id"])
        state = e2e.api.get(f"/conversations/{conv['id']}/community").json()
        assert state["state"] == "community" and state["topic_id"] == topic
        # A peer answers, nobody accepts it: still the community's.
        _, peer = sd.post_webhook(account, cfg, topic, "bobpeer",
                                  "Try the small button at the back for ten seconds.",
                                  reply_to_post_number=1)
        assert e2e.post(peer).status_code == 200
        e2e.wait_message(f"{topic}:2", status=["snoozed"])
        assert decide(runtime, workspace_id, timedelta(hours=1))["escalated"] == 0
        assert not in_queue(e2e, conv["id"])
        # Past the configured 2 hours: escalated into the live inbox.
        assert scan(runtime, now=utcnow() + timedelta(hours=2, minutes=5))["escalated"] >= 1
        escalated = topic_conversation(e2e, topic, "open")
        assert "community:escalated" in escalated["labels"]
        assert in_queue(e2e, conv["id"])
        state = e2e.api.get(f"/conversations/{conv['id']}/community").json()
        assert (state["state"], state["reason"]) == ("escalated", "no_answer")
        assert decide(runtime, workspace_id, timedelta(hours=3))["escalated"] == 0  # once
        # The agent answers in the topic: the forum gets the staff reply.
        text = f"Hi Alice, hold the reset button for ten seconds, then sign in. {e2e.tag}"
        reply = e2e.sent(conv["id"], text, visibility="public")
        sent = e2e.wait_delivery(conv["id"], reply["id"])
        [call] = e2e.calls("discourse", method="POST", path_contains="/posts.json",
                           text=e2e.tag)
        assert call["json"]["topic_id"] == topic and call["json"]["raw"] == text
        assert call["json"]["reply_to_post_number"] == 2  # the latest post answered
        assert call["headers"]["api-key"] == cfg["api_key"]
        assert call["headers"]["api-username"] == "acme_support"
        assert sent["provider_id"].startswith(f"{topic}:")
        # The forum echoes our own post back: still one message.
        number = int(sent["provider_id"].split(":")[1])
        _, echo = sd.post_webhook(account, cfg, topic, "acme_support", text,
                                  post_number=number, staff=True)
        assert e2e.post(echo).status_code == 200
        # Closed out: resolved; the agent marks his answer as the topic's solution.
        resolved = e2e.api.post(f"/conversations/{conv['id']}/resolve")
        assert resolved.status_code == 200, resolved.text
        marked = e2e.api.post(f"/conversations/{conv['id']}/community/solution",
                              json={"message_id": reply["id"]})
        assert marked.status_code == 202, marked.text
        accept = wait_for(lambda: e2e.calls("discourse", method="POST",
                                            path_contains="/solution/accept.json"),
                          what="solution accepted on the forum")
        assert accept[-1]["json"]["id"] > 0
        final = e2e.conversation(conv["id"])
        assert final["status"] == "resolved"
        assert [m["provider_id"] for m in final["messages"]].count(sent["provider_id"]) == 1

    def test_hop_to_private_and_the_public_close_out_goes_back_to_the_topic(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg, name="Acme community")
        e2e.account("webchat", {"title": "Acme chat"}, name="Acme chat")
        topic = open_topic(e2e, account, cfg, f"My invoice shows a charge twice {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        assert decide(runtime, workspace_id, timedelta(hours=25))["escalated"] >= 1
        topic_conversation(e2e, topic, "open")
        offered = e2e.api.post(f"/conversations/{conv['id']}/hops",
                               json={"method": "chat_link", "reason": "privacy"})
        assert offered.status_code == 201, offered.text
        wait_for(lambda: e2e.calls("discourse", path_contains="/posts.json", text="/s/"),
                 what="the chat link posted in the topic")
        resolved = e2e.api.post(f"/conversations/{conv['id']}/resolve")
        assert resolved.status_code == 200 and resolved.json()["follow_up_draft"]
        follow = e2e.api.post(f"/conversations/{conv['id']}/follow-up", json={})
        assert follow.status_code == 201, follow.text
        e2e.wait_delivery(conv["id"], follow.json()["id"])
        calls = e2e.calls("discourse", path_contains="/posts.json", text="resolved")
        assert calls and calls[-1]["json"]["topic_id"] == topic


class TestNoEscalation:
    def test_a_peers_accepted_solution_means_no_escalation(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Which cable fits the X200 dock? {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        post, peer = sd.post_webhook(account, cfg, topic, "carol",
                                     "The USB-C one that came with the laptop works fine.",
                                     reply_to_post_number=1)
        assert e2e.post(peer).status_code == 200
        e2e.wait_message(f"{topic}:{post['post_number']}", status=["snoozed"])
        solved = sd.solution_webhook(account, cfg, post)
        assert e2e.post(solved).status_code == 200
        assert e2e.post(solved).status_code == 200  # a redelivery changes nothing
        done = topic_conversation(e2e, topic, "resolved")
        assert "community:solved" in done["labels"]
        assert not any(m["provider_id"].startswith("solution:") for m in done["messages"])
        assert decide(runtime, workspace_id, timedelta(hours=48))["escalated"] == 0
        assert e2e.conversation(conv["id"])["status"] == "resolved"
        # A "thanks" reopens it: back to the community, not into the queue; solved again.
        _, thanks = sd.post_webhook(account, cfg, topic, "bobpeer",
                                    "Thanks, that worked for me as well!")
        assert e2e.post(thanks).status_code == 200
        again = topic_conversation(e2e, topic, "snoozed")
        assert not in_queue(e2e, again["id"])
        assert decide(runtime, workspace_id, timedelta(hours=25))["solved"] >= 1
        assert "community:solved" in topic_conversation(e2e, topic, "resolved")["labels"]
        # The accepted answer becomes a draft knowledge base article in one step.
        made = e2e.api.post(f"/conversations/{conv['id']}/community/article")
        assert made.status_code == 201, made.text
        article = made.json()
        assert article["status"] == "draft" and article["title"] == "Router keeps dropping"
        assert article["category"] == "Community answers"

    def test_a_solution_arriving_with_its_post_is_applied(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Does the X200 dock charge phones? {e2e.tag}")
        topic_conversation(e2e, topic, "snoozed")
        post, peer = sd.post_webhook(account, cfg, topic, "dave",
                                     "Yes, the left port gives 15 W to a phone.")
        assert e2e.post(peer).status_code == 200  # no wait: maybe the same batch
        assert e2e.post(sd.solution_webhook(account, cfg, post)).status_code == 200
        done = topic_conversation(e2e, topic, "resolved", "community:solved")
        solved = [m for m in done["messages"] if m["meta"].get("accepted_solution")]
        assert [m["provider_id"] for m in solved] == [f"{topic}:{post['post_number']}"]

    def test_a_staff_reply_before_the_deadline_means_no_escalation(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Is the app available in Norway? {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        _, staff = sd.post_webhook(account, cfg, topic, "moderator_mia",
                                   "Yes, since March: look for Acme in the store.",
                                   staff=True)
        assert e2e.post(staff).status_code == 200
        wait_for(lambda: len(e2e.conversation(conv["id"])["messages"]) == 2,
                 what="the staff post")
        counts = decide(runtime, workspace_id, timedelta(hours=25))
        assert counts["escalated"] == 0 and counts["answered"] >= 1
        done = topic_conversation(e2e, topic, "resolved")
        assert "community:answered" in done["labels"]

    def test_a_complaint_escalates_at_once(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg,
                           f"This is terrible, the worst service ever, I am furious: three "
                           f"weeks and still no refund. {e2e.tag}")
        conv = topic_conversation(e2e, topic, "open", "community:escalated")
        assert "community" in conv["labels"]
        state = e2e.api.get(f"/conversations/{conv['id']}/community").json()
        assert state["reason"] in ("complaint", "negative_sentiment")


class TestCustomerMatching:
    def test_escalated_topic_becomes_the_known_customers(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        email = f"dana.{e2e.tag}@example.com"
        with runtime.db.session() as session:  # a customer known by e-mail already
            known = create_customer(session, workspace_id, name="Dana Known")
            link_identity(session, workspace_id, known.id, kind="email", address=email,
                          evidence=Evidence.PROVIDER)
            known_id = str(known.id)
        topic = open_topic(e2e, account, cfg, f"Where do I find my warranty? {e2e.tag}",
                           username=f"dana{e2e.tag}", email=email)
        conv = topic_conversation(e2e, topic, "snoozed")
        assert conv["customer_id"] != known_id
        decide(runtime, workspace_id, timedelta(hours=25))
        escalated = topic_conversation(e2e, topic, "open")
        assert escalated["customer_id"] == known_id
        audit = e2e.api.get(f"/customers/{known_id}").json()
        assert audit["id"] == known_id


class TestWebhookEdge:
    def test_wrong_or_missing_signature_is_401_and_nothing_stored(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        _, hooks = sd.topic_webhooks(account, {**cfg, "webhook_secret": "wrong"}, "eve",
                                     f"forged {e2e.tag}")
        for hook in hooks:
            assert e2e.post(hook).status_code == 401
        unsigned = {k: v for k, v in hooks[1].headers.items()
                    if k != "x-discourse-event-signature"}
        answer = e2e.post(hooks[1], headers=unsigned)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "missing_signature"
        ops = e2e.api.get("/operations/dead-letters")  # nothing stored to fail later either
        assert ops.status_code in (200, 404)
        assert e2e.conversations() == []

    def test_another_accounts_signature_is_refused(self, e2e: E2E) -> None:
        cfg = config(e2e)
        mine = e2e.account("discourse", cfg)
        theirs = e2e.account("discourse", {**cfg, "webhook_secret": "their-secret-000"})
        _, hooks = sd.topic_webhooks(mine, cfg, "eve", f"for another account {e2e.tag}")
        moved = hooks[1]
        answer = e2e.http.post(e2e.server.url + f"/webhooks/discourse/{theirs}",
                               content=moved.body, headers=moved.headers)
        assert answer.status_code == 401
        unknown = e2e.http.post(e2e.server.url + "/webhooks/discourse/"
                                "00000000-0000-0000-0000-000000000000",
                                content=moved.body, headers=moved.headers)
        assert unknown.status_code == 404
        assert e2e.conversations() == []

    def test_duplicates_are_stored_once(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic_id, hooks = sd.topic_webhooks(account, cfg, "frank", f"twice {e2e.tag}")
        for hook in hooks:
            assert [e2e.post(hook).status_code for _ in range(3)] == [200, 200, 200]
        # A retry is a new delivery record with a new X-Discourse-Event-Id: same post.
        retried = dict(hooks[1].headers, **{"x-discourse-event-id": "424242"})
        assert e2e.post(hooks[1], headers=retried).status_code == 200
        conv = topic_conversation(e2e, topic_id, "snoozed")
        assert [m["provider_id"] for m in conv["messages"]] == [f"{topic_id}:1"]
        assert len([c for c in e2e.conversations()
                    if c["id"] == conv["id"]]) == 1

    def test_ping_is_answered(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        answer = e2e.post(sd.ping_webhook(account, cfg))
        assert answer.status_code == 200
        assert e2e.conversations() == []

    def test_hostile_payloads_are_typed_4xx(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        _, hooks = sd.topic_webhooks(account, cfg, "mallory", "x")
        template = hooks[1]

        def post(body: bytes, **extra: str) -> Any:
            headers = {**template.headers, **extra,
                       "x-discourse-event-signature": sd.sign(SECRET, body)}
            return e2e.http.post(e2e.server.url + template.path, content=body,
                                 headers=headers)

        big = b'{"post": {"raw": "' + b"a" * (2 * 1024 * 1024) + b'"}}'
        assert post(big).status_code == 413
        for body in (b"{not json", b"[]", b'{"post": "x"}', b'{"post": {"id": "1"}}',
                     b'{"post": {"id": 1, "topic_id": 2, "post_number": 1, "username": "m",'
                     b' "created_at": "2026-01-01T00:00:00Z", "raw": 7}}',
                     b'{"nothing": true}'):
            answer = post(body)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["error"]["code"]
        form = post(b"payload=%7B%7D", **{"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 400 and form.json()["error"]["code"] == "json_required"
        xml = post(b"<post/>", **{"content-type": "application/xml"})
        assert xml.status_code == 415
        assert e2e.conversations() == []


class TestSendErrors:
    def test_rate_limit_is_retried_after_retry_after(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Printer offline after update {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        decide(runtime, workspace_id, timedelta(hours=25))
        topic_conversation(e2e, topic, "open")
        e2e.fault("discourse", "/posts.json", 429, retry_after=0.2, body={
            "errors": ["Please wait"], "error_type": "rate_limit",
            "extras": {"wait_seconds": 0.2}})
        reply = e2e.sent(conv["id"], f"Please reinstall the driver from our site {e2e.tag}")
        e2e.wait_delivery(conv["id"], reply["id"])
        assert len(e2e.calls("discourse", path_contains="/posts.json", text=e2e.tag)) == 2

    def test_record_invalid_fails_at_once(
            self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Battery drains overnight {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        decide(runtime, workspace_id, timedelta(hours=25))
        topic_conversation(e2e, topic, "open")
        reply = e2e.sent(conv["id"], "Too short.")  # under the forum's 20 characters
        failed = e2e.wait_delivery(conv["id"], reply["id"], ("failed",))
        assert "too short" in (failed["delivery_error"] or "").lower()

    def test_public_guard_applies(self, e2e: E2E, runtime: Runtime) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        email = f"gina.{e2e.tag}@example.com"
        open_topic(e2e, account, cfg, f"Cannot log in to my account {e2e.tag}",
                   username=f"gina{e2e.tag}", email=email)
        conv = wait_for(lambda: next((c for c in e2e.conversations()
                                      if "community" in c["labels"]), None),
                        what="the topic's conversation")
        refused = e2e.reply(conv["id"], f"Hi, we sent a reset link to {email} just now.",
                            visibility="public")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "pii_public"
        assert not e2e.calls("discourse", path_contains="/posts.json", text=email)
