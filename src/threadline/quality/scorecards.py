"""Scorecards of a workspace: the defaults a workspace starts with, read, save (criteria
changed: a new version), archive, the default; and the sampling settings. Services never
commit.

Invariant: a workspace that has scorecards has exactly one default, and it is active (making
one the default unsets the others; the default cannot be archived or unset, another must be
made the default first)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed, validated
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.quality.models import QualityScorecard, QualityScorecardVersion
from threadline.quality.rules import Criterion
from threadline.quality.schemas import (
    MAX_SCORECARDS,
    CriterionOut,
    SamplingSettings,
    ScorecardIn,
    ScorecardOut,
    ScorecardVersionOut,
)
from threadline.workspace.service import read_setting, write_setting

SETTING = "quality_sampling"
TOPIC = Live.QUALITY_CHANGED
DEFAULT_NAME = "Standard review"
DEFAULT_DESCRIPTION = "Tone, accuracy, policy and the public/private judgement of a conversation."
DEFAULT_CRITERIA: tuple[dict[str, Any], ...] = (
    {"key": "tone", "label": "Tone", "weight": 2, "scale": "one_to_five",
     "description": "Friendly, clear and in the brand's voice; suited to the channel "
                    "(short in public, complete in private)."},
    {"key": "accuracy", "label": "Accuracy", "weight": 3, "scale": "one_to_five",
     "description": "The answer is right and complete: nothing the customer has to ask "
                    "again, no promise the brand cannot keep."},
    {"key": "policy", "label": "Policy", "weight": 3, "scale": "yes_no_na",
     "description": "Refunds, exceptions, identity checks and personal data handled as the "
                    "policies say."},
    {"key": "public_private", "label": "Public/private judgement", "weight": 2,
     "scale": "yes_no_na",
     "description": "Personal matters moved to a private channel in time, nothing personal "
                    "said in public, and the public thread closed out."},
)


def parse_scorecard(raw: Any) -> ScorecardIn:
    return validated(ScorecardIn, raw, "invalid_scorecard")


def parse_sampling(raw: Any) -> SamplingSettings:
    return validated(SamplingSettings, raw, "invalid_sampling")


# --- reading ----------------------------------------------------------------------------------


def criteria_rules(criteria: list[dict[str, Any]]) -> list[Criterion]:
    return [Criterion(str(c["key"]), int(c["weight"]), str(c["scale"])) for c in criteria]


def list_scorecards(session: Session, workspace_id: uuid.UUID, *,
                    active_only: bool = False) -> list[QualityScorecard]:
    stmt = select(QualityScorecard).where(QualityScorecard.workspace_id == workspace_id)
    if active_only:
        stmt = stmt.where(QualityScorecard.active.is_(True))
    return list(session.scalars(stmt.order_by(QualityScorecard.is_default.desc(),
                                              QualityScorecard.name)))


def current_criteria(session: Session, rows: list[QualityScorecard],
                     ) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The criteria of each scorecard's current version (one query)."""
    if not rows:
        return {}
    wanted = {(r.id, r.version) for r in rows}
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for version in session.scalars(select(QualityScorecardVersion).where(
            QualityScorecardVersion.scorecard_id.in_([r.id for r in rows]))):
        if (version.scorecard_id, version.version) in wanted:
            out[version.scorecard_id] = list(version.criteria)
    return out


def access_scorecard(session: Session, workspace_id: uuid.UUID,
                     scorecard_id: uuid.UUID) -> QualityScorecard:
    row = session.scalar(select(QualityScorecard).where(
        QualityScorecard.id == scorecard_id, QualityScorecard.workspace_id == workspace_id))
    if row is None:
        raise NotFound("scorecard not found", code="scorecard_not_found")
    return row


