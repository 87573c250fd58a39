"""The desktop's activity reports (active handle time, kpis.activity): while a conversation is
open in a visible tab and the agent is not idle, static/desktop/desktop.js posts what he did
in the last few seconds. Small form bodies only; a limited number per agent and minute."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from threadline.errors import PayloadTooLarge, ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.kpis.activity import record_activity
from threadline.web.desktop.security import Anyone, DesktopRoute
from threadline.web.limits import rate_limit

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
MAX_BODY = 1024
PER_MINUTE = 30  # a report every 15 s per open tab leaves room for a few tabs


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed("seconds: a number", code="invalid_activity_seconds",
                               details={"field": "seconds"}) from None


@router.post("/desktop/activity")
async def report_activity(request: Request, user: Anyone) -> Response:
    """One report: `conversation_id`, `kind` (focus | typing) and `seconds`. The form is read
    here; the transaction runs off the event loop (a report waiting for another's row lock
    must not stop the loop that would let the other commit)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY:
        raise PayloadTooLarge(f"an activity report is at most {MAX_BODY} bytes")
    await rate_limit(request, f"desktop-activity:{user.agent_id}", PER_MINUTE)
    form = await request.form()
    raw_id, kind, seconds = (str(form.get(k) or "").strip()
                             for k in ("conversation_id", "kind", "seconds"))
    try:
        conversation_id = uuid.UUID(raw_id)
    except ValueError:
        raise ValidationFailed("conversation_id: a conversation's id",
                               code="invalid_conversation_id",
                               details={"field": "conversation_id"}) from None
    runtime: Runtime = request.app.state.runtime
    claimed = _number(seconds)

    def record() -> None:
        with runtime.db.session() as session:
            record_activity(session, user.workspace_id, user.agent_id, conversation_id, kind,
                            claimed, max_seconds=runtime.settings.kpi_activity_max_seconds)

    await run_in_threadpool(record)
    return Response(status_code=204)
