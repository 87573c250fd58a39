"""The first-answer target of a workspace without service-level policies (docs/service-levels.md:
the first policy switches a workspace to its clocks): one global target per channel surface,
from the settings."""

from __future__ import annotations

from datetime import timedelta

from threadline.config import Settings
from threadline.conversations.queue import P2


def sla_target(settings: Settings, channel: str, visibility: str, priority: int) -> timedelta:
    """Time to the first answer once a customer writes: by channel surface, shorter when
    urgent (P1 and P2). The clock stops when an agent answers (outbound/replies.py) or
    resolves."""
    if channel == "email":
        minutes = settings.sla_email_minutes
    elif visibility == "public":
        minutes = settings.sla_public_minutes
    else:
        minutes = settings.sla_private_minutes
    if priority <= P2:
        minutes *= settings.sla_urgent_factor
    return timedelta(minutes=minutes)
