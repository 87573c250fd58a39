"""The knowledge-base service: drafts, revisions, publish and archive (with the search index),
slugs, workspaces kept apart, typed errors for bad input with nothing stored."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.knowledge.helpers import make_article
from threadline.conversations.service import SYSTEM, Actor
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.knowledge import service
from threadline.knowledge.models import Article, ArticleRevision
from threadline.knowledge.schemas import MAX_BODY, slugify
from threadline.search.models import SearchDocument
from threadline.workspace import service as workspace_service


def _other_workspace(runtime: Runtime) -> uuid.UUID:
    with runtime.db.session() as session:
        return workspace_service.create_workspace(session, "Other",
                                                  f"o-{uuid.uuid4().hex[:12]}").id


def _count(runtime: Runtime, model: type, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(
            model.workspace_id == workspace_id)) or 0)  # type: ignore[attr-defined]


def test_a_draft_then_revisions_then_publish_and_archive(runtime: Runtime,
                                                         workspace_id: uuid.UUID) -> None:
    actor = Actor("token", "t-1")
    with runtime.db.session() as session:
        draft = service.save_article(session, workspace_id, service.parse_article({
            "title": "Where is my order?", "body": "Track it from *Orders*.",
            "category": "Shipping", "language": "en", "tags": ["Orders", "orders"],
            "questions": ["where is my parcel", "where is my parcel"]}), actor)
        assert (draft.status, draft.revision, draft.slug) == ("draft", 1, "where-is-my-order")
        assert draft.tags == ["orders"] and draft.questions == ["where is my parcel"]
        article_id = draft.id
    # a draft is neither public nor searchable
    with runtime.db.session(write=False) as session:
        assert service.published_articles(session, workspace_id) == []
        assert session.scalar(select(SearchDocument).where(
            SearchDocument.ref_id == article_id)) is None
    with runtime.db.session() as session:
        service.save_article(session, workspace_id, service.parse_article({
            "title": "Where is my order?", "body": "Track it from **Orders** in your account.",
            "category": "Shipping", "language": "en"}), actor, article_id=article_id)
        published = service.publish_article(session, workspace_id, article_id, actor)
        assert published.status == "published" and published.published_at is not None
        assert published.revision == 2 and published.slug == "where-is-my-order"
    with runtime.db.session(write=False) as session:
        revisions = service.revisions(session, workspace_id, article_id)
        assert [(r.number, r.author_type, r.author_id) for r in revisions] == [
            (2, "token", "t-1"), (1, "token", "t-1")]
        assert "**Orders**" in revisions[0].body and "*Orders*" in revisions[1].body
        assert [a.id for a in service.published_articles(session, workspace_id, "en")] == [
            article_id]
        assert service.published_articles(session, workspace_id, "es") == []
        hits = service.search_articles(session, workspace_id, "order", language="en")
        assert [h.article.id for h in hits] == [article_id]
        assert "<mark>" in hits[0].snippet_html
    with runtime.db.session() as session:
        service.archive_article(session, workspace_id, article_id, SYSTEM)
    with runtime.db.session(write=False) as session:
        assert service.published_articles(session, workspace_id) == []
        assert service.search_articles(session, workspace_id, "order") == []
        assert session.scalar(select(SearchDocument).where(
            SearchDocument.ref_id == article_id)) is None


def test_a_published_article_saved_again_is_indexed_with_its_new_text(
        runtime: Runtime, workspace_id: uuid.UUID) -> None:
    article = make_article(runtime, workspace_id, body="Use the blue button.")
    with runtime.db.session() as session:
        service.save_article(session, workspace_id, service.parse_article({
            "title": article.title, "body": "Use the turquoise lever.", "category": "Account"}),
            SYSTEM, article_id=article.id)
    with runtime.db.session(write=False) as session:
        assert [h.article.id for h in service.search_articles(
            session, workspace_id, "turquoise")] == [article.id]
        assert service.search_articles(session, workspace_id, "blue") == []
        assert service.get_article(session, workspace_id, article.id).status == "published"


def test_slugs_are_unique_per_workspace_and_language(runtime: Runtime,
                                                     workspace_id: uuid.UUID) -> None:
    first = make_article(runtime, workspace_id, title="Refunds")
    second = make_article(runtime, workspace_id, title="Refunds!")
    spanish = make_article(runtime, workspace_id, title="Refunds", language="es")
    assert (first.slug, second.slug, spanish.slug) == ("refunds", "refunds-2", "refunds")
    other = make_article(runtime, _other_workspace(runtime), title="Refunds")
    assert other.slug == "refunds"
    with runtime.db.session() as session, pytest.raises(Conflict) as caught:
        service.save_article(session, workspace_id, service.parse_article(
            {"title": "Anything", "slug": "refunds"}), SYSTEM)
    assert caught.value.code == "slug_taken" and caught.value.details["field"] == "slug"
    assert slugify("¿Cómo cambio mi dirección?") == "como-cambio-mi-direccion"
    assert slugify("日本語") == "article"


def test_another_workspaces_article_is_not_found(runtime: Runtime,
                                                 workspace_id: uuid.UUID) -> None:
    mine = make_article(runtime, workspace_id)
    other = _other_workspace(runtime)
    with runtime.db.session() as session:
        for call in (lambda: service.get_article(session, other, mine.id),
                     lambda: service.publish_article(session, other, mine.id, SYSTEM),
                     lambda: service.archive_article(session, other, mine.id, SYSTEM),
                     lambda: service.save_article(session, other, service.parse_article(
                         {"title": "Hijack"}), SYSTEM, article_id=mine.id),
                     lambda: service.revisions(session, other, mine.id)):
            with pytest.raises(NotFound):
                call()
        assert service.search_articles(session, other, "password") == []
    with runtime.db.session(write=False) as session:
        assert service.get_article(session, workspace_id, mine.id).title == mine.title


@pytest.mark.parametrize(("raw", "code", "field"), [
    ({"title": "Hola", "language": "klingon"}, "unknown_language", "language"),
    ({"title": "Hola", "language": "xx"}, "unknown_language", "language"),
    ({"title": "Hola", "body": "a" * (MAX_BODY + 1)}, "article_too_large", "body"),
    ({"title": ""}, "invalid_article", "title"),
    ({"title": "x" * 201}, "invalid_article", "title"),
    ({"title": "Ok", "slug": "Not A Slug"}, "invalid_article", "slug"),
    ({"title": "Ok", "tags": ["t"] * 21}, "invalid_article", "tags"),
    ({"title": "Ok", "category": "<script>"}, "invalid_article", "category"),
    ({"title": "Ok", "body": "nul\x00byte"}, "invalid_article", "body"),
    ({"title": "Ok", "surprise": 1}, "invalid_article", "surprise"),
])
def test_bad_input_is_a_typed_422_naming_the_field_and_stores_nothing(
        runtime: Runtime, workspace_id: uuid.UUID, raw: dict[str, object], code: str,
        field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.parse_article(raw)
    assert caught.value.status == 422
    assert (caught.value.code, caught.value.details["field"]) == (code, field)
    assert field in caught.value.message
    assert _count(runtime, Article, workspace_id) == 0
    assert _count(runtime, ArticleRevision, workspace_id) == 0


def test_language_tags_are_normalised(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    assert service.parse_article({"title": "x", "language": "PT-br"}).language == "pt-BR"
    assert service.parse_article({"title": "x", "language": "ES"}).language == "es"


def test_votes_are_one_per_browser_and_may_change(runtime: Runtime,
                                                  workspace_id: uuid.UUID) -> None:
    article = make_article(runtime, workspace_id)
    alice, bob = service.voter_key("a" * 43), service.voter_key("b" * 43)
    with runtime.db.session() as session:
        for voter, helpful in ((alice, True), (alice, True), (bob, True), (alice, False)):
            service.vote(session, workspace_id, article.id, voter, helpful)
    with runtime.db.session(write=False) as session:
        stored = service.get_article(session, workspace_id, article.id)
        assert (stored.helpful_yes, stored.helpful_no) == (1, 1)
    draft = make_article(runtime, workspace_id, title="Draft", publish=False)
    with runtime.db.session() as session, pytest.raises(NotFound):
        service.vote(session, workspace_id, draft.id, alice, True)
