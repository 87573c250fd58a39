"""The demo's knowledge base: published articles in two languages, seeded once, findable."""

from __future__ import annotations

import uuid

from threadline.demo.seed_knowledge import ARTICLES, seed_knowledge
from threadline.jobs.runtime import Runtime
from threadline.knowledge import service


def test_seed_is_published_in_two_languages_and_idempotent(runtime: Runtime,
                                                           workspace_id: uuid.UUID) -> None:
    assert seed_knowledge(runtime, workspace_id) == len(ARTICLES)
    assert seed_knowledge(runtime, workspace_id) == 0
    with runtime.db.session(write=False) as session:
        published = service.published_articles(session, workspace_id)
        assert len(published) == len(ARTICLES)
        assert {a.language for a in published} == {"en", "es"}
        assert all(a.questions for a in published)
        hits = service.search_articles(session, workspace_id, "refund", language="en")
        assert [h.article.title for h in hits][:1] == ["How refunds work"]
        es = service.search_articles(session, workspace_id, "pedido", language="es")
        assert [h.article.title for h in es] == ["¿Dónde está mi pedido?"]
