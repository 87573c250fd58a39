"""Conversation event jobs claimed together run in one transaction that also marks them done
(one commit for the group); a group that fails runs each job alone, so one bad job is
dead-lettered and the others are done."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from threadline.events.models import OutboxJob
from threadline.events.service import CONVERSATION_EVENT_JOB, enqueue
from threadline.jobs import hooks as hooks_module
from threadline.jobs.hooks import ConversationEvents


def _jobs(runtime, workspace_id, payloads):
    with runtime.db.session() as session:
        ids = [enqueue(session, CONVERSATION_EVENT_JOB, payload, workspace_id=workspace_id)
               for payload in payloads]
        session.flush()
        return [job.id for job in ids]


def _states(runtime, ids):
    with runtime.db.session(write=False) as session:
        return dict(session.execute(select(OutboxJob.id, OutboxJob.status).where(
            OutboxJob.id.in_(ids))).all())


def _recording_hook(monkeypatch, seen, fail_on=None):
    def hook(_runtime, _session, batch: ConversationEvents) -> None:
        if fail_on is not None and batch.conversation_id == fail_on:
            raise RuntimeError("a hook's bug")
        seen.append(batch.conversation_id)

    monkeypatch.setattr(hooks_module, "_hooks", {"recorder": (1, hook)})
    monkeypatch.setattr(hooks_module, "_many_hooks", {})


def _commits(runtime):
    counted = []
    event.listen(runtime.db.engine, "commit", lambda _conn: counted.append(1))
    return counted


def test_a_group_runs_in_order_in_one_commit(runtime, workspace_id, worker, monkeypatch):
    convs = [uuid.uuid4() for _ in range(5)]
    ids = _jobs(runtime, workspace_id, [{"conversation_id": str(c), "events": [
        {"event": "message.received"}]} for c in convs])
    seen: list[uuid.UUID] = []
    _recording_hook(monkeypatch, seen)
    commits = _commits(runtime)
    assert worker.process_jobs() == 5
    assert len(commits) == 2  # the claim, then the group with its "done" marks
    assert seen == convs  # each job's hooks, in the order the jobs were enqueued
    assert set(_states(runtime, ids).values()) == {"done"}


def test_a_failing_group_runs_each_job_alone(runtime, workspace_id, worker, monkeypatch):
    convs = [uuid.uuid4() for _ in range(3)]
    payloads = [{"conversation_id": str(c), "events": []} for c in convs]
    payloads.insert(1, {"events": []})  # malformed: no conversation
    ids = _jobs(runtime, workspace_id, payloads)
    seen: list[uuid.UUID] = []
    _recording_hook(monkeypatch, seen, fail_on=convs[2])
    assert worker.process_jobs() == 4
    states = _states(runtime, ids)
    assert states[ids[0]] == "done" and states[ids[2]] == "done"
    assert states[ids[1]] == "dead"  # malformed: dead-lettered at once
    assert states[ids[3]] == "pending"  # the hook's bug: retried later, as a job alone
    assert seen == [convs[0], convs[1]]  # the group's first run was rolled back


def test_jobs_of_two_workspaces_are_not_grouped(runtime, workspace_id, worker, monkeypatch):
    from threadline.workspace.service import create_workspace

    with runtime.db.session() as session:
        other = create_workspace(session, "Other", f"other-{uuid.uuid4().hex[:6]}").id
    first = _jobs(runtime, workspace_id, [{"conversation_id": str(uuid.uuid4())}])
    second = _jobs(runtime, other, [{"conversation_id": str(uuid.uuid4())}])
    seen: list[uuid.UUID] = []
    _recording_hook(monkeypatch, seen)
    commits = _commits(runtime)
    assert worker.process_jobs() == 2
    assert len(commits) == 3  # the claim, then one transaction per workspace
    assert len(seen) == 2
    assert set(_states(runtime, first + second).values()) == {"done"}


def test_a_many_conversations_hook_must_come_last(monkeypatch):
    def per_conversation(_runtime, _session, _batch):
        return None

    def many(_runtime, _session, _batches):
        return None

    monkeypatch.setattr(hooks_module, "_hooks", {"late": (50, per_conversation)})
    monkeypatch.setattr(hooks_module, "_many_hooks", {"early": (10, many)})
    with pytest.raises(RuntimeError, match="stage 10 comes before"):
        hooks_module.many_hooks()
    monkeypatch.setattr(hooks_module, "_many_hooks", {"last": (90, many)})
    assert hooks_module.many_hooks() == [many]


def test_search_indexes_every_conversation_of_a_group(runtime, workspace_id, client, worker):
    """The search hook takes the group's conversations at once: each customer's post is
    found by its words right after the worker ran the group."""
    from tests.factories import api_account, message_event, post_events

    account = api_account(runtime, workspace_id)
    events = [message_event(f"grp-{i}", text=f"parcel zebra{i} missing", author=f"grp-a{i}",
                            visibility="public") for i in range(6)]
    assert post_events(client, account, events).status_code == 200
    worker.drain()
    for i in range(6):
        found = client.get("/api/v1/search", params={"q": f"zebra{i}"}).json()
        assert any(f"zebra{i}" in str(hit) for hit in found["items"]), found
