"""Imports every model module so metadata is complete (Alembic and tests use this)."""

from __future__ import annotations

import importlib

from threadline.db.base import Base

MODEL_MODULES = (
    "threadline.events.models",
    "threadline.workspace.models",
    "threadline.contacts.models",
    "threadline.conversations.models",
    "threadline.conversations.approvals",
    "threadline.hops.records.models",
    "threadline.automation.models",
    "threadline.routing.models",
    "threadline.sla.models",
    "threadline.quality.models",
    "threadline.csat.models",
    "threadline.kpis.models",
    "threadline.kpis.dashboards.indexes",
    "threadline.integrations.webhooks.models",
    "threadline.integrations.crm.models",
    "threadline.integrations.lookup.models",
    "threadline.media.models",
    "threadline.outbound.whatsapp_template_models",
    "threadline.knowledge.models",
    "threadline.search.models",
    "threadline.selfservice.models",
    "threadline.listening.models",
    "threadline.incidents.models",
)


def load_all() -> type[Base]:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base
