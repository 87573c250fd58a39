"""The KPIS hook's cost per message does not grow with the conversation: the statements it
runs for one more message are the same for a conversation of 3 messages and of 80 (a few
indexed reads and writes; no rescan)."""

from __future__ import annotations

from datetime import timedelta

from tests.kpis.story import Story
from tests.querycount import count_queries
from threadline.db.base import utcnow
from threadline.events.service import ConversationEvent

MIN = timedelta(minutes=1)


def _one_more(runtime, workspace_id, length: int) -> tuple[int, str]:
    t0 = utcnow().replace(microsecond=0) - timedelta(days=2)
    story = Story.begin(runtime, workspace_id, t0)
    for i in range(1, length):
        if i % 2:
            story.agent(t0 + i * MIN, "x", "public")
        else:
            story.customer(t0 + i * MIN, "x", "public")
    message = story.customer(t0 + length * MIN, "x", "private", run=False)
    with count_queries(runtime) as queries:
        story.run(ConversationEvent.MESSAGE_RECEIVED, message_id=message)
    stored, rebuilt = story.incremental_and_recomputed()
    assert stored == rebuilt
    return queries.count, str(queries)


def test_one_more_message_costs_the_same_whatever_the_length(runtime, workspace_id):
    small, _ = _one_more(runtime, workspace_id, 3)
    large, statements = _one_more(runtime, workspace_id, 80)
    assert small == large, statements
    # conversation, facts, messages since the cursor, status changes, current episode and
    # segment, a channel seen before?, SLA outcomes, hops; then the new segment, the facts
    # and the episode written
    assert large == 12, statements
