"""The quality pages: the supervisors' queue (own conversations left out), the review form
beside the timeline, the agent's own reviews (comments shown escaped), adding a conversation
by hand, the scorecard and sampling settings (admins); wrong roles, forged forms, bad answers
and oversized comments refused with nothing stored."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from tests.desktop.conftest import Desk
from tests.quality.helpers import agent, conversation, reviews_of
from threadline.conversations.service import Actor
from threadline.jobs.runtime import Runtime
from threadline.quality import reviews as review_service
from threadline.quality.models import QualityScorecard, QualityScorecardVersion
from threadline.quality.schemas import ReviewCreate
from threadline.workspace import service as workspace_service

FORM = {"answer.tone": "4", "answer.accuracy": "5", "answer.policy": "no",
        "answer.public_private": "yes"}  # 65.0
SYSTEM = Actor("system")


def queue(runtime: Runtime, workspace_id: uuid.UUID, agent_id: uuid.UUID,
          text: str = "My order never came.") -> tuple[uuid.UUID, uuid.UUID]:
    conv = conversation(runtime, workspace_id, assignee=agent_id, answered_by=agent_id)
    with runtime.db.session() as session:
        review = review_service.add_conversation(session, workspace_id,
                                                 ReviewCreate(conversation_id=conv), SYSTEM)
        return conv, review.id


class TestQueue:
    def test_supervisor_sees_the_queue_without_his_own(self, supervisor_desk: Desk,
                                                       agent_desk: Desk, runtime,
                                                       workspace_id):
        _, theirs = queue(runtime, workspace_id, agent_desk.agent.id)
        _, his = queue(runtime, workspace_id, supervisor_desk.agent.id)
        page = supervisor_desk.get("/quality")
        assert page.status_code == 200
        assert f'id="qa-{theirs}"' in page.text and f'id="qa-{his}"' not in page.text
        assert 'href="/quality" id="quality-link"' in page.text
        assert agent_desk.get("/quality").status_code == 403
        assert 'href="/quality/mine" id="quality-link"' in agent_desk.get("/inbox").text

    def test_adding_by_address(self, supervisor_desk: Desk, agent_desk: Desk, runtime,
                               workspace_id):
        conv = conversation(runtime, workspace_id, assignee=agent_desk.agent.id)
        added = supervisor_desk.post("/quality/add", {
            "conversation": f"https://care.example/conversations/{conv}?view=all"})
        assert added.status_code == 303
        [review] = reviews_of(runtime, workspace_id)
        assert added.headers["location"] == f"/quality/reviews/{review.id}"
        assert review.reason == "manual" and review.agent_id == agent_desk.agent.id
        again = supervisor_desk.post("/quality/add", {"conversation": str(conv)})
        assert again.status_code == 409 and "already_reviewed" in again.text
        garbage = supervisor_desk.post("/quality/add", {"conversation": "<script>x</script>"})
        assert garbage.status_code == 422 and "<script>x</script>" not in garbage.text
        own = conversation(runtime, workspace_id, assignee=supervisor_desk.agent.id)
        refused = supervisor_desk.post("/quality/add", {"conversation": str(own)})
        assert refused.status_code == 403 and "own_conversation" in refused.text
        with runtime.db.session() as session:
            other = workspace_service.create_workspace(session, "Other",
                                                       f"o-{uuid.uuid4().hex[:10]}").id
        theirs = conversation(runtime, other, assignee=agent(runtime, other, "Stranger"))
        assert supervisor_desk.post("/quality/add",
                                    {"conversation": str(theirs)}).status_code == 404
        assert agent_desk.post("/quality/add", {"conversation": str(conv)}).status_code == 403
        assert len(reviews_of(runtime, workspace_id)) == 1 and reviews_of(runtime, other) == []


class TestReviewForm:
    def test_review_beside_the_timeline_then_the_agent_reads_it_escaped(
            self, supervisor_desk: Desk, agent_desk: Desk, runtime, workspace_id):
        _, review_id = queue(runtime, workspace_id, agent_desk.agent.id)
        page = supervisor_desk.get(f"/quality/reviews/{review_id}")
        assert page.status_code == 200
        assert 'id="qa-timeline"' in page.text and "My order never came." in page.text
        assert page.text.count('name="answer.tone"') == 5  # 1-5
        assert page.text.count('name="answer.policy"') == 3  # yes, no, n.a.
        comment = 'Check the refund policy. <img src=x onerror="alert(1)"><script>bad()</script>'
        saved = supervisor_desk.post(f"/quality/reviews/{review_id}",
                                     {**FORM, "comment": comment})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/quality?notice=review-saved"
        [row] = reviews_of(runtime, workspace_id)
        assert (row.status, row.score, row.comment) == ("done", 65.0, comment)
        assert row.reviewer_id == supervisor_desk.agent.id
        mine = agent_desk.get("/quality/mine")
        assert mine.status_code == 200 and f'id="qa-{review_id}"' in mine.text
        detail = agent_desk.get(f"/quality/reviews/{review_id}")
        assert detail.status_code == 200
        assert "65.0" in detail.text and 'id="qa-form"' not in detail.text
        for text in (mine.text, detail.text):
            assert "<script>bad()</script>" not in text and '<img src=x' not in text
        assert "&lt;script&gt;bad()&lt;/script&gt;" in detail.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in detail.text

    def test_an_agent_cannot_answer_or_read_others(self, supervisor_desk: Desk,
                                                   agent_desk: Desk, app, runtime,
                                                   workspace_id):
        other = agent(runtime, workspace_id, "Bob")
        _, theirs = queue(runtime, workspace_id, other)
        _, mine = queue(runtime, workspace_id, agent_desk.agent.id)
        assert agent_desk.post(f"/quality/reviews/{mine}", FORM).status_code == 403
        assert agent_desk.get(f"/quality/reviews/{mine}").status_code == 404  # pending
        supervisor_desk.post(f"/quality/reviews/{theirs}", FORM)
        assert agent_desk.get(f"/quality/reviews/{theirs}").status_code == 404  # not his
        assert [r.status for r in reviews_of(runtime, workspace_id)] == ["done", "pending"]

    def test_own_conversation(self, supervisor_desk: Desk, runtime, workspace_id):
        _, his = queue(runtime, workspace_id, supervisor_desk.agent.id)
        page = supervisor_desk.get(f"/quality/reviews/{his}")
        assert 'id="qa-own"' in page.text and 'id="qa-form"' not in page.text
        refused = supervisor_desk.post(f"/quality/reviews/{his}", FORM)
        assert refused.status_code == 403 and "own_conversation" in refused.text
        assert reviews_of(runtime, workspace_id)[0].status == "pending"

    def test_bad_answers_and_comments_store_nothing(self, supervisor_desk: Desk,
                                                    agent_desk: Desk, runtime, workspace_id):
        _, review_id = queue(runtime, workspace_id, agent_desk.agent.id)
        url = f"/quality/reviews/{review_id}"
        cases: list[tuple[dict[str, Any], str]] = [
            ({**FORM, "answer.tone": "9"}, "answers.tone"),
            ({**FORM, "answer.policy": "maybe"}, "answers.policy"),
            ({k: v for k, v in FORM.items() if k != "answer.accuracy"}, "answers.accuracy"),
            ({**FORM, "answer.bonus": "yes"}, "answers.bonus"),
            ({**FORM, "answer.tone": "<b>4</b>"}, "answers.tone"),
            ({**FORM, "comment": "x" * 5001}, "comment"),
        ]
        for form, field in cases:
            response = supervisor_desk.post(url, form)
            assert response.status_code == 422, (form, response.status_code)
            assert field in response.text
            assert 'id="qa-form"' in response.text  # the form again, with what was typed
        assert supervisor_desk.post(url, FORM, csrf=False).status_code == 403
        [row] = reviews_of(runtime, workspace_id)
        assert (row.status, row.score, row.answers, row.comment) == ("pending", None, {}, None)
        assert supervisor_desk.get(f"/quality/reviews/{uuid.uuid4()}").status_code == 404


class TestSettings:
    def test_admin_only(self, supervisor_desk: Desk, agent_desk: Desk, admin_desk: Desk):
        assert supervisor_desk.get("/settings/quality").status_code == 403
        assert agent_desk.get("/settings/quality").status_code == 403
        page = admin_desk.get("/settings/quality")
        assert page.status_code == 200 and "Standard review" in page.text
        assert 'href="/settings/quality"' in admin_desk.get("/settings").text
        assert supervisor_desk.post("/settings/quality/sampling",
                                    {"random_percent": "50"}).status_code == 403

    def test_add_edit_archive_and_sampling(self, admin_desk: Desk, runtime, workspace_id):
        form = {"name": "Calls", "description": "Phone calls",
                "c_label": ["Greeting", "Resolution", ""],
                "c_key": ["", "", ""], "c_description": ["Says the brand name", "", ""],
                "c_weight": ["1", "4", "1"], "c_scale": ["yes_no", "one_to_five", "yes_no"]}
        assert admin_desk.post("/settings/quality/scorecards", form).status_code == 303
        with runtime.db.session(write=False) as session:
            card = session.scalar(select(QualityScorecard).where(
                QualityScorecard.workspace_id == workspace_id,
                QualityScorecard.name == "Calls"))
            assert card is not None and card.version == 1 and not card.is_default
            card_id = card.id
        page = admin_desk.get(f"/settings/quality?edit={card_id}")
        assert 'value="greeting"' in page.text and 'value="resolution"' in page.text
        edited = {**form, "c_key": ["greeting", "resolution", ""],
                  "c_weight": ["2", "4", "1"], "is_default": "on"}
        assert admin_desk.post(f"/settings/quality/scorecards/{card_id}",
                               edited).status_code == 303
        with runtime.db.session(write=False) as session:
            versions = session.scalars(select(QualityScorecardVersion).where(
                QualityScorecardVersion.scorecard_id == card_id)
                .order_by(QualityScorecardVersion.version)).all()
            assert [[c["weight"] for c in v.criteria] for v in versions] == [[1, 4], [2, 4]]
            standard = session.scalar(select(QualityScorecard).where(
                QualityScorecard.workspace_id == workspace_id,
                QualityScorecard.name == "Standard review"))
            assert standard is not None and not standard.is_default
        refused = admin_desk.post(f"/settings/quality/scorecards/{card_id}/archive")
        assert refused.status_code == 422 and "default" in refused.text
        assert admin_desk.post(f"/settings/quality/scorecards/{standard.id}/archive"
                               ).status_code == 303
        assert admin_desk.post(f"/settings/quality/scorecards/{standard.id}/restore"
                               ).status_code == 303
        saved = admin_desk.post("/settings/quality/sampling", {
            "random_percent": "15", "reopened": "on", "low_csat_max_score": "1",
            "max_rule_reviews_per_agent_week": "4"})
        assert saved.status_code == 303
        page = admin_desk.get("/settings/quality")
        assert 'name="random_percent" value="15"' in page.text
        assert re.search(r'name="hopped"\s*>', page.text)  # unticked
        assert re.search(r'name="reopened" checked', page.text)

    def test_bad_forms_say_which_field_and_store_nothing(self, admin_desk: Desk, runtime,
                                                         workspace_id):
        admin_desk.get("/settings/quality")
        bad = {"name": "Calls", "c_label": ["Greeting"], "c_key": [""],
               "c_description": [""], "c_weight": ["heavy"], "c_scale": ["yes_no"]}
        response = admin_desk.post("/settings/quality/scorecards", bad)
        assert response.status_code == 422
        assert "criteria.0.weight" in response.text and 'value="heavy"' in response.text
        for form, field in (
                ({**bad, "c_weight": ["1"], "c_scale": ["one_to_ten"]}, "criteria.0.scale"),
                ({**bad, "c_weight": ["1"], "name": "<i>x</i>"}, "name"),
                ({**bad, "c_weight": ["1"], "c_label": [""], "c_key": [""]}, "criteria"),
                ({**bad, "c_weight": ["1"], "name": "Standard review"}, "name"),
                ({**bad, "c_weight": ["1"], "c_label": ["A", "B"], "c_key": ["a", "a"],
                  "c_description": ["", ""], "c_scale": ["yes_no", "yes_no"]}, "key")):
            response = admin_desk.post("/settings/quality/scorecards", form)
            assert response.status_code == 422, form
            assert field in response.text
        for form in ({"random_percent": "150"}, {"random_percent": "lots"},
                     {"random_percent": "5", "low_csat_max_score": "9"}):
            assert admin_desk.post("/settings/quality/sampling", form).status_code == 422
        with runtime.db.session(write=False) as session:
            names = set(session.scalars(select(QualityScorecard.name).where(
                QualityScorecard.workspace_id == workspace_id)))
        assert names == {"Standard review"}
