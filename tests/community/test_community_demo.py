"""The demo's forum: an old unanswered topic is escalated, a solved one is resolved with its
accepted answer, a fresh one stays with the community (through the real webhook path)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.community.test_community_e2e import topic_conversation
from tests.e2e.conftest import E2E
from threadline.demo.seed_community import TOPICS, seed_community
from threadline.jobs.runtime import Runtime


def test_demo_forum(e2e: E2E, runtime: Runtime, workspace_id: uuid.UUID) -> None:
    seed_community(runtime, workspace_id, e2e.sandbox.url)
    unanswered, solved, fresh = TOPICS
    escalated = topic_conversation(e2e, unanswered, "open", "community:escalated")
    assert escalated["subject"] == "X200 dock: second screen stays black"
    done: dict[str, Any] = topic_conversation(e2e, solved, "resolved", "community:solved")
    assert any(m["meta"].get("accepted_solution") for m in done["messages"])
    topic_conversation(e2e, fresh, "snoozed")
    seed_community(runtime, workspace_id, e2e.sandbox.url)  # a second run adds nothing
    assert len([c for c in e2e.conversations() if "community" in c["labels"]]) == 3
