"""Learning loop against the real database: agents label conversations through the REST API,
`train_workspace` / `threadline train` fits and stores a model, `active_model` loads it and it
changes `analyze()` on a text it never saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import api_account, message_event, post_events
from threadline.conversations import service as conversations
from threadline.conversations.models import Conversation, Message
from threadline.events.models import AuditEvent
from threadline.inbound.learning import (
    NotEnoughExamples,
    active_model,
    labelled_examples,
    train_workspace,
)
from threadline.triage import analyze
from threadline.workspace.models import TriageModelRecord, Workspace

CITIES = ["Oslo", "Lima", "Rome", "Kyiv", "Pune", "Cork", "Bern", "Nice", "Riga", "Baku"]
# This workspace's agents file remarks about the lounge playlist under feedback (positive),
# gate questions under question (neutral) and lost bags under complaint (negative).
KINDS = [
    ("just landed in {c}, the lounge playlist was {n} songs of jazz", "feedback", "positive"),
    ("which gate does the {c} connection leave from, flight {n}?", "question", "neutral"),
    ("my bag from {c} is lost again, {n} days and nothing, awful", "complaint", "negative"),
]
HELD_OUT = "just landed in Doha, the lounge playlist was 12 songs of jazz"


def _deliver(client, worker, runtime, workspace_id) -> dict[str, tuple[str, str]]:
    """One conversation per post (distinct authors); returns conversation id -> labels."""
    account = api_account(runtime, workspace_id)
    events, wanted = [], {}
    for i, city in enumerate(CITIES):
        for k, (template, category, sentiment) in enumerate(KINDS):
            pid = f"p-{i}-{k}"
            events.append(message_event(pid, author=f"cust-{i}-{k}",
                                        text=template.format(c=city, n=i + 3), minutes=i))
            wanted[pid] = (category, sentiment)
    assert post_events(client, account, events).status_code == 200
    worker.drain()
    with runtime.db.session(write=False) as session:
        rows = session.execute(select(Message.provider_id, Message.conversation_id)
                               .where(Message.workspace_id == workspace_id)).all()
    return {str(conv): wanted[pid] for pid, conv in rows}


def _label_all(client, labels: dict[str, tuple[str, str]]) -> None:
    for conv_id, (category, sentiment) in labels.items():
        r = client.patch(f"/api/v1/conversations/{conv_id}",
                         json={"category": category, "sentiment": sentiment})
        assert r.status_code == 200, r.text
        assert r.json()["category"] == category


@pytest.fixture
def labelled(client, worker, runtime, workspace_id) -> dict[str, tuple[str, str]]:
    labels = _deliver(client, worker, runtime, workspace_id)
    assert len(labels) == len(CITIES) * len(KINDS)
    _label_all(client, labels)
    return labels


def test_trained_model_is_stored_and_changes_analyze_on_held_out_text(
        runtime, workspace_id, labelled) -> None:
    before = analyze(HELD_OUT)
    assert before.category != "feedback"
    with runtime.db.session(write=False) as session:
        assert active_model(session, workspace_id) is None
        examples = labelled_examples(session, workspace_id)
    assert len(examples) == len(labelled)
    assert {(e.category, e.sentiment) for e in examples} == {(c, s) for _, c, s in KINDS}
    with runtime.db.session() as session:
        report = train_workspace(session, workspace_id, actor_type="agent", actor_id="a-1")
    assert report["examples"] == 30 and report["n_test"] == 6 and report["n_train"] == 24
    assert report["category_accuracy"]["after"] >= report["category_accuracy"]["before"]
    assert report["category_accuracy"]["after"] == 1.0
    with runtime.db.session(write=False) as session:
        model = active_model(session, workspace_id)
        records = session.scalars(select(TriageModelRecord).where(
            TriageModelRecord.workspace_id == workspace_id)).all()
        audited = session.scalars(select(AuditEvent).where(
            AuditEvent.workspace_id == workspace_id,
            AuditEvent.action == "triage_model.trained")).all()
    assert model is not None
    assert len(records) == 1 and records[0].active and records[0].report["examples"] == 30
    assert [a.subject_id for a in audited] == [str(records[0].id)]
    after = analyze(HELD_OUT, model=model)
    assert (after.category, after.sentiment) == ("feedback", "positive")


def test_retraining_deactivates_the_previous_model(runtime, workspace_id, labelled) -> None:
    with runtime.db.session() as session:
        first = train_workspace(session, workspace_id)
    with runtime.db.session() as session:
        second = train_workspace(session, workspace_id)
    with runtime.db.session(write=False) as session:
        rows = {str(r.id): r.active for r in session.scalars(select(TriageModelRecord).where(
            TriageModelRecord.workspace_id == workspace_id))}
    assert rows == {first["model_id"]: False, second["model_id"]: True}


def test_only_labels_set_by_people_count_and_the_last_one_wins(
        client, worker, runtime, workspace_id) -> None:
    labels = _deliver(client, worker, runtime, workspace_id)
    ids = sorted(labels)
    first, second = ids[0], ids[1]
    assert client.patch(f"/api/v1/conversations/{first}",
                        json={"category": "praise"}).status_code == 200
    assert client.patch(f"/api/v1/conversations/{first}",
                        json={"category": "technical", "sentiment": "negative"}).status_code == 200
    assert client.patch(f"/api/v1/conversations/{first}",
                        json={"priority": 2}).status_code == 200
    with runtime.db.session() as session:
        conv = session.get(Conversation, uuid.UUID(second))
        assert conv is not None
        conversations.set_triage_fields(session, conv, {"category": "complaint"},
                                        conversations.SYSTEM)
    with runtime.db.session(write=False) as session:
        examples = labelled_examples(session, workspace_id)
    assert [(str(e.conversation_id), e.category, e.sentiment) for e in examples] == [
        (first, "technical", "negative")]
    assert "lounge" in examples[0].text or "gate" in examples[0].text or "bag" in examples[0].text


def test_too_few_labels_store_nothing(client, worker, runtime, workspace_id) -> None:
    labels = _deliver(client, worker, runtime, workspace_id)
    _label_all(client, dict(list(labels.items())[:4]))
    with runtime.db.session() as session, pytest.raises(NotEnoughExamples) as err:
        train_workspace(session, workspace_id)
    assert err.value.found == 4
    with runtime.db.session(write=False) as session:
        assert session.scalars(select(TriageModelRecord).where(
            TriageModelRecord.workspace_id == workspace_id)).all() == []


def test_cli_train_prints_before_and_after(runtime, settings, workspace_id, labelled,
                                           tmp_path: Path) -> None:
    with runtime.db.session(write=False) as session:
        slug = session.scalar(select(Workspace.slug).where(Workspace.id == workspace_id))
    env = {**os.environ, "THREADLINE_DATABASE_URL": settings.database_url,
           "THREADLINE_DATA_DIR": str(tmp_path),
           "THREADLINE_SECRET_KEY": "test-secret-key-not-for-production"}
    env.pop("THREADLINE_REDIS_URL", None)
    proc = subprocess.run([sys.executable, "-m", "threadline.cli", "train", "--workspace", slug],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert out["examples"] == 30
    assert set(out["category_accuracy"]) == {"before", "after"}
    assert set(out["sentiment_accuracy"]) == {"before", "after"}
    with runtime.db.session(write=False) as session:
        model = active_model(session, workspace_id)
    assert model is not None
    assert analyze(HELD_OUT, model=model).category == "feedback"
