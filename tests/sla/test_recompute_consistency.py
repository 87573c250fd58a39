"""The bulk recomputation (one read, an inlined loop, a bulk write) gives every clock the same
policy and due times as the per-conversation hook would, with business hours, holidays and
warnings; a second recomputation writes nothing. A workspace's first policy starts the clocks
of its open conversations in bulk, as the hook would start each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from tests.factories import api_account
from tests.sla.helpers import calendar, conversation_of, customer_writes, policy
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


def test_a_first_policy_starts_every_open_conversation_as_the_hook_would(
        runtime, workspace_id, client, worker, sandbox):
    """Conversations that existed before any policy (waiting, answered, answered then
    written to again, with a note only, pending, snoozed, resolved, resolved then reopened)
    get their clocks in bulk from the first policy, exactly as `sync_conversation` starts
    them one at a time."""
    account = api_account(runtime, workspace_id, outbound_url=f"{sandbox.url}/api/outbound")
    start = utcnow() - timedelta(hours=30)

    def conv(pid):
        return conversation_of(runtime, workspace_id, pid)

    def reply(pid, kind="reply"):
        body = {"text": "Looking into it.", "visibility": "private"}
        if kind == "note":
            body = {"text": "internal", "kind": "note"}
        response = client.post(f"/api/v1/conversations/{conv(pid).id}/messages", json=body)
        assert response.status_code == 201, response.text
        worker.drain()

    def status(pid, value, **extra):
        response = client.patch(f"/api/v1/conversations/{conv(pid).id}",
                                json={"status": value, **extra})
        assert response.status_code == 200, response.text
        worker.drain()

    for index in range(8):
        customer_writes(client, worker, account, f"fp-{index}",
                        at=start + timedelta(minutes=41 * index), author=f"fp-cust-{index}",
                        visibility="private")
    reply("fp-1")  # answered: nothing owed
    reply("fp-2")
    customer_writes(client, worker, account, "fp-2b",  # after the answer
                    in_reply_to="fp-2", author="fp-cust-2", visibility="private")
    reply("fp-3", kind="note")  # a note is not an answer
    status("fp-4", "pending")
    status("fp-5", "snoozed", snooze_until=(utcnow() + timedelta(hours=3)).isoformat())
    status("fp-6", "resolved")
    status("fp-7", "resolved")
    customer_writes(client, worker, account, "fp-7b",  # after the resolution
                    in_reply_to="fp-7", author="fp-cust-7", visibility="private")
    with runtime.db.session(write=False) as session:
        assert not _clocks(session, workspace_id)  # no policy yet: no clocks

    policy(client, name="everything", first_response_minutes=90, next_response_minutes=45,
           resolution_minutes=1440, warn_percent=80)
    worker.drain()  # the recomputation job creates the clocks in bulk
    fields = ("policy_id", "response_kind", "response_cycle", "response_started_at",
              "response_used", "response_since", "response_due_at", "response_warn_at",
              "resolution_used", "resolution_since", "resolution_due_at",
              "resolution_warn_at", "paused", "next_check_at")
    with runtime.db.session(write=False) as session:
        bulk = {k: {f: getattr(c, f) for f in fields}
                for k, c in _clocks(session, workspace_id).items()}
        dues = dict(session.execute(select(Conversation.id, Conversation.sla_due_at).where(
            Conversation.workspace_id == workspace_id)).all())
    ids = {pid: conv(pid).id for pid in ("fp-0", "fp-1", "fp-2", "fp-3", "fp-4", "fp-5",
                                         "fp-6", "fp-7")}
    assert set(bulk) == set(ids.values()) - {ids["fp-6"]}  # resolved: no clock
    assert bulk[ids["fp-0"]]["response_kind"] == "first"
    assert bulk[ids["fp-1"]]["response_kind"] is None
    assert bulk[ids["fp-2"]]["response_kind"] == "next"
    assert bulk[ids["fp-3"]]["response_kind"] == "first"  # the note did not answer
    assert bulk[ids["fp-7"]]["response_kind"] == "first"  # reopened, never answered
    assert bulk[ids["fp-4"]]["paused"] == "waiting_on_customer"
    assert bulk[ids["fp-5"]]["paused"] == "snoozed"
    with runtime.db.session() as session:  # the hook's own start, then rolled back
        session.execute(delete(SlaClock).where(SlaClock.workspace_id == workspace_id))
        for conversation_id, mine in bulk.items():
            clock = sync_conversation(session, session.get(Conversation, conversation_id))
            hook = {f: getattr(clock, f) for f in fields}
            for field, value in hook.items():
                if hasattr(value, "timestamp") and field.endswith(("due_at", "warn_at",
                                                                   "check_at", "since")):
                    # the hook ran a moment later: a running clock's `since` may be now
                    assert abs((value - mine[field]).total_seconds()) < 5, (field, hook)
                elif isinstance(value, float):
                    assert abs(value - mine[field]) < 5, (field, hook)
                else:
                    assert value == mine[field], (field, hook, mine)
            conv_row = session.get(Conversation, conversation_id)
            if conv_row.sla_due_at is None:
                assert dues[conversation_id] is None
            else:
                assert abs((conv_row.sla_due_at - dues[conversation_id]).total_seconds()) < 5
        session.rollback()
