"""Erasing a customer clears the reviewers' comments on reviews of his conversations (a
comment may quote him); the answers and the score, about the agent's work, stay; other
customers' reviews keep their comments."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.quality.helpers import agent, conversation
from threadline.contacts.service import create_customer
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor
from threadline.jobs.runtime import Runtime
from threadline.quality import reviews as review_service
from threadline.quality.models import QualityReview
from threadline.quality.schemas import ReviewCreate, ReviewIn
from threadline.subjects.service import erase_customer

BOSS = Actor("system")
ANSWERS = {"tone": 5, "accuracy": 5, "policy": "yes", "public_private": "na"}


def reviewed_for(runtime: Runtime, workspace_id: uuid.UUID, who: uuid.UUID, name: str,
                 comment: str) -> tuple[uuid.UUID, uuid.UUID]:
    conv_id = conversation(runtime, workspace_id, assignee=who)
    with runtime.db.session() as session:
        customer = create_customer(session, workspace_id, name=name)
        conv = session.get(Conversation, conv_id)
        assert conv is not None
        conv.customer_id = customer.id
        review = review_service.add_conversation(session, workspace_id,
                                                 ReviewCreate(conversation_id=conv_id), BOSS)
        review_service.submit_review(session, workspace_id, review.id,
                                     ReviewIn(answers=ANSWERS, comment=comment), BOSS)
        return customer.id, review.id


def test_erasure_clears_the_comment_and_keeps_the_score(runtime, workspace_id):
    ada = agent(runtime, workspace_id, "Ada")
    him, his_review = reviewed_for(runtime, workspace_id, ada, "Erin Erased",
                                   "Erin Erased at 12 Elm Street was told the wrong date")
    _, other_review = reviewed_for(runtime, workspace_id, ada, "Kay Kept", "Well done")
    with runtime.db.session() as session:
        report = erase_customer(session, workspace_id, him, BOSS)
    assert report.counts["quality_reviews"] == 1
    with runtime.db.session(write=False) as session:
        rows = {r.id: r for r in session.scalars(select(QualityReview).where(
            QualityReview.id.in_([his_review, other_review])))}
    assert rows[his_review].comment is None
    assert rows[his_review].score == 100.0 and rows[his_review].status == "done"
    assert [i["value"] for i in rows[his_review].answers["items"]] == ["5", "5", "yes", "na"]
    assert rows[other_review].comment == "Well done"
