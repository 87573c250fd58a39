"""Every job handler and the inbound processor, registered in one place.

The job runtime (`threadline.jobs`) runs handlers by name; the flows register theirs when
their modules are imported. The web app, the worker, the CLI and the tests call `install()`
once before any job runs.
"""

from __future__ import annotations


def install() -> None:
    """Register the inbound processor and the outbox handlers."""
    import threadline.subjects.storage  # noqa: F401  (the compaction job after an erasure)
    from threadline.automation import engine  # noqa: F401  (the AUTOMATION conversation hook)
    from threadline.community import engine as community_engine  # noqa: F401  (hook, scan)
    from threadline.community import service as community_service  # noqa: F401  (jobs)
    from threadline.csat import answers, sending  # noqa: F401  (the CSAT hook, interceptor, jobs)
    from threadline.hops.flow import (  # noqa: F401  (click-to-call, call recordings)
        callbacks,
        offers,
        phone,
        recordings,
    )
    from threadline.inbound import process
    from threadline.incidents import (  # noqa: F401  (the INCIDENTS hook, the fan-out jobs)
        detection as incident_detection,
    )
    from threadline.incidents import fanout as incident_fanout  # noqa: F401
    from threadline.ingest import polling  # noqa: F401
    from threadline.integrations.crm import sync as crm_sync  # noqa: F401  (CRM hook, jobs)
    from threadline.integrations.webhooks import delivery  # noqa: F401  (WEBHOOKS hook, dispatch)
    from threadline.jobs import hooks, retention  # noqa: F401
    from threadline.kpis import engine as kpis_engine  # noqa: F401  (KPIS hook, settle, rebuild)
    from threadline.kpis.dashboards import origins  # noqa: F401  (a web chat link's campaign)
    from threadline.listening import (  # noqa: F401  (the noise filter, the recent search)
        intercept as listening_intercept,
    )
    from threadline.listening import search as listening_search  # noqa: F401
    from threadline.media import fetch as media_fetch  # noqa: F401  (inbound downloads)
    from threadline.outbound import (  # noqa: F401  (whatsapp_templates: sync job, status hook)
        actions,
        replies,
        whatsapp_templates,
    )
    from threadline.quality import sampling  # noqa: F401  (the review queue's sampler)
    from threadline.routing import presence, service  # noqa: F401  (ROUTING hook, tick)
    from threadline.search import indexer  # noqa: F401  (the search hook, the sweep)
    from threadline.selfservice import bot  # noqa: F401  (the bot's hook, reply, settle)
    from threadline.sla import engine as sla_engine  # noqa: F401  (SERVICE_LEVELS hook, scan)

    process.install()
