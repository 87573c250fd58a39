"""The only code that joins channels, triage and the domains."""

from __future__ import annotations


def install() -> None:
    """Register the inbound processor and the outbox handlers."""
    import threadline.subjects.storage  # noqa: F401  (the compaction job after an erasure)
    from threadline.events import retention  # noqa: F401
    from threadline.pipeline import (  # noqa: F401
        actions,
        callbacks,
        hops,
        inbound,
        outbound,
        polling,
    )

    inbound.install()
