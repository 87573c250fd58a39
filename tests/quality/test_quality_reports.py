"""QA scores by agent, team and channel over a date range, computed by hand: n.a.-only
reviews count as done but not scored, pending ones not at all, the range is [start, end),
filters narrow it; a bad range is a typed 422 (function and API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.quality.helpers import agent, conversation, team
from threadline.conversations.service import Actor
from threadline.errors import ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.quality import reviews as review_service
from threadline.quality.reports import qa_scores
from threadline.quality.schemas import ReviewCreate, ReviewIn

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
BOSS = Actor("system")


def reviewed(runtime: Runtime, workspace_id: uuid.UUID, who: uuid.UUID, answers: dict, *,
             at: datetime, channel: str = "x", team_id: uuid.UUID | None = None) -> None:
    conv = conversation(runtime, workspace_id, assignee=who, answered_by=who, channel=channel,
                        team_id=team_id)
    with runtime.db.session() as session:
        review = review_service.add_conversation(session, workspace_id,
                                                 ReviewCreate(conversation_id=conv), BOSS)
        done = review_service.submit_review(session, workspace_id, review.id,
                                            ReviewIn(answers=answers), BOSS)
        done.reviewed_at = at


def grade(tone: int | str, accuracy: int | str, policy: str, judgement: str) -> dict:
    return {"tone": tone, "accuracy": accuracy, "policy": policy, "public_private": judgement}


@pytest.fixture
def figures(runtime, workspace_id) -> dict[str, uuid.UUID]:
    support, billing = team(runtime, workspace_id, "Support"), team(runtime, workspace_id,
                                                                     "Billing")
    ada = agent(runtime, workspace_id, "Ada", team_id=support)
    bob = agent(runtime, workspace_id, "Bob", team_id=billing)
    day = timedelta(days=1)
    # Ada: 100 (x, start of range), 65 (whatsapp), 0 (whatsapp) -> average 55
    reviewed(runtime, workspace_id, ada, grade(5, 5, "yes", "yes"), at=START)
    reviewed(runtime, workspace_id, ada, grade(4, 5, "no", "yes"), at=START + day,
             channel="whatsapp")
    reviewed(runtime, workspace_id, ada, grade(1, 1, "no", "no"), at=START + 2 * day,
             channel="whatsapp")
    # Bob: 53.57 (policy n.a.) and 37.5, both on x -> 45.535, rounded half up 45.54
    reviewed(runtime, workspace_id, bob, grade(3, 2, "na", "yes"), at=START + day)
    reviewed(runtime, workspace_id, bob, grade(3, 2, "no", "yes"), at=START + 3 * day)
    # outside the range: the end is excluded, and before the start
    reviewed(runtime, workspace_id, bob, grade(5, 5, "yes", "yes"), at=START + 7 * day)
    reviewed(runtime, workspace_id, ada, grade(5, 5, "yes", "yes"), at=START - timedelta(
        seconds=1))
    # pending: not counted
    pending = conversation(runtime, workspace_id, assignee=bob)
    with runtime.db.session() as session:
        review_service.add_conversation(session, workspace_id,
                                        ReviewCreate(conversation_id=pending), BOSS)
    return {"ada": ada, "bob": bob, "support": support, "billing": billing}


class TestQaScores:
    def test_by_agent_team_and_channel(self, runtime, workspace_id, figures):
        with runtime.db.session(write=False) as session:
            scores = qa_scores(session, workspace_id, START, START + timedelta(days=7))
        assert (scores.overall.reviews, scores.overall.scored) == (5, 5)
        # (100 + 65 + 0 + 53.57 + 37.5) / 5 = 51.214 -> 51.21
        assert scores.overall.average == 51.21
        agents = {g.name: (g.reviews, g.average) for g in scores.by_agent}
        assert agents == {"Ada": (3, 55.0), "Bob": (2, 45.54)}  # (53.57 + 37.5) / 2 = 45.535
        teams = {g.name: (g.reviews, g.average) for g in scores.by_team}
        assert teams == {"Support": (3, 55.0), "Billing": (2, 45.54)}
        channels = {g.key: (g.reviews, g.average) for g in scores.by_channel}
        # x: 100, 53.57, 37.5 -> 63.69; whatsapp: 65, 0 -> 32.5
        assert channels == {"x": (3, 63.69), "whatsapp": (2, 32.5)}
        assert [g.key for g in scores.by_agent] == [str(figures["ada"]), str(figures["bob"])]

    def test_filters(self, runtime, workspace_id, figures):
        end = START + timedelta(days=7)
        with runtime.db.session(write=False) as session:
            only_ada = qa_scores(session, workspace_id, START, end, agent_ids=[figures["ada"]])
            billing = qa_scores(session, workspace_id, START, end,
                                team_ids=[figures["billing"]])
            whatsapp = qa_scores(session, workspace_id, START, end, channels=["whatsapp"])
            nothing = qa_scores(session, workspace_id, START, end, channels=[])
        assert (only_ada.overall.reviews, only_ada.overall.average) == (3, 55.0)
        assert [g.name for g in billing.by_agent] == ["Bob"]
        assert (whatsapp.overall.reviews, whatsapp.overall.average) == (2, 32.5)
        assert nothing.overall.reviews == 0 and nothing.overall.average is None
        assert nothing.by_agent == [] and nothing.by_channel == []

    def test_a_review_with_every_answer_na_is_done_but_not_scored(self, runtime,
                                                                   workspace_id):
        ada = agent(runtime, workspace_id, "Ada")
        conv = conversation(runtime, workspace_id, assignee=ada)
        with runtime.db.session() as session:
            review = review_service.add_conversation(session, workspace_id,
                                                     ReviewCreate(conversation_id=conv), BOSS)
            # only n.a.-able criteria on this one
            review.answers = {}
            from threadline.quality.scorecards import parse_scorecard, save_scorecard

            card, _ = save_scorecard(session, workspace_id, parse_scorecard({
                "name": "Judgement only", "criteria": [
                    {"key": "policy", "label": "Policy", "scale": "yes_no_na"}]}), BOSS)
            review.scorecard_id = card.id
            session.flush()
            done = review_service.submit_review(session, workspace_id, review.id,
                                                ReviewIn(answers={"policy": "na"}), BOSS)
            assert done.score is None and done.status == "done"
            done.reviewed_at = START
        with runtime.db.session(write=False) as session:
            scores = qa_scores(session, workspace_id, START, START + timedelta(days=1))
        assert (scores.overall.reviews, scores.overall.scored, scores.overall.average) == (
            1, 0, None)

    @pytest.mark.parametrize("start, end, code", [
        (START, START, "invalid_range"),
        (START + timedelta(days=1), START, "invalid_range"),
        (START, START + timedelta(days=367), "range_too_long"),
        (START.replace(tzinfo=None), START + timedelta(days=1), "invalid_range"),
    ])
    def test_bad_ranges(self, runtime, workspace_id, start, end, code):
        with runtime.db.session(write=False) as session, pytest.raises(ValidationFailed) as e:
            qa_scores(session, workspace_id, start, end)
        assert e.value.code == code and e.value.status == 422


class TestScoresApi:
    def test_the_api_gives_the_same_figures_and_refuses_bad_ranges(
            self, client, runtime, workspace_id, figures):
        body = client.get("/api/v1/quality/scores", params={
            "start": START.isoformat(), "end": (START + timedelta(days=7)).isoformat(),
            "channel": ["x"]}).json()
        assert (body["overall"]["reviews"], body["overall"]["average"]) == (3, 63.69)
        assert {g["name"]: g["average"] for g in body["by_agent"]} == {"Ada": 100.0,
                                                                       "Bob": 45.54}
        for params, code in (
                ({"start": "2026-03-09T00:00:00Z", "end": "2026-03-02T00:00:00Z"},
                 "invalid_range"),
                ({"start": "2026-03-02T00:00:00Z", "end": "2027-03-09T00:00:00Z"},
                 "range_too_long"),
                ({"start": "2026-03-02T00:00:00", "end": "2026-03-09T00:00:00"},
                 "invalid_range"),
                ({"start": "yesterday", "end": "2026-03-09T00:00:00Z"}, "validation_failed"),
                ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-09T00:00:00Z",
                  "channel": "pigeon"}, "validation_failed"),
                ({"start": "2026-03-02T00:00:00Z"}, "validation_failed")):
            response = client.get("/api/v1/quality/scores", params=params)
            assert response.status_code == 422, params
            assert response.json()["error"]["code"] == code

    def test_agents_cannot_read_scores(self, app, runtime, workspace_id):
        from tests.quality.test_quality_api import api

        response = api(app, runtime, workspace_id, "agent").get("/api/v1/quality/scores", params={
            "start": START.isoformat(), "end": (START + timedelta(days=1)).isoformat()})
        assert response.status_code == 403

