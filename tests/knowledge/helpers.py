"""Articles for the knowledge tests, saved and published through the service."""

from __future__ import annotations

import uuid
from typing import Any

from threadline.conversations.service import SYSTEM
from threadline.jobs.runtime import Runtime
from threadline.knowledge import service
from threadline.knowledge.models import Article


def make_article(runtime: Runtime, workspace_id: uuid.UUID, *, publish: bool = True,
                 **fields: Any) -> Article:
    raw: dict[str, Any] = {"title": "Reset your password", "category": "Account",
                           "language": "en", "body": "Open **Settings** and choose *Reset*.",
                           "tags": ["password"], "questions": ["I forgot my password"]}
    raw.update(fields)
    with runtime.db.session() as session:
        article = service.save_article(session, workspace_id, service.parse_article(raw),
                                       SYSTEM)
        if publish:
            article = service.publish_article(session, workspace_id, article.id, SYSTEM)
        session.expunge(article)
        return article
