"""Saving templates runs the same personal-data guard as sending (issue 6): a template usable
in public must neither contain personal data nor ask for it in public."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from threadline.outbound.policy import check_outbound_text
from threadline.workspace.models import Template
from threadline.workspace.templates import create_template


def save_template(session: Session, workspace_id: uuid.UUID, *, name: str, body: str,
                  channels: list[str] | None = None, visibilities: list[str] | None = None,
                  approval: str = "approved", created_by: uuid.UUID | None = None) -> Template:
    if not visibilities or "public" in visibilities:
        check_outbound_text(session, workspace_id, body, "public")
    return create_template(session, workspace_id, name=name, body=body, channels=channels,
                           visibilities=visibilities, approval=approval, created_by=created_by)
