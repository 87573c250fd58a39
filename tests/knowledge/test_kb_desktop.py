"""The knowledge base on the desktop: who may edit, the editor's round trip (typed errors
re-render the form and store nothing), the live preview, revisions, and the composer's
article picker."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from tests.desktop.conftest import Desk
from tests.knowledge.helpers import make_article
from threadline.jobs.runtime import Runtime
from threadline.knowledge.models import Article

FORM = {"title": "Change your email", "slug": "", "category": "Account", "language": "en",
        "tags": "email, account", "questions": "how do I change my email\nnew email address",
        "body": "Open **Profile**."}


def _articles(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Article).where(
            Article.workspace_id == workspace_id)) or 0)


def test_agents_read_supervisors_edit(runtime: Runtime, workspace_id: uuid.UUID,
                                      agent_desk: Desk, supervisor_desk: Desk) -> None:
    article = make_article(runtime, workspace_id, body="Hello <script>alert(1)</script>")
    listing = agent_desk.get("/knowledge")
    assert listing.status_code == 200 and article.title in listing.text
    assert 'id="kb-new"' not in listing.text
    read = agent_desk.get(f"/knowledge/{article.id}")
    assert read.status_code == 200 and "&lt;script&gt;" in read.text
    assert "<script>alert(1)" not in read.text
    for path in ("/knowledge/new", f"/knowledge/{article.id}/edit"):
        assert agent_desk.get(path).status_code == 403
    for path in ("/knowledge/new", f"/knowledge/{article.id}/edit",
                 f"/knowledge/{article.id}/archive", f"/knowledge/{article.id}/publish",
                 "/knowledge/preview"):
        assert agent_desk.post(path, FORM).status_code == 403, path
    assert _articles(runtime, workspace_id) == 1
    assert supervisor_desk.get("/knowledge/new").status_code == 200
    assert 'id="kb-new"' in supervisor_desk.get("/knowledge").text
    # without the session's CSRF token nothing is changed
    assert supervisor_desk.post("/knowledge/new", FORM, csrf=False).status_code == 403
    assert _articles(runtime, workspace_id) == 1


def test_the_editor_round_trip(runtime: Runtime, workspace_id: uuid.UUID,
                               supervisor_desk: Desk) -> None:
    created = supervisor_desk.post("/knowledge/new", FORM)
    assert created.status_code == 303
    article_id = re.search(r"/knowledge/([0-9a-f-]{36})/edit", created.headers["location"])
    assert article_id
    edit = f"/knowledge/{article_id.group(1)}"
    page = supervisor_desk.get(edit + "/edit")
    assert 'value="change-your-email"' in page.text and "<strong>Profile</strong>" in page.text
    assert supervisor_desk.post(edit + "/edit", {**FORM, "body": "Open **Settings**."}
                                ).status_code == 303
    assert supervisor_desk.post(edit + "/publish").status_code == 303
    history = supervisor_desk.get(edit + "/revisions?n=1")
    assert history.status_code == 200
    assert len(re.findall(r'data-revision="\d+"', history.text)) == 2
    assert "Sam Supervisor" in history.text and "<strong>Profile</strong>" in history.text
    listing = supervisor_desk.get("/knowledge?status=published&language=en")
    assert "Change your email" in listing.text
    assert "Change your email" not in supervisor_desk.get("/knowledge?status=draft").text
    with runtime.db.session(write=False) as session:
        stored = session.get(Article, uuid.UUID(article_id.group(1)))
        assert stored is not None
        assert (stored.status, stored.revision, stored.tags, stored.questions) == (
            "published", 2, ["email", "account"],
            ["how do I change my email", "new email address"])


def test_bad_forms_name_the_field_keep_the_text_and_store_nothing(
        runtime: Runtime, workspace_id: uuid.UUID, supervisor_desk: Desk) -> None:
    for changes, code, field in (({"language": "klingon"}, "unknown_language", "language"),
                                 ({"body": "x" * 100_001}, "article_too_large", "body"),
                                 ({"title": ""}, "invalid_article", "title"),
                                 ({"slug": "No Spaces"}, "invalid_article", "slug")):
        answer = supervisor_desk.post("/knowledge/new", {**FORM, **changes})
        assert answer.status_code == 422, field
        assert f'data-code="{code}"' in answer.text and f'data-field="{field}"' in answer.text
        assert "Open **Profile**." in answer.text or field == "body"
    assert _articles(runtime, workspace_id) == 0
    unknown_filter = supervisor_desk.get("/knowledge?language=klingon")
    assert unknown_filter.status_code == 422 and 'data-code="unknown_language"' in \
        unknown_filter.text


def test_the_live_preview_is_sanitised(supervisor_desk: Desk) -> None:
    answer = supervisor_desk.post("/knowledge/preview", {
        "body": "**hi** <img src=x onerror=alert(1)> [x](javascript:alert(1))"}, htmx=True)
    assert answer.status_code == 200
    assert "<strong>hi</strong>" in answer.text
    assert "<img" not in answer.text and 'href="javascript' not in answer.text


def test_another_workspaces_article_is_404(runtime: Runtime, supervisor_desk: Desk) -> None:
    from threadline.workspace import service as workspace_service

    with runtime.db.session() as session:
        other = workspace_service.create_workspace(session, "Other",
                                                   f"o-{uuid.uuid4().hex[:12]}").id
    foreign = make_article(runtime, other, title="Not yours")
    for path in (f"/knowledge/{foreign.id}", f"/knowledge/{foreign.id}/edit",
                 f"/knowledge/{foreign.id}/revisions"):
        assert supervisor_desk.get(path).status_code == 404, path
    assert supervisor_desk.post(f"/knowledge/{foreign.id}/edit", FORM).status_code == 404
    assert supervisor_desk.post(f"/knowledge/{foreign.id}/archive").status_code == 404
    with runtime.db.session(write=False) as session:
        stored = session.get(Article, foreign.id)
        assert stored is not None and stored.status == "published" and stored.revision == 1
    assert "Not yours" not in supervisor_desk.get("/knowledge").text


def test_the_composer_picker_inserts_a_published_articles_link(
        runtime: Runtime, workspace_id: uuid.UUID, agent_desk: Desk) -> None:
    from tests.factories import api_account, message_event, post_events
    from threadline.jobs.worker import Worker

    article = make_article(runtime, workspace_id, title="Track a parcel",
                           body="Use the tracking page.")
    make_article(runtime, workspace_id, title="Parcel draft", publish=False)
    account = api_account(runtime, workspace_id)
    assert post_events(agent_desk.client, account, [message_event(
        "kb-pick-1", author="eve", text="where is my parcel")]).status_code == 200
    Worker(runtime, name="kb-picker").drain()
    conv = re.search(r'/conversations/([0-9a-f-]{36})', agent_desk.get("/inbox").text)
    assert conv
    page = agent_desk.get(f"/conversations/{conv.group(1)}")
    assert 'id="kb-picker"' in page.text and 'id="kb-suggestions"' in page.text
    picked = agent_desk.get(f"/conversations/{conv.group(1)}/articles?q=parcel")
    assert picked.status_code == 200
    inserts = re.findall(r'data-kb-insert="([^"]+)"', picked.text)
    assert inserts == [f"Track a parcel: http://testserver/help/{workspace_id}/en/articles/"
                       f"{article.slug}"]
    bad = agent_desk.get(f"/conversations/{conv.group(1)}/articles?q=%22open")
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    assert agent_desk.get(f"/conversations/{uuid.uuid4()}/articles?q=parcel").status_code == 404


def test_an_inserted_article_link_is_an_ordinary_reply_guard_included(
        runtime: Runtime, workspace_id: uuid.UUID, agent_desk: Desk) -> None:
    from tests.factories import api_account, message_event, post_events
    from threadline.conversations.models import Message
    from threadline.jobs.worker import Worker

    article = make_article(runtime, workspace_id, title="How refunds work")
    account = api_account(runtime, workspace_id)
    assert post_events(agent_desk.client, account, [message_event(
        "kb-guard-1", author="fay", text="refund?")]).status_code == 200
    Worker(runtime, name="kb-guard").drain()
    conv = re.search(r'/conversations/([0-9a-f-]{36})', agent_desk.get("/inbox").text)
    assert conv
    picked = agent_desk.get(f"/conversations/{conv.group(1)}/articles?q=refunds")
    [link] = re.findall(r'data-kb-insert="([^"]+)"', picked.text)
    blocked = agent_desk.post(f"/conversations/{conv.group(1)}/reply", {
        "text": f"{link} and your card 4111 1111 1111 1111", "visibility": "public",
        "account_id": str(account.id)}, htmx=True)
    assert blocked.status_code == 422 and "pii_public" in blocked.text
    sent = agent_desk.post(f"/conversations/{conv.group(1)}/reply", {
        "text": f"Here you go: {link}", "visibility": "public",
        "account_id": str(account.id)}, htmx=True)
    assert sent.status_code == 200 and 'data-delivery="pending"' in sent.text
    with runtime.db.session(write=False) as session:
        texts = list(session.scalars(select(Message.text).where(
            Message.conversation_id == uuid.UUID(conv.group(1)),
            Message.direction == "outbound")))
    assert texts == [f"Here you go: {link}"]
    assert link.endswith(f"/en/articles/{article.slug}")
