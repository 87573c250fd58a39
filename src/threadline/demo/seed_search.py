"""The demo's search index: what the other seeds wrote straight into the tables (the queue's
conversations, the knowledge base's articles come through put_document already) is indexed
at once, so the search box finds it from the first page; the live traffic that follows is
indexed by the search hook like any conversation's change."""

from __future__ import annotations

import uuid

from threadline.jobs.runtime import Runtime
from threadline.search.indexer import reindex_workspace, schedule_sweep


def seed_search(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    with runtime.db.session() as session:
        count = reindex_workspace(session, workspace_id)
        schedule_sweep(session)
    return count
