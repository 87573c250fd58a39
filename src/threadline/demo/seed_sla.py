"""Demo service levels: Madrid office hours (with a lunch break and the December holidays) as
the workspace's default calendar, New York hours for a "Social" team, and two policies
(urgent public conversations first, everything else). Idempotent: a workspace that has
calendars already is left alone."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.conversations.service import SYSTEM
from threadline.db.base import utcnow
from threadline.sla.models import SlaCalendar
from threadline.sla.schemas import CalendarIn, PolicyIn
from threadline.sla.service import save_calendar, save_policy
from threadline.workspace.models import Team

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _team(session: Session, workspace_id: uuid.UUID, name: str) -> uuid.UUID:
    found = session.scalar(select(Team.id).where(Team.workspace_id == workspace_id,
                                                 Team.name == name))
    if found is not None:
        return found
    team = Team(workspace_id=workspace_id, name=name)
    session.add(team)
    session.flush()
    return team.id


def seed_service_levels(session: Session, workspace_id: uuid.UUID) -> None:
    if session.scalar(select(SlaCalendar.id).where(SlaCalendar.workspace_id == workspace_id)
                      .limit(1)) is not None:
        return
    year = utcnow().year
    social = _team(session, workspace_id, "Social")
    save_calendar(session, workspace_id, CalendarIn(
        name="Madrid office", time_zone="Europe/Madrid",
        hours={**{d: [["09:00", "14:00"], ["15:00", "19:00"]] for d in WEEKDAYS},
               "sat": [["10:00", "14:00"]]},
        holidays=[f"{year}-12-08", f"{year}-12-25", f"{year + 1}-01-01", f"{year + 1}-01-06"],
        is_default=True), SYSTEM)
    save_calendar(session, workspace_id, CalendarIn(
        name="New York social desk", time_zone="America/New_York",
        hours={d: [["08:00", "20:00"]] for d in (*WEEKDAYS, "sat", "sun")},
        holidays=[f"{year}-11-26", f"{year}-12-25"], team_ids=[social]), SYSTEM)
    save_policy(session, workspace_id, PolicyIn(
        name="Urgent in public", priorities=[1, 2], visibilities=["public"],
        first_response_minutes=30, next_response_minutes=60, resolution_minutes=480,
        warn_percent=80, escalation=["notify", "raise_priority", "email_supervisors"]), SYSTEM)
    save_policy(session, workspace_id, PolicyIn(
        name="Everything else", first_response_minutes=240, next_response_minutes=240,
        resolution_minutes=2880, warn_minutes=30, escalation=["notify"]), SYSTEM)
