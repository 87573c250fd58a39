"""REST: scorecards (versions keep old reviews' criteria), the queue and reviews, QA scores;
role checks; and what an attacker would try: another workspace's ids, an agent answering or
reading another's review, answers off the scale, oversized comments, HTML in comments."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.log_scan import remember
from tests.quality.helpers import agent, conversation, reviews_of
from threadline.db.base import utcnow
from threadline.jobs.runtime import Runtime
from threadline.workspace import service as workspace_service

STANDARD = {"tone": 4, "accuracy": 5, "policy": "no", "public_private": "yes"}  # 65.0


def api(app: Any, runtime: Runtime, workspace_id: uuid.UUID, role: str,
        agent_id: uuid.UUID | None = None) -> TestClient:
    with runtime.db.session() as session:
        _, plain = workspace_service.create_token(session, workspace_id, role=role,
                                                  agent_id=agent_id)
    remember(plain)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {plain}"
    return client


@pytest.fixture
def team_of(app, runtime, workspace_id) -> dict[str, Any]:
    """A supervisor (Sam), two agents (Ada, Bob) with API tokens of their own, and an
    admin token."""
    sam = agent(runtime, workspace_id, "Sam", role="supervisor")
    ada = agent(runtime, workspace_id, "Ada")
    bob = agent(runtime, workspace_id, "Bob")
    return {"sam": sam, "ada": ada, "bob": bob,
            "admin": api(app, runtime, workspace_id, "admin"),
            "sam_api": api(app, runtime, workspace_id, "supervisor", sam),
            "ada_api": api(app, runtime, workspace_id, "agent", ada),
            "bob_api": api(app, runtime, workspace_id, "agent", bob)}


def queued(client: TestClient, conversation_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/quality/reviews",
                           json={"conversation_id": str(conversation_id), **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestScorecards:
    def test_a_new_workspace_starts_with_the_standard_scorecard(self, team_of):
        body = team_of["sam_api"].get("/api/v1/quality/scorecards").json()
        [card] = body["scorecards"]
        assert card["name"] == "Standard review" and card["is_default"] and card["version"] == 1
        assert [(c["key"], c["weight"], c["scale"]) for c in card["criteria"]] == [
            ("tone", 2, "one_to_five"), ("accuracy", 3, "one_to_five"),
            ("policy", 3, "yes_no_na"), ("public_private", 2, "yes_no_na")]
        # read twice, still one
        assert len(team_of["admin"].get("/api/v1/quality/scorecards").json()["scorecards"]) == 1

    def test_new_criteria_make_a_version_and_done_reviews_keep_theirs(
            self, team_of, runtime, workspace_id):
        admin, sam_api = team_of["admin"], team_of["sam_api"]
        [card] = admin.get("/api/v1/quality/scorecards").json()["scorecards"]
        first = queued(sam_api, conversation(runtime, workspace_id, assignee=team_of["ada"]))
        second = queued(sam_api, conversation(runtime, workspace_id, assignee=team_of["bob"]))
        done = sam_api.put(f"/api/v1/quality/reviews/{first['id']}",
                           json={"answers": STANDARD}).json()
        assert done["score"] == 65.0 and done["scorecard_version"] == 1
        changed = {"name": card["name"], "is_default": True, "criteria": [
            {"key": "tone", "label": "Tone", "weight": 1, "scale": "yes_no"},
            {"key": "empathy", "label": "Empathy", "weight": 3, "scale": "one_to_five_na"}]}
        updated = admin.put(f"/api/v1/quality/scorecards/{card['id']}", json=changed)
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2
        # the same criteria again: no new version
        again = admin.put(f"/api/v1/quality/scorecards/{card['id']}",
                          json={**changed, "description": "new words"}).json()
        assert again["version"] == 2 and again["description"] == "new words"
        old = sam_api.get(f"/api/v1/quality/reviews/{first['id']}").json()
        assert old["scorecard_version"] == 1 and old["score"] == 65.0
        assert [a["key"] for a in old["answers"]] == ["tone", "accuracy", "policy",
                                                      "public_private"]
        v1 = sam_api.get(f"/api/v1/quality/scorecards/{card['id']}/versions/1").json()
        assert [c["key"] for c in v1["criteria"]] == ["tone", "accuracy", "policy",
                                                      "public_private"]
        # the pending review is answered with version 2
        refused = sam_api.put(f"/api/v1/quality/reviews/{second['id']}",
                              json={"answers": STANDARD})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "invalid_answer"
        answered = sam_api.put(f"/api/v1/quality/reviews/{second['id']}",
                               json={"answers": {"tone": "yes", "empathy": 3}}).json()
        # tone yes 1 * 1 + empathy 3 -> 0.5 * 3 = 1.5: 2.5 of 4 -> 62.5
        assert answered["score"] == 62.5 and answered["scorecard_version"] == 2

    def test_the_default_moves_and_cannot_be_archived(self, team_of):
        admin = team_of["admin"]
        [standard] = admin.get("/api/v1/quality/scorecards").json()["scorecards"]
        short = {"name": "Short", "criteria": [{"key": "ok", "label": "OK", "scale": "yes_no"}]}
        created = admin.post("/api/v1/quality/scorecards", json=short).json()
        assert created["is_default"] is False and created["version"] == 1
        archived = admin.put(f"/api/v1/quality/scorecards/{standard['id']}",
                             json={**_card_in(standard), "is_default": False})
        assert archived.status_code == 422
        assert archived.json()["error"]["details"]["field"] == "is_default"
        moved = admin.put(f"/api/v1/quality/scorecards/{created['id']}",
                          json={**short, "is_default": True})
        assert moved.json()["is_default"] is True
        cards = {c["name"]: c for c in admin.get("/api/v1/quality/scorecards").json()[
            "scorecards"]}
        assert cards["Standard review"]["is_default"] is False
        gone = admin.put(f"/api/v1/quality/scorecards/{standard['id']}",
                         json={**_card_in(standard), "is_default": False, "active": False})
        assert gone.status_code == 200 and gone.json()["active"] is False

    @pytest.mark.parametrize("body, field", [
        ({"name": "", "criteria": [{"key": "a", "label": "A"}]}, "name"),
        ({"name": "x" * 121, "criteria": [{"key": "a", "label": "A"}]}, "name"),
        ({"name": "<b>bold</b>", "criteria": [{"key": "a", "label": "A"}]}, "name"),
        ({"name": "N", "criteria": []}, "criteria"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A"}] * 2}, "criteria"),
        ({"name": "N", "criteria": [{"key": "A B", "label": "A"}]}, "key"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A", "weight": 0}]}, "weight"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A", "weight": 101}]}, "weight"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A", "scale": "one_to_ten"}]},
         "scale"),
        ({"name": "N", "criteria": [{"key": f"k{i}", "label": "L"} for i in range(31)]},
         "criteria"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A", "description": "d" * 501}]},
         "description"),
        ({"name": "N", "criteria": [{"key": "a", "label": "A", "weight": "3"}]}, "weight"),
        ({"name": "N", "active": 0, "criteria": [{"key": "a", "label": "A"}]}, "active"),
        ({"name": "N", "is_default": True, "active": False,
          "criteria": [{"key": "a", "label": "A"}]}, "default"),
    ])
    def test_bad_scorecards_are_refused_and_nothing_is_stored(self, team_of, body, field):
        admin = team_of["admin"]
        before = admin.get("/api/v1/quality/scorecards").json()["scorecards"]
        response = admin.post("/api/v1/quality/scorecards", json=body)
        assert response.status_code == 422
        assert field in str(response.json()["error"])
        assert admin.get("/api/v1/quality/scorecards").json()["scorecards"] == before

    def test_roles(self, team_of):
        short = {"name": "Short", "criteria": [{"key": "ok", "label": "OK"}]}
        assert team_of["ada_api"].get("/api/v1/quality/scorecards").status_code == 403
        refused = team_of["sam_api"].post("/api/v1/quality/scorecards", json=short)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_role"
        assert team_of["sam_api"].put("/api/v1/quality/sampling",
                                      json={"random_percent": 50}).status_code == 403
        assert team_of["ada_api"].get("/api/v1/quality/sampling").status_code == 403
        saved = team_of["admin"].put("/api/v1/quality/sampling",
                                     json={"random_percent": 50, "hopped": False})
        assert saved.status_code == 200
        assert team_of["sam_api"].get("/api/v1/quality/sampling").json()["random_percent"] == 50
        for bad in ({"random_percent": 101}, {"random_percent": -1},
                    {"low_csat_max_score": 5}, {"surprise": 1}, {"hopped": 1},
                    {"random_percent": "5"}):
            assert team_of["admin"].put("/api/v1/quality/sampling",
                                        json=bad).status_code == 422


def _card_in(card: dict[str, Any]) -> dict[str, Any]:
    return {"name": card["name"], "description": card["description"],
            "criteria": card["criteria"], "is_default": card["is_default"],
            "active": card["active"]}


class TestReviews:
    def test_supervisor_reviews_and_the_agent_reads_it(self, team_of, runtime, workspace_id):
        conv = conversation(runtime, workspace_id, assignee=team_of["ada"],
                            answered_by=team_of["ada"], channel="messenger")
        review = queued(team_of["sam_api"], conv)
        assert review["reason"] == "manual" and review["status"] == "pending"
        assert review["agent_name"] == "Ada" and review["channel"] == "messenger"
        # pending: not visible to Ada yet
        assert team_of["ada_api"].get(f"/api/v1/quality/reviews/{review['id']}"
                                      ).status_code == 404
        assert team_of["ada_api"].get("/api/v1/quality/reviews/mine").json()["reviews"] == []
        comment = "Good tone. <script>alert('x')</script> Check the refund policy."
        done = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                      json={"answers": STANDARD, "comment": comment})
        assert done.status_code == 200, done.text
        assert done.json()["score"] == 65.0 and done.json()["reviewer_name"] == "Sam"
        [mine] = team_of["ada_api"].get("/api/v1/quality/reviews/mine").json()["reviews"]
        assert mine["comment"] == comment and mine["score"] == 65.0
        assert {a["key"]: a["worth"] for a in mine["answers"]} == {
            "tone": 0.75, "accuracy": 1.0, "policy": 0.0, "public_private": 1.0}
        assert team_of["ada_api"].get(f"/api/v1/quality/reviews/{review['id']}"
                                      ).status_code == 200
        # Bob reads none of it
        assert team_of["bob_api"].get(f"/api/v1/quality/reviews/{review['id']}"
                                      ).status_code == 404
        assert team_of["bob_api"].get("/api/v1/quality/reviews/mine").json()["reviews"] == []

    def test_an_agent_cannot_review_or_queue(self, team_of, runtime, workspace_id):
        conv = conversation(runtime, workspace_id, assignee=team_of["bob"])
        review = queued(team_of["sam_api"], conv)
        for client in (team_of["ada_api"], team_of["bob_api"]):
            answer = client.put(f"/api/v1/quality/reviews/{review['id']}",
                                json={"answers": STANDARD})
            assert answer.status_code == 403
            other = conversation(runtime, workspace_id, assignee=team_of["sam"])
            assert client.post("/api/v1/quality/reviews",
                               json={"conversation_id": str(other)}).status_code == 403
            assert client.get("/api/v1/quality/reviews").status_code == 403
        assert reviews_of(runtime, workspace_id)[0].status == "pending"

    def test_own_conversation_refused(self, team_of, runtime, workspace_id):
        conv = conversation(runtime, workspace_id, assignee=team_of["sam"])
        refused = team_of["sam_api"].post("/api/v1/quality/reviews",
                                          json={"conversation_id": str(conv)})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "own_conversation"
        review = queued(team_of["admin"], conv)
        answer = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                        json={"answers": STANDARD})
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "own_conversation"

    @pytest.mark.parametrize("answers, field", [
        ({**STANDARD, "tone": 6}, "answers.tone"),
        ({**STANDARD, "tone": 0}, "answers.tone"),
        ({**STANDARD, "tone": "na"}, "answers.tone"),
        ({**STANDARD, "policy": 3}, "answers.policy"),
        ({**STANDARD, "policy": True}, "answers.policy"),
        ({**STANDARD, "accuracy": 4.5}, "answers.accuracy"),
        ({**STANDARD, "accuracy": "<b>5</b>"}, "answers.accuracy"),
        ({k: v for k, v in STANDARD.items() if k != "policy"}, "answers.policy"),
        ({**STANDARD, "bonus": "yes"}, "answers.bonus"),
        ({**STANDARD, "x" * 41: "yes"}, "answers"),
    ])
    def test_answers_off_the_scale_are_refused_and_nothing_changes(
            self, team_of, runtime, workspace_id, answers, field):
        conv = conversation(runtime, workspace_id, assignee=team_of["ada"])
        review = queued(team_of["sam_api"], conv)
        response = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                          json={"answers": answers, "comment": "kept?"})
        assert response.status_code == 422, response.text
        assert field.split(".")[-1] in str(response.json()["error"])  # named, as a path or
        [row] = reviews_of(runtime, workspace_id)                       # in the message
        assert (row.status, row.score, row.answers, row.comment) == ("pending", None, {}, None)

    def test_oversized_comment_refused(self, team_of, runtime, workspace_id):
        conv = conversation(runtime, workspace_id, assignee=team_of["ada"])
        review = queued(team_of["sam_api"], conv)
        response = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                          json={"answers": STANDARD, "comment": "a" * 5001})
        assert response.status_code == 422
        assert reviews_of(runtime, workspace_id)[0].status == "pending"
        exact = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                       json={"answers": STANDARD, "comment": "a" * 5000})
        assert exact.status_code == 200
        nul = team_of["sam_api"].put(f"/api/v1/quality/reviews/{review['id']}",
                                     json={"answers": STANDARD, "comment": "a\u0000b"})
        assert nul.status_code == 422
        assert reviews_of(runtime, workspace_id)[0].comment == "a" * 5000

    def test_another_workspaces_ids_are_not_found(self, team_of, app, runtime, workspace_id):
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:10]}").id
        stranger = agent(runtime, other, "Stranger")
        their_conv = conversation(runtime, other, assignee=stranger)
        their_admin = api(app, runtime, other, "admin")
        their_review = queued(their_admin, their_conv)
        [their_card] = their_admin.get("/api/v1/quality/scorecards").json()["scorecards"]
        sam_api, admin = team_of["sam_api"], team_of["admin"]
        mine = conversation(runtime, workspace_id, assignee=team_of["ada"])
        checks = [
            sam_api.get(f"/api/v1/quality/reviews/{their_review['id']}"),
            sam_api.put(f"/api/v1/quality/reviews/{their_review['id']}",
                        json={"answers": STANDARD}),
            sam_api.post("/api/v1/quality/reviews", json={"conversation_id": str(their_conv)}),
            sam_api.post("/api/v1/quality/reviews", json={"conversation_id": str(mine),
                                                          "agent_id": str(stranger)}),
            sam_api.post("/api/v1/quality/reviews", json={"conversation_id": str(mine),
                                                          "scorecard_id": their_card["id"]}),
            sam_api.get(f"/api/v1/quality/scorecards/{their_card['id']}"),
            sam_api.get(f"/api/v1/quality/scorecards/{their_card['id']}/versions/1"),
            admin.put(f"/api/v1/quality/scorecards/{their_card['id']}",
                      json=_card_in(their_card)),
        ]
        assert [r.status_code for r in checks] == [404] * len(checks)
        assert reviews_of(runtime, workspace_id) == []
        [theirs] = reviews_of(runtime, other)
        assert theirs.status == "pending"
        scores = sam_api.get("/api/v1/quality/scores", params={
            "start": (utcnow() - timedelta(days=1)).isoformat(),
            "end": (utcnow() + timedelta(days=1)).isoformat()}).json()
        assert scores["overall"]["reviews"] == 0

    def test_queue_listing_and_filters(self, team_of, runtime, workspace_id):
        sam_api = team_of["sam_api"]
        first = queued(sam_api, conversation(runtime, workspace_id, assignee=team_of["ada"]))
        second = queued(sam_api, conversation(runtime, workspace_id, assignee=team_of["bob"]))
        sam_api.put(f"/api/v1/quality/reviews/{second['id']}", json={"answers": STANDARD})
        pending = sam_api.get("/api/v1/quality/reviews", params={"status": "pending"}).json()
        assert [r["id"] for r in pending["reviews"]] == [first["id"]]
        bobs = sam_api.get("/api/v1/quality/reviews",
                           params={"agent_id": str(team_of["bob"])}).json()["reviews"]
        assert [r["id"] for r in bobs] == [second["id"]]
        assert sam_api.get("/api/v1/quality/reviews", params={"reason": "random"}
                           ).json()["reviews"] == []
        assert sam_api.get("/api/v1/quality/reviews", params={"reason": "nope"}
                           ).status_code == 422
        assert sam_api.get("/api/v1/quality/reviews", params={"limit": 201}).status_code == 422

    def test_a_conversation_without_an_agent_needs_one_named(self, team_of, runtime,
                                                             workspace_id):
        conv = conversation(runtime, workspace_id, assignee=None)
        refused = team_of["sam_api"].post("/api/v1/quality/reviews",
                                          json={"conversation_id": str(conv)})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_agent"
        named = queued(team_of["sam_api"], conv, agent_id=str(team_of["bob"]))
        assert named["agent_id"] == str(team_of["bob"])
        twice = team_of["admin"].post("/api/v1/quality/reviews",
                                      json={"conversation_id": str(conv)})
        assert twice.status_code == 409
