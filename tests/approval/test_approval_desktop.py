"""The approval pages over HTTP with the desktop's session cookies: settings (admins), the
queue (supervisors), approve and reject from the desktop, CSRF and roles, the agent's view
of a held and a rejected reply, and the composer's default visibility from the topics."""

from __future__ import annotations

import re

from tests.approval.helpers import pending, person, public_conversation, reply, set_policy

PAGE = "/settings/approval"


class TestSettingsPage:
    def test_admin_saves_policy_topics_and_flags(self, admin_desk, agent_desk, client):
        page = admin_desk.get(PAGE)
        assert page.status_code == 200 and "Approval policy" in page.text
        assert admin_desk.post(f"{PAGE}/policy", {"in_training": "on",
                                                  "categories": ["complaint"]}).status_code \
            == 303
        assert client.get("/api/v1/settings/approval-policy").json() == {
            "all": False, "in_training": True, "categories": ["complaint"],
            "not_from_template": False}
        r = admin_desk.post(f"{PAGE}/public-answers", {
            "public": "opening hours: opening hours, open on\ndelivery times: delivery time",
            "private": "billing: invoice, refund"})
        assert r.status_code == 303, r.text
        stored = client.get("/api/v1/settings/public-answers").json()
        assert [t["topic"] for t in stored["public"]] == ["opening hours", "delivery times"]
        assert stored["private"][0]["keywords"] == ["invoice", "refund"]
        r = admin_desk.post(f"{PAGE}/agents/{agent_desk.agent.id}", {"in_training": "on",
                                                                     "may_post_public": "on"})
        assert r.status_code == 303
        flags = client.get(f"/api/v1/agents/{agent_desk.agent.id}/approval-flags").json()
        assert flags["in_training"] is True and flags["may_post_public"] is True
        assert "billing: invoice, refund" in admin_desk.get(PAGE).text

    def test_bad_input_names_the_field_and_stores_nothing(self, admin_desk, client):
        r = admin_desk.post(f"{PAGE}/policy", {"categories": ["<script>"]})
        assert r.status_code == 422 and "invalid_policy" in r.text and "<script>" not in r.text
        r = admin_desk.post(f"{PAGE}/public-answers", {"public": "<b>x</b>: y", "private": ""})
        assert r.status_code == 422 and "invalid_topics" in r.text
        assert "&lt;b&gt;x&lt;/b&gt;" in r.text  # what was typed comes back, as text
        assert client.get("/api/v1/settings/public-answers").json()["public"] == []

    def test_csrf_and_roles(self, admin_desk, supervisor_desk, agent_desk, client):
        assert admin_desk.post(f"{PAGE}/policy", {"all": "on"}, csrf=False).status_code == 403
        assert supervisor_desk.get(PAGE).status_code == 403
        assert supervisor_desk.post(f"{PAGE}/policy", {"all": "on"}).status_code == 403
        assert agent_desk.get("/approvals").status_code == 403
        assert client.get("/api/v1/settings/approval-policy").json()["all"] is False


class TestQueueOnTheDesktop:
    def test_supervisor_approves_with_an_edit_and_the_agent_sees_it(
            self, runtime, workspace_id, client, worker, sandbox, supervisor_desk, agent_desk):
        set_policy(client, all=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        r = agent_desk.post(f"/conversations/{conv.id}/reply",
                            {"text": "we open at 10 probs", "visibility": "public",
                             "kind": "message"}, htmx=True)
        assert r.status_code == 200, r.text
        view = agent_desk.get(f"/conversations/{conv.id}").text
        assert "awaiting approval" in view
        supervisor = supervisor_desk.get("/supervisor").text
        assert 'id="approval-queue"' in supervisor and "/static/desktop/approval.js" in supervisor
        panel = supervisor_desk.get("/approvals/panel").text
        [approval_id] = re.findall(r'data-approval-id="([^"]+)"', panel)
        assert "we open at 10 probs" in panel
        assert supervisor_desk.post(f"/approvals/{approval_id}/approve",
                                    {"text": "We open at 10:00."}, csrf=False).status_code == 403
        assert agent_desk.post(f"/approvals/{approval_id}/approve", {}).status_code == 403
        r = supervisor_desk.post(f"/approvals/{approval_id}/approve",
                                 {"text": "We open at 10:00."}, htmx=True)
        assert r.status_code == 200 and "No replies awaiting approval" in r.text
        worker.drain()
        view = agent_desk.get(f"/conversations/{conv.id}").text
        assert "We open at 10:00." in view and "awaiting approval" not in view

    def test_reject_shows_the_reason_to_the_agent(self, runtime, workspace_id, client, worker,
                                                  sandbox, supervisor_desk, agent_desk):
        set_policy(client, all=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        agent_desk.post(f"/conversations/{conv.id}/reply",
                        {"text": "nah", "visibility": "public", "kind": "message"}, htmx=True)
        [queued] = pending(client)
        r = supervisor_desk.post(f"/approvals/{queued['id']}/reject",
                                 {"reason": "Please be polite <b>always</b>"})
        assert r.status_code == 303
        view = agent_desk.get(f"/conversations/{conv.id}").text
        assert "Rejected: Please be polite &lt;b&gt;always&lt;/b&gt;" in view
        page = supervisor_desk.get("/approvals").text
        assert "Please be polite" in page and "No replies awaiting approval" in page

    def test_a_second_decision_is_a_conflict(self, runtime, workspace_id, client, worker,
                                            sandbox, supervisor_desk):
        set_policy(client, all=True)
        conv = public_conversation(runtime, workspace_id, client, worker, sandbox)
        reply(client, person(runtime, workspace_id, "agent"), conv.id, "Hello")
        [queued] = pending(client)
        assert supervisor_desk.post(f"/approvals/{queued['id']}/approve", {}).status_code == 303
        assert supervisor_desk.post(f"/approvals/{queued['id']}/reject",
                                    {"reason": "late"}).status_code == 409


class TestComposerDefault:
    def test_private_topic_starts_the_composer_in_private(self, runtime, workspace_id, client,
                                                          worker, sandbox, agent_desk):
        client.put("/api/v1/settings/public-answers", json={
            "private": [{"topic": "billing", "keywords": ["invoice"]}]})
        billing = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                      text="My invoice is wrong, who can help?")
        hours = public_conversation(runtime, workspace_id, client, worker, sandbox,
                                    text="Are you open today?")
        checked = re.compile(r'name="visibility" value="(\w+)" checked')
        assert checked.findall(agent_desk.get(f"/conversations/{billing.id}").text) \
            == ["private"]
        assert checked.findall(agent_desk.get(f"/conversations/{hours.id}").text) == ["public"]
