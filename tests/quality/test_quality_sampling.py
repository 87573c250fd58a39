"""The sampler: each rule names its reason, the random share per agent and week is exact,
a conversation is never picked twice, the agent reviewed is the assignee or the last agent
who answered, nobody is asked to review his own conversation, and the job runs and comes
back."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from tests.quality.helpers import (
    agent,
    by_conversation,
    conversation,
    reviews_of,
    survey,
    team,
)
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, Forbidden
from threadline.events.models import OutboxJob
from threadline.jobs.runtime import Runtime
from threadline.quality import reviews as review_service
from threadline.quality.models import QualityReview, Reason
from threadline.quality.sampling import (
    SAMPLE_JOB,
    sample_workspace,
    schedule_sample,
    week_of,
)
from threadline.quality.schemas import ReviewCreate, ReviewIn, SamplingSettings
from threadline.quality.scorecards import set_sampling_settings

SYSTEM = Actor("system")
NOW = week_of(utcnow()) + timedelta(days=3, hours=12)  # this week's Thursday, 12:00 UTC


def settings(runtime: Runtime, workspace_id: uuid.UUID, **changes: object) -> None:
    with runtime.db.session() as session:
        set_sampling_settings(session, workspace_id,
                              SamplingSettings.model_validate(changes), SYSTEM)


def sample(runtime: Runtime, workspace_id: uuid.UUID, now: datetime = NOW) -> dict[str, int]:
    with runtime.db.session() as session:
        return sample_workspace(session, workspace_id, now)


def resolved(runtime: Runtime, workspace_id: uuid.UUID, who: uuid.UUID, count: int, *,
             days_ago: float = 1, **fields: object) -> list[uuid.UUID]:
    return [conversation(runtime, workspace_id, assignee=who, answered_by=who,
                         resolved_at=NOW - timedelta(days=days_ago, minutes=i),
                         **fields)  # type: ignore[arg-type]
            for i in range(count)]


class TestRules:
    def test_each_rule_names_its_reason_and_plain_ones_stay_out(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=0)
        ada = agent(runtime, workspace_id, "Ada")
        [reopened] = resolved(runtime, workspace_id, ada, 1, reopen_count=2)
        [hopped] = resolved(runtime, workspace_id, ada, 1, hopped=True)
        [complaint] = resolved(runtime, workspace_id, ada, 1, visibility="public",
                               category="complaint")
        [negative] = resolved(runtime, workspace_id, ada, 1, visibility="public",
                              sentiment="negative")
        [private_complaint] = resolved(runtime, workspace_id, ada, 1, visibility="private",
                                       category="complaint")
        [public_praise] = resolved(runtime, workspace_id, ada, 1, visibility="public",
                                   sentiment="positive")
        [plain] = resolved(runtime, workspace_id, ada, 1)
        counts = sample(runtime, workspace_id)
        picked = by_conversation(runtime, workspace_id)
        assert {c: r.reason for c, r in picked.items()} == {
            reopened: "reopened", hopped: "hopped", complaint: "public_complaint",
            negative: "public_complaint"}
        assert private_complaint not in picked and public_praise not in picked
        assert plain not in picked
        assert counts["reopened"] == 1 and counts["hopped"] == 1
        assert counts["public_complaint"] == 2 and counts["random"] == 0
        assert all(r.status == "pending" and r.agent_id == ada for r in picked.values())

    def test_low_csat_when_the_surveys_exist(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=0, low_csat_max_score=2)
        ada = agent(runtime, workspace_id, "Ada")
        unhappy, content, unanswered, both = resolved(runtime, workspace_id, ada, 4)
        survey(runtime, workspace_id, unhappy, 2)
        survey(runtime, workspace_id, content, 3)
        survey(runtime, workspace_id, unanswered, None)
        [public_unhappy] = resolved(runtime, workspace_id, ada, 1, visibility="public",
                                    category="complaint", reopen_count=1)
        survey(runtime, workspace_id, public_unhappy, 1)
        survey(runtime, workspace_id, both, 5)
        sample(runtime, workspace_id)
        picked = by_conversation(runtime, workspace_id)
        # low CSAT comes first when several rules match
        assert {c: r.reason for c, r in picked.items()} == {
            unhappy: "low_csat", public_unhappy: "low_csat"}

    def test_switched_off_rules_pick_nothing(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=0, reopened=False, hopped=False,
                 public_complaint=False)
        ada = agent(runtime, workspace_id, "Ada")
        resolved(runtime, workspace_id, ada, 1, reopen_count=1, hopped=True,
                 visibility="public", category="complaint")
        assert sum(sample(runtime, workspace_id).values()) == 0

    def test_at_most_the_weekly_cap_by_rule_the_rest_may_come_at_random(
            self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=0, max_rule_reviews_per_agent_week=3)
        ada = agent(runtime, workspace_id, "Ada")
        resolved(runtime, workspace_id, ada, 5, reopen_count=1)
        assert sample(runtime, workspace_id)["reopened"] == 3
        assert sample(runtime, workspace_id)["reopened"] == 0  # the cap holds across runs
        settings(runtime, workspace_id, random_percent=100, max_rule_reviews_per_agent_week=3)
        assert sample(runtime, workspace_id)["random"] == 2


class TestRandomShare:
    def test_percent_per_agent_and_week_rounded_up(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=20, reopened=False, hopped=False,
                 public_complaint=False, low_csat=False)
        ada, bob, cy = (agent(runtime, workspace_id, n) for n in ("Ada", "Bob", "Cy"))
        resolved(runtime, workspace_id, ada, 10)  # 20% of 10 = 2
        resolved(runtime, workspace_id, bob, 3)  # 20% of 3 = 0.6 -> 1
        resolved(runtime, workspace_id, ada, 4, days_ago=7)  # last week: 0.8 -> 1
        resolved(runtime, workspace_id, ada, 5, days_ago=14)  # before last week: not looked at
        counts = sample(runtime, workspace_id)
        assert counts["random"] == 4
        per_agent: dict[uuid.UUID | None, int] = {}
        for review in reviews_of(runtime, workspace_id):
            assert review.reason == "random"
            per_agent[review.agent_id] = per_agent.get(review.agent_id, 0) + 1
        assert per_agent == {ada: 3, bob: 1}
        assert cy not in per_agent
        # the quota holds: a second run adds nothing; five more of Ada's make 15 -> 3
        assert sample(runtime, workspace_id)["random"] == 0
        resolved(runtime, workspace_id, ada, 5, days_ago=0.5)
        assert sample(runtime, workspace_id)["random"] == 1

    def test_zero_percent_picks_none_and_a_hundred_picks_all(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=0)
        ada = agent(runtime, workspace_id, "Ada")
        resolved(runtime, workspace_id, ada, 4)
        assert sample(runtime, workspace_id)["random"] == 0
        settings(runtime, workspace_id, random_percent=100)
        assert sample(runtime, workspace_id)["random"] == 4


class TestWhatIsLookedAt:
    def test_only_resolved_unmerged_conversations_with_an_agent(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=100)
        ada, bob = agent(runtime, workspace_id, "Ada"), agent(runtime, workspace_id, "Bob")
        by_answer = conversation(runtime, workspace_id, assignee=None, answered_by=bob,
                                 resolved_at=NOW - timedelta(hours=3), answer_channel="email")
        nobody = conversation(runtime, workspace_id, assignee=None,
                              resolved_at=NOW - timedelta(hours=3))
        still_open = conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                                  status="open")
        closed = conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                              status="closed", resolved_at=NOW - timedelta(hours=2))
        target = conversation(runtime, workspace_id, assignee=ada, status="open")
        merged = conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                              status="closed", merged_into=target)
        later = conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                             resolved_at=NOW + timedelta(hours=1))
        sample(runtime, workspace_id)
        picked = by_conversation(runtime, workspace_id)
        assert set(picked) == {by_answer, closed}
        assert picked[by_answer].agent_id == bob and picked[by_answer].channel == "email"
        for other in (nobody, still_open, merged, later):
            assert other not in picked

    def test_team_and_channel_recorded(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=100)
        support = team(runtime, workspace_id, "Support")
        billing = team(runtime, workspace_id, "Billing")
        ada = agent(runtime, workspace_id, "Ada", team_id=support)
        own_team = conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                                resolved_at=NOW - timedelta(hours=1), channel="x",
                                answer_channel="whatsapp")
        routed = conversation(runtime, workspace_id, assignee=ada, team_id=billing,
                              resolved_at=NOW - timedelta(hours=1), channel="facebook")
        sample(runtime, workspace_id)
        picked = by_conversation(runtime, workspace_id)
        assert (picked[own_team].team_id, picked[own_team].channel) == (support, "whatsapp")
        # no answer of his: the channel it started on
        assert (picked[routed].team_id, picked[routed].channel) == (billing, "facebook")


class TestNeverTwiceNeverOwn:
    def test_a_conversation_is_picked_once_whatever_happens(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=100)
        ada = agent(runtime, workspace_id, "Ada")
        ids = resolved(runtime, workspace_id, ada, 3, reopen_count=1)
        assert sample(runtime, workspace_id)["reopened"] == 3
        assert sum(sample(runtime, workspace_id).values()) == 0
        assert sum(sample(runtime, workspace_id, NOW + timedelta(days=1)).values()) == 0
        assert len(reviews_of(runtime, workspace_id)) == 3
        with runtime.db.session() as session, pytest.raises(Conflict) as caught:
            review_service.add_conversation(session, workspace_id,
                                            ReviewCreate(conversation_id=ids[0]), SYSTEM)
        assert caught.value.code == "already_reviewed"
        with pytest.raises(IntegrityError), runtime.db.session() as session:
            first = session.scalar(select(QualityReview).where(
                QualityReview.conversation_id == ids[0]))
            session.add(QualityReview(id=new_id(), workspace_id=workspace_id,
                                      conversation_id=ids[0], scorecard_id=first.scorecard_id,
                                      reason="manual", answers={}))
            session.flush()

    def test_a_manual_review_is_not_picked_again(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=100)
        ada = agent(runtime, workspace_id, "Ada")
        [conv] = resolved(runtime, workspace_id, ada, 1, reopen_count=1)
        with runtime.db.session() as session:
            review_service.add_conversation(session, workspace_id,
                                            ReviewCreate(conversation_id=conv), SYSTEM)
        assert sum(sample(runtime, workspace_id).values()) == 0
        [review] = reviews_of(runtime, workspace_id)
        assert review.reason == Reason.MANUAL

    def test_nobody_reviews_his_own_conversation(self, runtime, workspace_id):
        settings(runtime, workspace_id, random_percent=100)
        sam = agent(runtime, workspace_id, "Sam", role="supervisor")
        kim = agent(runtime, workspace_id, "Kim", role="supervisor")
        [his] = resolved(runtime, workspace_id, sam, 1)
        sample(runtime, workspace_id)
        review = by_conversation(runtime, workspace_id)[his]
        sam_actor = Actor("agent", str(sam), agent_id=sam)
        with runtime.db.session(write=False) as session:
            assert review_service.list_reviews(session, workspace_id, status="pending",
                                               exclude_agent=sam) == []
            assert [r.id for r in review_service.list_reviews(
                session, workspace_id, status="pending", exclude_agent=kim)] == [review.id]
        answers = ReviewIn(answers={"tone": 5, "accuracy": 5, "policy": "yes",
                                    "public_private": "yes"})
        with runtime.db.session() as session, pytest.raises(Forbidden) as caught:
            review_service.submit_review(session, workspace_id, review.id, answers, sam_actor)
        assert caught.value.code == "own_conversation"
        with runtime.db.session() as session:
            done = review_service.submit_review(session, workspace_id, review.id, answers,
                                                Actor("agent", str(kim), agent_id=kim))
            assert done.score == 100.0 and done.reviewer_id == kim


class TestJob:
    def test_the_job_fills_the_queue_and_comes_back(self, runtime, workspace_id, worker):
        settings(runtime, workspace_id, random_percent=100)
        ada = agent(runtime, workspace_id, "Ada")
        conversation(runtime, workspace_id, assignee=ada, answered_by=ada,
                     resolved_at=utcnow() - timedelta(seconds=30))
        with runtime.db.session() as session:  # one an earlier test's server scheduled
            session.execute(delete(OutboxJob).where(OutboxJob.name == SAMPLE_JOB,
                                                    OutboxJob.status == "pending"))
        try:
            with runtime.db.session() as session:
                assert schedule_sample(session) is not None
            with runtime.db.session() as session:
                assert schedule_sample(session) is None  # one pending job at a time
            worker.drain()
            assert [r.reason for r in reviews_of(runtime, workspace_id)] == ["random"]
            with runtime.db.session(write=False) as session:
                again = session.scalars(select(OutboxJob).where(
                    OutboxJob.name == SAMPLE_JOB, OutboxJob.status == "pending")).all()
            assert len(again) == 1
            assert again[0].due_at > utcnow() + timedelta(
                seconds=runtime.settings.quality_sample_seconds - 60)
        finally:  # no later test's worker runs it over their workspaces
            with runtime.db.session() as session:
                session.execute(delete(OutboxJob).where(OutboxJob.name == SAMPLE_JOB,
                                                        OutboxJob.status == "pending"))
