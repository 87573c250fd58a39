"""The signed-in agent's own account: change his password, set up or turn off his second
factor, and his own phone number for click-to-call (stored encrypted). Wrong passwords and
codes count in the sign-in throttle."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from threadline.errors import ThreadlineError
from threadline.hops.flow.phone import agent_phone, set_agent_phone
from threadline.jobs.runtime import Runtime
from threadline.web.deps import PostedForm, RuntimeDep, WriteSession
from threadline.web.desktop.login import (
    account_policy,
    attempt,
    new_password_of,
    refusal_headers,
    refusal_text,
    totp_setup,
)
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    SESSION_COOKIE,
    Anyone,
    DesktopRoute,
    DeskUser,
    client_address,
    form_value,
    is_secure,
    set_cookie,
    sign_session,
)
from threadline.workspace import accounts
from threadline.workspace.auth import (
    SESSION_TTL,
    AccountPolicy,
    access_agent,
    requires_totp,
    start_session,
)
from threadline.workspace.models import Agent, Role, Workspace

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


def _page(request: Request, runtime: Runtime, user: DeskUser, *, error: str | None = None,
          status: int = 200, headers: dict[str, str] | None = None) -> Response:
    policy = account_policy(runtime)
    with runtime.db.session(write=False) as session:
        agent = access_agent(session, user.workspace_id, user.agent_id)
        workspace = session.get(Workspace, user.workspace_id)
        context: dict[str, Any] = {
            "notice": request.query_params.get("notice"), "error": error,
            "can_totp": Role.RANK[agent.role] >= Role.RANK[Role.SUPERVISOR]
            or agent.totp_enabled_at is not None,
            "totp_enabled": agent.totp_enabled_at is not None,
            "totp_required": workspace is not None and requires_totp(workspace, agent),
            "setup": totp_setup(session, agent.email, agent.workspace_id,
                                accounts.pending_totp(agent, policy)),
            "agent_phone": agent_phone(agent)}
    return render(request, "account.html", context, status=status, headers=headers)


@router.get("/account")
def account(request: Request, runtime: RuntimeDep, user: Anyone) -> Response:
    return _page(request, runtime, user)


# A change of the agent's own account; returns the id of a new session for this browser when
# the change ended all his sessions.
Change = Callable[[Session, Agent, str, AccountPolicy], uuid.UUID | None]


async def _change(request: Request, runtime: Runtime, user: DeskUser, notice: str,
                  change: Change) -> Response:
    """Apply a change to the agent's own account; show the page again on a refusal."""
    policy, client = account_policy(runtime), client_address(request)

    def work(session: Session) -> uuid.UUID | None:
        return change(session, access_agent(session, user.workspace_id, user.agent_id),
                      client, policy)

    result = await attempt(runtime, work)
    if isinstance(result, ThreadlineError):
        return _page(request, runtime, user, error=refusal_text(result),
                     status=result.status, headers=refusal_headers(result))
    response = RedirectResponse(f"/account?notice={notice}", status_code=303)
    if result is not None:
        set_cookie(response, SESSION_COOKIE, sign_session(runtime, result),
                   secure=is_secure(request), max_age=int(SESSION_TTL.total_seconds()))
    return response


@router.post("/account/password")
async def change_password(request: Request, runtime: RuntimeDep, user: Anyone) -> Response:
    form = await request.form()

    def change(session: Session, agent: Agent, client: str,
               policy: AccountPolicy) -> uuid.UUID:
        accounts.change_password(session, agent, new_password_of(form),
                                 current=str(form.get("current_password") or ""),
                                 client=client, policy=policy)
        return start_session(session, agent).id

    return await _change(request, runtime, user, "password-changed", change)


@router.post("/account/totp/start")
async def totp_start(request: Request, runtime: RuntimeDep, user: Anyone) -> Response:
    def change(session: Session, agent: Agent, client: str, policy: AccountPolicy) -> None:
        accounts.begin_totp(session, agent, policy=policy)

    return await _change(request, runtime, user, "scan-the-key", change)


CodeCheck = Callable[..., None]  # accounts.confirm_totp or accounts.disable_totp


async def _with_code(request: Request, runtime: Runtime, user: DeskUser, notice: str,
                     check: CodeCheck) -> Response:
    code = form_value(await request.form(), "code")

    def change(session: Session, agent: Agent, client: str, policy: AccountPolicy) -> None:
        check(session, agent, code, client=client, policy=policy)

    return await _change(request, runtime, user, notice, change)


@router.post("/account/totp")
async def totp_confirm(request: Request, runtime: RuntimeDep, user: Anyone) -> Response:
    return await _with_code(request, runtime, user, "second-factor-on", accounts.confirm_totp)


@router.post("/account/totp/disable")
async def totp_disable(request: Request, runtime: RuntimeDep, user: Anyone) -> Response:
    return await _with_code(request, runtime, user, "second-factor-off",
                            accounts.disable_totp)


@router.post("/account/phone")
def change_phone(request: Request, form: PostedForm, runtime: RuntimeDep, user: Anyone,
                 session: WriteSession) -> Response:
    """The agent's own phone, which click-to-call rings first (empty: removed)."""
    agent = access_agent(session, user.workspace_id, user.agent_id)
    try:
        set_agent_phone(session, agent, form_value(form, "phone"))
    except ThreadlineError as exc:
        session.rollback()
        return _page(request, runtime, user, error=exc.message, status=exc.status)
    notice = "phone-saved" if agent.phone else "phone-removed"
    return RedirectResponse(f"/account?notice={notice}", status_code=303)
