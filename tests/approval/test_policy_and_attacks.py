"""Which replies the policy holds (its parts combined), the public-answer topics, and attacks
on the review: roles, own replies, another workspace, oversized and hostile input."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.approval.helpers import as_, pending, person, public_conversation, reply, set_policy
from tests.conftest import make_token
from threadline.conversations.models import Conversation
from threadline.workspace.templates import create_template

COMPLAINT = "This is terrible service, my parcel is broken and nobody answers. Very angry!"


class TestPolicy:
    def test_nothing_is_held_by_default(self, runtime, workspace_id, client, worker, sandbox):
        assert client.get("/api/v1/settings/approval-policy").json() == {
            "all": False, "in_training": False, "categories": [], "not_from_template": False}
        agent = person(runtime, workspace_id, "agent", in_training=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        assert reply(client, agent, conv.id, "Hi").json()["delivery"] == "pending"

    def test_an_agent_who_may_not_post_in_public_is_always_held_but_not_in_private(
            self, runtime, workspace_id, client, worker, sandbox):
        agent = person(runtime, workspace_id, "agent", may_post_public=False)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        assert reply(client, agent, conv.id, "Hi there").json()["delivery"] == "held"
        assert pending(client)[0]["held_for"] == ["may_not_post_public"]
        assert reply(client, agent, conv.id, "Hi in DM", "private").json()["delivery"] \
            == "pending"

    def test_categories(self, runtime, workspace_id, client, worker, sandbox):
        set_policy(client, categories=["complaint"])
        agent = person(runtime, workspace_id, "agent")
        angry = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                    text=COMPLAINT)
        calm = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                   text="Do you ship to Norway?")
        assert angry.category == "complaint" and calm.category != "complaint"
        assert reply(client, agent, angry.id, "So sorry").json()["delivery"] == "held"
        assert reply(client, agent, calm.id, "Yes we do").json()["delivery"] == "pending"
        assert pending(client)[0]["held_for"] == ["category:complaint"]

    def test_not_from_an_approved_template(self, runtime, workspace_id, client, worker,
                                           sandbox):
        with runtime.db.session() as session:
            create_template(session, workspace_id, name="hours",
                            body="Hi, I am {agent_name}: we open at 10:00 every day.")
            create_template(session, workspace_id, name="draft", approval="draft",
                            body="We are closed forever.")
        set_policy(client, not_from_template=True)
        agent = person(runtime, workspace_id, "agent")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        assert reply(client, agent, conv.id, "Hi, I am Agent:  we open at 10:00 every day.") \
            .json()["delivery"] == "pending"  # as rendered (spaces do not count)
        assert reply(client, agent, conv.id, "Hi, I am Agent: we open at 11:00 every day.") \
            .json()["delivery"] == "held"  # edited
        assert reply(client, agent, conv.id, "Hi, I am Bob: we open at 10:00 every day.") \
            .json()["delivery"] == "held"  # a variable the server knows, filled otherwise
        assert reply(client, agent, conv.id, "We are closed forever.").json()["delivery"] \
            == "held"

    def test_parts_combine_and_each_reason_is_recorded(self, runtime, workspace_id, client,
                                                      worker, sandbox):
        set_policy(client, in_training=True, categories=["complaint"], not_from_template=True)
        trainee = person(runtime, workspace_id, "agent", in_training=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                   text=COMPLAINT)
        reply(client, trainee, conv.id, "sorry!!")
        assert pending(client)[0]["held_for"] == ["in_training", "category:complaint",
                                                 "not_from_template"]

    def test_bad_policy_is_a_422_naming_the_field_and_stores_nothing(self, client):
        for body, field in (({"categories": ["rude"]}, "categories"),
                            ({"all": "yes please"}, "all"), ({"every": True}, "every")):
            response = client.put("/api/v1/settings/approval-policy", json=body)
            assert response.status_code == 422
            locs = [e["loc"] for e in response.json()["error"]["details"]["errors"]]
            assert any(field in loc for loc in locs), locs
        assert client.get("/api/v1/settings/approval-policy").json()["categories"] == []

    def test_agent_flags_through_the_api(self, runtime, workspace_id, client):
        agent = person(runtime, workspace_id, "agent")
        response = client.put(f"/api/v1/agents/{agent.id}/approval-flags",
                              json={"in_training": True, "may_post_public": False})
        assert response.status_code == 200
        assert response.json()["in_training"] is True
        assert response.json()["may_post_public"] is False
        assert client.put(f"/api/v1/agents/{agent.id}/approval-flags",
                          json={"in_training": "yes"}).status_code == 422
        assert client.put(f"/api/v1/agents/{agent.id}/approval-flags", headers=as_(
            client, agent), json={"in_training": False}).status_code == 403
        assert client.put(f"/api/v1/agents/{uuid.uuid4()}/approval-flags",
                          json={"in_training": False}).status_code == 404


class TestPublicAnswers:
    POLICY = {"public": [{"topic": "opening hours", "keywords": ["opening hours", "open"]}],
              "private": [{"topic": "billing", "keywords": ["invoice", "refund", "factura"]}]}

    def test_triage_follows_the_topics(self, runtime, workspace_id, client, worker, sandbox):
        assert client.put("/api/v1/settings/public-answers", json=self.POLICY).status_code == 200
        assert client.get("/api/v1/settings/public-answers").json()["private"][0]["topic"] \
            == "billing"
        private = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                      text="When are you open? Also my FACTURA is wrong")
        public = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                     text="When are you open on Sunday?")
        for conv, expected in ((private, False), (public, True)):
            detail = client.get(f"/api/v1/conversations/{conv.id}").json()
            [inbound] = [m for m in detail["messages"] if m["direction"] == "inbound"]
            assert inbound["triage"]["public_ok"] is expected
        detail = client.get(f"/api/v1/conversations/{private.id}").json()
        assert "topic:billing" in detail["messages"][0]["triage"]["private_reasons"]

    def test_bad_topics_are_refused(self, client):
        for body in ({"public": [{"topic": "<b>x</b>", "keywords": ["a"]}]},
                     {"public": [{"topic": "x", "keywords": []}]},
                     {"private": [{"topic": "x", "keywords": ["k" * 61]}]},
                     {"private": [{"topic": f"t{i}", "keywords": ["k"]} for i in range(31)]}):
            assert client.put("/api/v1/settings/public-answers", json=body).status_code == 422
        assert client.get("/api/v1/settings/public-answers").json() == {"public": [],
                                                                        "private": []}


class TestAttacks:
    def _held(self, runtime, workspace_id, client, worker, sandbox, author=None):
        set_policy(client, all=True)
        author = author or person(runtime, workspace_id, "agent")
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        reply(client, author, conv.id, "Hello there")
        return pending(client)[0]

    def test_an_agent_may_not_review(self, runtime, workspace_id, client, worker, sandbox):
        queued = self._held(runtime, workspace_id, client, worker, sandbox)
        other = person(runtime, workspace_id, "agent")
        for action, body in (("approve", {}), ("reject", {"reason": "no"})):
            response = client.post(f"/api/v1/approvals/{queued['id']}/{action}",
                                   headers=as_(client, other), json=body)
            assert response.status_code == 403
        assert client.get("/api/v1/approvals", headers=as_(client, other)).status_code == 403
        assert client.get(f"/api/v1/approvals/{queued['id']}",
                          headers=as_(client, other)).status_code == 404
        assert pending(client)[0]["state"] == "pending"

    def test_a_supervisor_may_not_approve_his_own_reply(self, runtime, workspace_id, client,
                                                       worker, sandbox):
        boss = person(runtime, workspace_id, "supervisor")
        queued = self._held(runtime, workspace_id, client, worker, sandbox, author=boss)
        response = client.post(f"/api/v1/approvals/{queued['id']}/approve",
                               headers=as_(client, boss))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "own_reply"
        other = person(runtime, workspace_id, "supervisor")
        assert client.post(f"/api/v1/approvals/{queued['id']}/approve",
                           headers=as_(client, other)).status_code == 200

    def test_another_workspaces_review_is_not_found(self, runtime, workspace_id, client,
                                                   worker, sandbox, app):
        queued = self._held(runtime, workspace_id, client, worker, sandbox)
        from threadline.workspace.service import create_workspace

        with runtime.db.session() as session:
            other_ws = create_workspace(session, "Other", f"o-{uuid.uuid4().hex[:10]}").id
        with TestClient(app) as intruder:
            intruder.headers["Authorization"] = f"Bearer {make_token(runtime, other_ws)}"
            for action, body in (("approve", {}), ("reject", {"reason": "no"})):
                response = intruder.post(f"/api/v1/approvals/{queued['id']}/{action}",
                                         json=body)
                assert response.status_code == 404
            assert intruder.get(f"/api/v1/approvals/{queued['id']}").status_code == 404
            assert intruder.get("/api/v1/approvals").json()["approvals"] == []
        assert pending(client)[0]["state"] == "pending"

    def test_oversized_and_empty_edits_are_refused(self, runtime, workspace_id, client,
                                                   worker, sandbox):
        queued = self._held(runtime, workspace_id, client, worker, sandbox)
        for body in ({"text": "x" * 20_001}, {"text": ""}, {"text": "   "},
                     {"text": 5}, {"text": "ok", "extra": 1}):
            response = client.post(f"/api/v1/approvals/{queued['id']}/approve", json=body)
            assert response.status_code == 422, body
        assert pending(client)[0]["state"] == "pending"
        with runtime.db.session(write=False) as session:
            conv = session.get(Conversation, uuid.UUID(queued["conversation_id"]))
            assert conv is not None and conv.first_response_at is None
