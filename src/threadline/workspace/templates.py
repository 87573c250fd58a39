"""Templates: canned responses with {variables}, where they may be used, and rendering."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.workspace.models import Template

VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
APPROVALS = ("draft", "pending", "approved", "rejected")
VISIBILITIES = ("public", "private")


def variables_of(body: str) -> list[str]:
    return sorted(set(VARIABLE.findall(body)))


def render(body: str, values: Mapping[str, str | None]) -> str:
    """Fill the known {variables}; unknown or empty ones stay visible for the agent to edit."""

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return value if value else match.group(0)

    return VARIABLE.sub(fill, body)


def list_templates(session: Session, workspace_id: uuid.UUID, *, channel: str | None = None,
                   visibility: str | None = None, approved_only: bool = False,
                   ) -> list[Template]:
    """Templates of the workspace; with channel/visibility, only those usable there."""
    stmt = select(Template).where(Template.workspace_id == workspace_id).order_by(Template.name)
    if approved_only:
        stmt = stmt.where(Template.approval == "approved")
    out = []
    for template in session.scalars(stmt):
        if channel and template.channels and channel not in template.channels:
            continue
        if visibility and template.visibilities and visibility not in template.visibilities:
            continue
        out.append(template)
    return out


def access_template(session: Session, workspace_id: uuid.UUID,
                    template_id: uuid.UUID) -> Template:
    template = session.get(Template, template_id)
    if template is None or template.workspace_id != workspace_id:
        raise NotFound("template not found")
    return template


def create_template(session: Session, workspace_id: uuid.UUID, *, name: str, body: str,
                    channels: list[str] | None = None, visibilities: list[str] | None = None,
                    approval: str = "approved", created_by: uuid.UUID | None = None,
                    ) -> Template:
    name, body = name.strip(), body.strip()
    if not name or len(name) > 255:
        raise ValidationFailed("a template needs a name (at most 255 characters)")
    if not body or len(body) > 10_000:
        raise ValidationFailed("a template needs a body (at most 10,000 characters)")
    if approval not in APPROVALS:
        raise ValidationFailed(f"approval must be one of {', '.join(APPROVALS)}")
    bad = set(visibilities or []) - set(VISIBILITIES)
    if bad:
        raise ValidationFailed("visibilities are public and private")
    if session.scalar(select(Template.id).where(Template.workspace_id == workspace_id,
                                                Template.name == name)):
        raise Conflict("a template with this name exists", code="template_exists")
    template = Template(id=new_id(), workspace_id=workspace_id, name=name, body=body,
                        channels=sorted(set(channels or [])),
                        visibilities=sorted(set(visibilities or [])), approval=approval,
                        created_by=created_by,
                        approved_by=created_by if approval == "approved" else None,
                        updated_at=utcnow())
    session.add(template)
    session.flush()
    audit(session, workspace_id, "template.created", "template", template.id,
          actor_type="agent", actor_id=str(created_by) if created_by else None,
          data={"name": name, "approval": approval})
    return template


def delete_template(session: Session, template: Template, *,
                    actor_id: uuid.UUID | None = None) -> None:
    audit(session, template.workspace_id, "template.deleted", "template", template.id,
          actor_type="agent", actor_id=str(actor_id) if actor_id else None,
          data={"name": template.name})
    session.delete(template)
    session.flush()