def access_version(session: Session, workspace_id: uuid.UUID, scorecard_id: uuid.UUID,
                   version: int) -> QualityScorecardVersion:
    row = session.scalar(select(QualityScorecardVersion).where(
        QualityScorecardVersion.scorecard_id == scorecard_id,
        QualityScorecardVersion.workspace_id == workspace_id,
        QualityScorecardVersion.version == version))
    if row is None:
        raise NotFound("scorecard version not found", code="scorecard_version_not_found")
    return row


def scorecard_out(row: QualityScorecard, criteria: list[dict[str, Any]]) -> ScorecardOut:
    return ScorecardOut(id=row.id, name=row.name, description=row.description,
                        version=row.version, is_default=row.is_default, active=row.active,
                        criteria=[CriterionOut.model_validate(c) for c in criteria],
                        created_at=row.created_at, updated_at=row.updated_at)


def version_out(row: QualityScorecardVersion) -> ScorecardVersionOut:
    return ScorecardVersionOut(scorecard_id=row.scorecard_id, version=row.version,
                               criteria=[CriterionOut.model_validate(c) for c in row.criteria],
                               created_at=row.created_at)


def default_scorecard(session: Session, workspace_id: uuid.UUID) -> QualityScorecard:
    """The workspace's default scorecard (the defaults are created first if it has none)."""
    ensure_defaults(session, workspace_id)
    row = session.scalar(select(QualityScorecard).where(
        QualityScorecard.workspace_id == workspace_id, QualityScorecard.is_default.is_(True),
        QualityScorecard.active.is_(True)))
    if row is None:  # only an older database could break the invariant: the oldest active
        row = session.scalar(select(QualityScorecard).where(
            QualityScorecard.workspace_id == workspace_id, QualityScorecard.active.is_(True))
            .order_by(QualityScorecard.created_at))
    if row is None:
        raise ValidationFailed("the workspace has no active scorecard",
                               code="no_active_scorecard")
    return row


# --- writing ----------------------------------------------------------------------------------


def ensure_defaults(session: Session, workspace_id: uuid.UUID) -> None:
    """A workspace that never had a scorecard gets the standard one (tone, accuracy, policy,
    public/private judgement) as its default. Scorecards are never deleted, so this happens
    once; two first requests at once: the unique name lets one win, the other reads it."""
    exists = session.scalar(select(QualityScorecard.id).where(
        QualityScorecard.workspace_id == workspace_id).limit(1))
    if exists is not None:
        return
    try:
        with session.begin_nested():
            _create(session, workspace_id, ScorecardIn.model_validate({
                "name": DEFAULT_NAME, "description": DEFAULT_DESCRIPTION,
                "criteria": list(DEFAULT_CRITERIA), "is_default": True}), None)
    except IntegrityError:
        pass


def _create(session: Session, workspace_id: uuid.UUID, data: ScorecardIn,
            actor: Actor | None) -> QualityScorecard:
    now = utcnow()
    row = QualityScorecard(id=new_id(), workspace_id=workspace_id, name=data.name,
                           description=data.description, version=1,
                           is_default=data.is_default, active=data.active, created_at=now,
                           updated_at=now)
    session.add(row)
    session.flush()
    session.add(QualityScorecardVersion(
        id=new_id(), workspace_id=workspace_id, scorecard_id=row.id, version=1,
        criteria=[c.model_dump() for c in data.criteria], created_at=now,
        created_by_id=actor.agent_id if actor else None))
    session.flush()
    return row


def _name_taken(session: Session, workspace_id: uuid.UUID, name: str,
                other: uuid.UUID | None) -> None:
    stmt = select(QualityScorecard.id).where(QualityScorecard.workspace_id == workspace_id,
                                             QualityScorecard.name == name)
    if other is not None:
        stmt = stmt.where(QualityScorecard.id != other)
    if session.scalar(stmt) is not None:
        raise ValidationFailed("name: a scorecard of this workspace has this name already",
                               code="invalid_scorecard", details={"field": "name"})


