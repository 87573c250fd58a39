"""The community's REST API attacked: roles, bad settings (a 422 naming the field, nothing
stored), another workspace's conversation, a message of another topic, an article without an
accepted answer."""

from __future__ import annotations

import uuid

import httpx

from tests.community.test_community_e2e import config, open_topic, topic_conversation
from tests.conftest import make_token
from tests.e2e.conftest import E2E
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service


def client(e2e: E2E, token: str) -> httpx.Client:
    return httpx.Client(base_url=e2e.server.url + "/api/v1", timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


class TestSettings:
    def test_defaults_and_a_change(self, e2e: E2E) -> None:
        assert e2e.api.get("/community/settings").json() == {
            "enabled": True, "escalate_after_hours": 24.0, "escalate_on_negative": True,
            "escalate_on_complaint": True, "article_category": "Community answers"}
        changed = e2e.api.put("/community/settings", json={"escalate_on_negative": False})
        assert changed.status_code == 200
        assert changed.json()["escalate_on_negative"] is False
        assert changed.json()["escalate_after_hours"] == 24.0  # untouched

    def test_bad_values_are_422_naming_the_field_and_nothing_is_stored(self, e2e: E2E) -> None:
        for body, field in (({"escalate_after_hours": 0}, "escalate_after_hours"),
                            ({"escalate_after_hours": 10_000}, "escalate_after_hours"),
                            ({"escalate_after_hours": "soon"}, "escalate_after_hours"),
                            ({"article_category": "<script>"}, "article_category"),
                            ({"article_category": "x" * 81}, "article_category"),
                            ({"enabled": "maybe"}, "enabled"),
                            ({"surprise": 1}, "surprise")):
            answer = e2e.api.put("/community/settings", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert field in answer.text
        assert e2e.api.get("/community/settings").json()["escalate_after_hours"] == 24.0

    def test_roles(self, e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        agent = client(e2e, make_token(runtime, workspace_id, role="agent"))
        supervisor = client(e2e, make_token(runtime, workspace_id, role="supervisor"))
        assert agent.get("/community/settings").status_code == 403
        assert supervisor.get("/community/settings").status_code == 200
        refused = supervisor.put("/community/settings", json={"enabled": False})
        assert refused.status_code == 403
        assert e2e.api.get("/community/settings").json()["enabled"] is True
        assert client(e2e, "not-a-token").get("/community/settings").status_code == 401


class TestConversations:
    def test_another_workspaces_topic_is_not_found(self, e2e: E2E, runtime: Runtime) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        topic = open_topic(e2e, account, cfg, f"Where is the reset pin? {e2e.tag}")
        conv = topic_conversation(e2e, topic, "snoozed")
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:12]}").id
        stranger = client(e2e, make_token(runtime, other))
        assert stranger.get(f"/conversations/{conv['id']}/community").status_code == 404
        assert stranger.post(f"/conversations/{conv['id']}/community/article"
                             ).status_code == 404
        message = conv["messages"][0]["id"]
        assert stranger.post(f"/conversations/{conv['id']}/community/solution",
                             json={"message_id": message}).status_code == 404

    def test_bad_requests(self, e2e: E2E) -> None:
        cfg = config(e2e)
        account = e2e.account("discourse", cfg)
        first = open_topic(e2e, account, cfg, f"Two chargers at once? {e2e.tag}")
        second = open_topic(e2e, account, cfg, f"Spare keys for the X200? {e2e.tag}",
                            username="zed")
        one = topic_conversation(e2e, first, "snoozed")
        two = topic_conversation(e2e, second, "snoozed")
        none = e2e.api.post(f"/conversations/{one['id']}/community/article")
        assert none.status_code == 422
        assert none.json()["error"]["code"] == "no_accepted_answer"
        foreign = e2e.api.post(f"/conversations/{one['id']}/community/solution",
                               json={"message_id": two["messages"][0]["id"]})
        assert foreign.status_code == 404
        note = e2e.api.post(f"/conversations/{one['id']}/messages",
                            json={"text": "internal: check stock", "kind": "note"})
        assert note.status_code == 201, note.text
        not_post = e2e.api.post(f"/conversations/{one['id']}/community/solution",
                                json={"message_id": note.json()["id"]})
        assert not_post.status_code == 422
        assert not_post.json()["error"]["code"] == "not_a_post"
        for body in ({}, {"message_id": "x"}, {"message_id": str(uuid.uuid4()), "more": 1}):
            assert e2e.api.post(f"/conversations/{one['id']}/community/solution",
                                json=body).status_code == 422
        missing = e2e.api.get(f"/conversations/{uuid.uuid4()}/community")
        assert missing.status_code == 404
