"""The demo's service levels: a default calendar with hours and holidays, a team calendar and
two policies, seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from threadline.demo.seed_sla import seed_service_levels
from threadline.sla.models import SlaCalendar, SlaPolicy


def test_seed_is_complete_and_idempotent(runtime, workspace_id):
    for _ in range(2):
        with runtime.db.session() as session:
            seed_service_levels(session, workspace_id)
    with runtime.db.session(write=False) as session:
        calendars = session.scalars(select(SlaCalendar).where(
            SlaCalendar.workspace_id == workspace_id)).all()
        policies = session.scalar(select(func.count()).select_from(SlaPolicy).where(
            SlaPolicy.workspace_id == workspace_id))
    assert len(calendars) == 2 and policies == 2
    default = next(c for c in calendars if c.is_default)
    assert default.time_zone == "Europe/Madrid" and default.holidays and default.hours["mon"]
