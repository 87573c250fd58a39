"""Public replies held for a supervisor's approval (the review flow is outbound/approval.py).

A held reply is an outbound message in `delivery = "held"` with no outbox job: nothing reaches
the provider until a supervisor approves it. Its review lives here: why it was held, the text
as written and as approved, who decided, and the reason of a rejection (the agent sees it).
The model sits with the conversations so that the privacy eraser can scrub its texts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.redacted import RedactedText


class ApprovalState:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = ("pending", "approved", "rejected")


class ReplyApproval(IdMixin, Base):
    __tablename__ = "reply_approvals"
    __table_args__ = (Index("ix_reply_approvals_queue", "workspace_id", "state", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    author_type: Mapped[str] = mapped_column(String(16))  # agent | automation | token
    author_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    author_actor: Mapped[str | None] = mapped_column(String(80))  # "automation:<rule id>"
    state: Mapped[str] = mapped_column(String(16), default=ApprovalState.PENDING)
    # Why the policy held it: "all", "in_training", "category:complaint", "not_template",
    # "may_not_post_public".
    held_for: Mapped[list[Any]] = mapped_column(default=list)
    text: Mapped[str] = mapped_column(RedactedText)  # as the author wrote it
    edited_text: Mapped[str | None] = mapped_column(RedactedText)  # as a reviewer approved it
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str | None] = mapped_column(RedactedText)  # a rejection's, for the author
    # The outbox job that sends it once approved, and its payload beyond the message id.
    send_job: Mapped[str] = mapped_column(String(64))
    job_payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
