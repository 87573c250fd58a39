"""The only code that joins channels, triage and the domains."""

from __future__ import annotations


def install() -> None:
    """Register the inbound processor and the outbox handlers."""
    from threadline.pipeline import actions, inbound, outbound, polling  # noqa: F401

    inbound.install()
