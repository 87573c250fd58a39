"""Answer suggestions: for a customer's question, the published articles that answer it and
what agents replied to the same question in resolved conversations (with where), through
the search index, in a fixed number of statements; and the desktop card that inserts them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.desktop.conftest import Desk
from tests.factories import api_account, message_event, post_events
from tests.knowledge.helpers import make_article
from tests.querycount import count_queries
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor, set_status
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.knowledge import suggestions
from threadline.outbound.replies import Reply, post_reply

ANSWER = "Refunds for a damaged blender reach your card within 5 business days."


def _ask(client: TestClient, account: Any, worker: Worker, author: str, text: str,
         runtime: Runtime, workspace_id: uuid.UUID) -> uuid.UUID:
    pid = f"m-{uuid.uuid4().hex[:10]}"
    assert post_events(client, account, [message_event(
        pid, author=author, text=text, visibility="private",
        thread_key=f"dm-{author}")]).status_code == 200
    worker.drain()
    from sqlalchemy import select

    from threadline.conversations.models import Message
    with runtime.db.session(write=False) as session:
        conv_id = session.scalar(select(Message.conversation_id).where(
            Message.workspace_id == workspace_id, Message.provider_id == pid))
    assert conv_id is not None
    return conv_id


def _answered_and_resolved(runtime: Runtime, workspace_id: uuid.UUID, conv_id: uuid.UUID,
                           agent_id: uuid.UUID, worker: Worker) -> uuid.UUID:
    actor = Actor("agent", str(agent_id), agent_id=agent_id)
    with runtime.db.session() as session:
        reply = post_reply(session, workspace_id, conv_id, Reply(text=ANSWER,
                                                                  visibility="private"), actor)
        conv = session.get(Conversation, conv_id)
        assert conv is not None
        set_status(session, conv, "resolved", actor)
        reply_id = reply.id
    worker.drain()
    return reply_id


def test_articles_and_past_answers_for_the_customers_question(
        runtime: Runtime, workspace_id: uuid.UUID, client: TestClient, worker: Worker,
        supervisor_desk: Desk) -> None:
    account = api_account(runtime, workspace_id)
    article = make_article(runtime, workspace_id, title="Refunds for damaged items",
                           body="If your blender arrived damaged, ask for a refund.",
                           category="Returns")
    make_article(runtime, workspace_id, title="Opening hours", body="We open at nine.")
    make_article(runtime, workspace_id, title="Blender refund draft", publish=False)
    old = _ask(client, account, worker, "ann", "My refund for the damaged blender has not "
               "arrived", runtime, workspace_id)
    reply_id = _answered_and_resolved(runtime, workspace_id, old, supervisor_desk.agent.id,
                                      worker)
    still_open = _ask(client, account, worker, "bob", "blender refund still missing?",
                      runtime, workspace_id)
    current = _ask(client, account, worker, "cat", "Hello! Where is my refund for the "
                   "broken blender? Order 123456, cat@example.com", runtime, workspace_id)

    with runtime.db.session(write=False) as session, count_queries(runtime) as queries:
        found = suggestions.suggest(session, workspace_id, current,
                                    base_url="https://help.example")
    assert "123456" not in found.query and "example" not in found.query
    assert {"refund", "blender"} <= set(found.query.split())
    assert [a.article_id for a in found.articles] == [article.id]
    assert found.articles[0].insert_text.endswith(f"/en/articles/{article.slug}")
    assert found.articles[0].insert_text.startswith(
        f"Refunds for damaged items: https://help.example/help/{workspace_id}/")
    assert [(a.message_id, a.conversation_id, a.text) for a in found.answers] == [
        (reply_id, old, ANSWER)]
    assert still_open not in {a.conversation_id for a in found.answers}
    # the conversation, its latest messages, one search per kind and one read of the rows
    # each found: six statements whatever the size of the workspace
    print(f"suggestions: {queries.count} statements")
    assert queries.count == 6, str(queries)

    card = supervisor_desk.get(f"/conversations/{current}/suggestions")
    assert card.status_code == 200
    assert 'data-role="insert-article"' in card.text and 'data-role="insert-answer"' in card.text
    assert f'href="/conversations/{old}"' in card.text


def test_nothing_to_suggest_without_a_question(runtime: Runtime, workspace_id: uuid.UUID,
                                               client: TestClient, worker: Worker) -> None:
    account = api_account(runtime, workspace_id)
    make_article(runtime, workspace_id)
    conv = _ask(client, account, worker, "dan", "hi!! :) 12345", runtime, workspace_id)
    with runtime.db.session(write=False) as session:
        found = suggestions.suggest(session, workspace_id, conv, base_url="http://x")
    assert (found.query, found.articles, found.answers) == ("", [], [])


def test_keywords_drop_noise_and_personal_details() -> None:
    words = suggestions.keywords([
        "Hi @acme, my order #A1234 to jane@example.com https://x.co/abc was damaged!!",
        "The parcel was damaged again"])
    assert words[:3] == ["order", "damaged", "parcel"]
    assert not any(w in words for w in ("acme", "jane", "example", "a1234", "https", "hi"))


def test_another_workspaces_conversation_is_not_found(runtime: Runtime,
                                                      workspace_id: uuid.UUID,
                                                      supervisor_desk: Desk) -> None:
    answer = supervisor_desk.get(f"/conversations/{uuid.uuid4()}/suggestions")
    assert answer.status_code == 404
