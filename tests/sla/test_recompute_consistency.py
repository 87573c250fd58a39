"""The bulk recomputation (one read, an inlined loop, a bulk write) gives every clock the same
policy and due times as the per-conversation hook would, with business hours, holidays and
warnings; a second recomputation writes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import api_account
from tests.sla.helpers import calendar, customer_writes, policy
from threadline.conversations.models import Conversation
from threadline.db.base import utcnow
from threadline.sla.models import SlaClock
from threadline.sla.tracking import recompute_workspace, sync_conversation

ALWAYS_BUT_SUNDAY = {d: [["08:00", "13:00"], ["14:30", "20:00"]]
                     for d in ("mon", "tue", "wed", "thu", "fri", "sat")}


def _clocks(session, workspace_id):
    return {c.conversation_id: c for c in session.scalars(
        select(SlaClock).where(SlaClock.workspace_id == workspace_id))}


def test_bulk_and_per_conversation_agree(runtime, workspace_id, client, worker):
    today = utcnow().date()
    calendar(client, name="office", time_zone="Europe/Madrid", hours=ALWAYS_BUT_SUNDAY,
             holidays=[(today + timedelta(days=1)).isoformat()], is_default=True)
    urgent = policy(client, name="urgent", visibilities=["public"], first_response_minutes=45,
                    resolution_minutes=600, warn_percent=75)
    policy(client, name="rest", first_response_minutes=300, next_response_minutes=120,
           resolution_minutes=2000, warn_minutes=20)
    account = api_account(runtime, workspace_id)
    for index in range(12):
        customer_writes(client, worker, account, f"rc-{index}",
                        at=utcnow() - timedelta(minutes=37 * index), author=f"cust-{index}",
                        visibility="public" if index % 2 else "private")
    client.put(f"/api/v1/sla/policies/{urgent}", json={
        "name": "urgent", "visibilities": ["public"], "first_response_minutes": 25,
        "resolution_minutes": 500, "warn_minutes": 5})
    worker.drain()  # the recomputation job
    with runtime.db.session(write=False) as session:
        bulk = {k: (c.policy_id, c.response_due_at, c.response_warn_at, c.resolution_due_at,
                    c.resolution_warn_at, c.next_check_at)
                for k, c in _clocks(session, workspace_id).items()}
        dues = dict(session.execute(select(Conversation.id, Conversation.sla_due_at).where(
            Conversation.workspace_id == workspace_id)).all())
    assert len(bulk) == 12 and all(v[1] is not None for v in bulk.values())
    with runtime.db.session() as session:  # what the hook would write, then rolled back
        for conv in session.scalars(select(Conversation).where(
                Conversation.workspace_id == workspace_id)):
            clock = sync_conversation(session, conv)
            hook = (clock.policy_id, clock.response_due_at, clock.response_warn_at,
                    clock.resolution_due_at, clock.resolution_warn_at, clock.next_check_at)
            for mine, theirs in zip(hook, bulk[conv.id], strict=True):
                if hasattr(mine, "timestamp"):
                    # the hook moved `since` to now: the same due time, to the millisecond
                    assert abs((mine - theirs).total_seconds()) < 0.001, (conv.id, hook)
                else:
                    assert mine == theirs
            assert abs((conv.sla_due_at - dues[conv.id]).total_seconds()) < 0.001
        session.rollback()
    with runtime.db.session() as session:
        assert recompute_workspace(session, workspace_id)["changed"] == 0
