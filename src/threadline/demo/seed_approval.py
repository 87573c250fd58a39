"""Demo data for the approval of public replies: the policy "agents in training", public-answer
topics, one agent in training, and one of his public replies held in the approval queue (on the
first public conversation the demo traffic brings; run in a thread, it waits for one)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from threadline.conversations.approvals import ReplyApproval
from threadline.conversations.models import Conversation
from threadline.conversations.service import SYSTEM, Actor
from threadline.inbound.public_answers import PublicAnswersIn, set_public_answers
from threadline.jobs.runtime import Runtime
from threadline.outbound.approval_rules import ApprovalPolicy, set_approval_policy
from threadline.outbound.replies import Reply, post_reply
from threadline.workspace.models import Agent
from threadline.workspace.service import create_agent

TRAINEE = "tia.trainee@threadline.example"
TOPICS = {
    "public": [{"topic": "opening hours", "keywords": ["opening hours", "open on", "closing"]},
               {"topic": "delivery times", "keywords": ["delivery time", "shipping time"]},
               {"topic": "outage status", "keywords": ["outage", "down", "not working"]}],
    "private": [{"topic": "account", "keywords": ["password", "my account", "login"]},
                {"topic": "billing", "keywords": ["invoice", "refund", "charged", "factura"]},
                {"topic": "orders", "keywords": ["order number", "my order", "tracking"]}]}


def seed_approval(runtime: Runtime, workspace_id: uuid.UUID, wait_seconds: float = 90) -> None:
    with runtime.db.session() as session:
        set_approval_policy(session, workspace_id, ApprovalPolicy(in_training=True), SYSTEM)
        set_public_answers(session, workspace_id, PublicAnswersIn.model_validate(TOPICS),
                           SYSTEM)
        trainee = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                                     Agent.email == TRAINEE))
        if trainee is None:
            trainee, _ = create_agent(session, workspace_id, email=TRAINEE, role="agent",
                                      name="Tia Trainee")
        trainee.in_training = True
        trainee_id = trainee.id
        if session.scalar(select(ReplyApproval.id).where(
                ReplyApproval.workspace_id == workspace_id).limit(1)) is not None:
            return
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        with runtime.db.session() as session:
            conv_id = session.scalar(select(Conversation.id).where(
                Conversation.workspace_id == workspace_id,
                Conversation.origin_visibility == "public")
                .order_by(Conversation.created_at).limit(1))
            if conv_id is not None:
                post_reply(session, workspace_id, conv_id, Reply(
                    text="Hi! Thanks for reaching out, we are looking into it right now.",
                    visibility="public"), Actor("agent", str(trainee_id), agent_id=trainee_id))
                return
        time.sleep(1.0)