def save_scorecard(session: Session, workspace_id: uuid.UUID, data: ScorecardIn,
                   actor: Actor, scorecard_id: uuid.UUID | None = None,
                   ) -> tuple[QualityScorecard, list[dict[str, Any]]]:
    """Create a scorecard, or change `scorecard_id`: other criteria make a new version (the
    reviews done keep theirs; pending ones are answered with the new one)."""
    ensure_defaults(session, workspace_id)
    existing = access_scorecard(session, workspace_id, scorecard_id) \
        if scorecard_id is not None else None
    _name_taken(session, workspace_id, data.name, scorecard_id)
    criteria = [c.model_dump() for c in data.criteria]
    if existing is None:
        count = session.scalar(select(func.count(QualityScorecard.id)).where(
            QualityScorecard.workspace_id == workspace_id))
        if int(count or 0) >= MAX_SCORECARDS:
            raise ValidationFailed(f"at most {MAX_SCORECARDS} scorecards per workspace",
                                   code="too_many_scorecards", details={"field": "scorecards"})
        row = _create(session, workspace_id, data, actor)
        action = "quality.scorecard_created"
    else:
        row = existing
        if row.is_default and not data.is_default:
            raise ValidationFailed("is_default: the workspace needs a default scorecard; make "
                                   "another one the default first", code="invalid_scorecard",
                                   details={"field": "is_default"})
        before = current_criteria(session, [row]).get(row.id, [])
        now = utcnow()
        if before != criteria:
            row.version += 1
            session.add(QualityScorecardVersion(
                id=new_id(), workspace_id=workspace_id, scorecard_id=row.id,
                version=row.version, criteria=criteria, created_at=now,
                created_by_id=actor.agent_id))
        row.name, row.description = data.name, data.description
        row.is_default, row.active, row.updated_at = data.is_default, data.active, now
        session.flush()
        action = "quality.scorecard_updated"
    if row.is_default:
        session.execute(update(QualityScorecard).where(
            QualityScorecard.workspace_id == workspace_id, QualityScorecard.id != row.id)
            .values(is_default=False).execution_options(synchronize_session=False))
        session.flush()
    audit(session, workspace_id, action, "quality_scorecard", row.id, actor_type=actor.type,
          actor_id=actor.id, data={"name": row.name, "version": row.version})
    publish(session, workspace_id, TOPIC, {"action": action, "id": str(row.id)})
    return row, criteria


def set_active(session: Session, workspace_id: uuid.UUID, scorecard_id: uuid.UUID,
               active: bool, actor: Actor) -> QualityScorecard:
    """Archive a scorecard (not the default) or bring it back."""
    row = access_scorecard(session, workspace_id, scorecard_id)
    if not active and row.is_default:
        raise ValidationFailed("the default scorecard cannot be archived; make another one "
                               "the default first", code="invalid_scorecard",
                               details={"field": "active"})
    row.active, row.updated_at = active, utcnow()
    session.flush()
    action = "quality.scorecard_restored" if active else "quality.scorecard_archived"
    audit(session, workspace_id, action, "quality_scorecard", row.id, actor_type=actor.type,
          actor_id=actor.id, data={"name": row.name})
    publish(session, workspace_id, TOPIC, {"action": action, "id": str(row.id)})
    return row


# --- sampling settings ------------------------------------------------------------------------


def sampling_settings(session: Session, workspace_id: uuid.UUID) -> SamplingSettings:
    return read_setting(session, workspace_id, SETTING, SamplingSettings)


def set_sampling_settings(session: Session, workspace_id: uuid.UUID, data: SamplingSettings,
                          actor: Actor) -> SamplingSettings:
    stored = write_setting(session, workspace_id, SETTING, data)
    session.flush()
    audit(session, workspace_id, "quality.sampling_set", "workspace", workspace_id,
          actor_type=actor.type, actor_id=actor.id, data=stored)
    publish(session, workspace_id, TOPIC, {"action": "quality.sampling_set"})
    return data
