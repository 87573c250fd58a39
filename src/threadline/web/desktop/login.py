"""Sign in (password, then the steps that apply: TOTP code, new password, TOTP enrolment)
and sign out. A session held at a step opens only that step's page; CSRF tokens of these
pages are bound to the pre-login cookie, like the login form's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from threadline.errors import RateLimited, ThreadlineError, Unauthorized, ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.web.deps import RuntimeDep
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    PRE_COOKIE,
    SESSION_COOKIE,
    DesktopRoute,
    client_address,
    csrf_token,
    form_value,
    is_secure,
    new_pre_binding,
    read_session_cookie,
    set_cookie,
    sign_session,
)
from threadline.workspace import accounts, totp
from threadline.workspace.auth import (
    SESSION_TTL,
    STEP_TTL,
    AccountPolicy,
    CredentialRefused,
    Stage,
    advance,
    end_session,
    load_session,
    resolve_session,
    second_factor,
    sign_in,
)
from threadline.workspace.models import Agent, AgentSession, Workspace

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
STEP_PAGES = {Stage.TOTP: "/login/code", Stage.PASSWORD: "/login/password",
              Stage.ENROL: "/login/totp"}
SESSION_GONE = frozenset({"no_session", "session_ended", "sign_in_incomplete"})
T = TypeVar("T")


def account_policy(runtime: Runtime) -> AccountPolicy:
    return AccountPolicy.from_settings(runtime.settings)


async def attempt(runtime: Runtime, work: Callable[[Session], T]) -> T | ThreadlineError:
    """Run `work` in a thread (password hashing stays off the event loop) with its own unit
    of work, committed unless `work` raises. A typed error is returned, not raised; a
    CredentialRefused is committed all the same: the failure it recorded is the throttle's
    memory."""
    def run() -> T | ThreadlineError:
        with runtime.db.session() as session:
            try:
                return work(session)
            except CredentialRefused as exc:
                return exc

    try:
        return await run_in_threadpool(run)
    except ThreadlineError as exc:
        return exc


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/inbox"


def refusal_headers(exc: ThreadlineError) -> dict[str, str] | None:
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.details.get("retry_after", 60))}
    return None


def refusal_text(exc: ThreadlineError) -> str:
    if isinstance(exc, RateLimited):
        wait = exc.details.get("retry_after", 60)
        return f"Too many failed attempts. Try again in {wait} seconds."
    return exc.message[:1].upper() + exc.message[1:] + "."


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/inbox" if request.state.desk_user else "/login", status_code=303)


def _login_page(request: Request, runtime: Runtime, *, error: str | None = None,
                status: int = 200, email: str = "",
                headers: dict[str, str] | None = None) -> Response:
    binding = request.cookies.get(PRE_COOKIE) or new_pre_binding()
    request.state.csrf = csrf_token(runtime, binding)
    response = render(request, "login.html", {"error": error, "email": email,
                                              "next": _safe_next(request.query_params.get(
                                                  "next"))}, status=status, headers=headers)
    set_cookie(response, PRE_COOKIE, binding, secure=is_secure(request))
    return response


def _cookie_session(request: Request, runtime: Runtime) -> uuid.UUID | None:
    return read_session_cookie(runtime, request.cookies.get(SESSION_COOKIE))


def _current_step(runtime: Runtime, session_id: uuid.UUID | None) -> str | None:
    if session_id is None:
        return None
    with runtime.db.session(write=False) as session:
        try:
            record, _ = load_session(session, session_id)
        except Unauthorized:
            return None
        return record.stage


@router.get("/login")
def login_form(request: Request, runtime: RuntimeDep) -> Response:
    if request.state.desk_user:
        return RedirectResponse("/inbox", status_code=303)
    stage = _current_step(runtime, _cookie_session(request, runtime))
    if stage is not None:
        return RedirectResponse(STEP_PAGES[stage], status_code=303)
    return _login_page(request, runtime)


def _enter(request: Request, runtime: Runtime, record: AgentSession,
           target: str = "/inbox") -> Response:
    """Set the cookie of a new session and go to its step's page (or to `target`)."""
    response = RedirectResponse(STEP_PAGES[record.stage] if record.stage else target,
                                status_code=303)
    ttl = STEP_TTL if record.stage else SESSION_TTL
    set_cookie(response, SESSION_COOKIE, sign_session(runtime, record.id),
               secure=is_secure(request), max_age=int(ttl.total_seconds()))
    if record.stage is None:
        response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.post("/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    form = await request.form()
    email, password = form_value(form, "email"), str(form.get("password") or "")
    target = _safe_next(form_value(form, "next"))
    if not email or not password:
        return _login_page(request, runtime, error="Enter your email and password.",
                           status=422, email=email)
    policy, client = account_policy(runtime), client_address(request)

    def work(session: Session) -> AgentSession:
        return sign_in(session, email, password, client=client, policy=policy)

    result = await attempt(runtime, work)
    if isinstance(result, ThreadlineError):
        return _login_page(request, runtime, status=result.status, email=email,
                           error=refusal_text(result), headers=refusal_headers(result))
    return _enter(request, runtime, result, target)


# --- the steps --------------------------------------------------------------------------------


def _step_page(request: Request, runtime: Runtime, stage: str, *, error: str | None = None,
               status: int = 200, headers: dict[str, str] | None = None) -> Response:
    session_id = _cookie_session(request, runtime)
    if session_id is None:
        return RedirectResponse("/login", status_code=303)
    policy = account_policy(runtime)
    with runtime.db.session(write=False) as session:
        try:
            _, agent = resolve_session(session, session_id, stage=stage)
        except Unauthorized:
            return RedirectResponse("/login", status_code=303)
        context: dict[str, Any] = {"stage": stage, "error": error, "email": agent.email}
        if stage == Stage.ENROL:
            context["setup"] = totp_setup(session, agent.email, agent.workspace_id,
                                          accounts.pending_totp(agent, policy))
    return render(request, "login_step.html", context, status=status, headers=headers)


def totp_setup(session: Session, email: str, workspace_id: uuid.UUID,
               secret: str | None) -> dict[str, str] | None:
    """What an authenticator app needs, shown as text: the secret and the otpauth:// URI."""
    if secret is None:
        return None
    workspace = session.get(Workspace, workspace_id)
    name = workspace.name if workspace else "Threadline"
    return {"secret": secret, "uri": totp.provisioning_uri(secret, email, name)}


StepAction = Callable[[Session, AgentSession, Agent, str, AccountPolicy], AgentSession | None]


async def _do_step(request: Request, runtime: Runtime, stage: str, action: StepAction,
                   ) -> Response:
    """Run one step's action on the session held at `stage`: on success go on (a new
    session for the next step, or the full one), on a refusal show the step again."""
    session_id = _cookie_session(request, runtime)
    if session_id is None:
        return RedirectResponse("/login", status_code=303)
    policy, client = account_policy(runtime), client_address(request)

    def work(session: Session) -> AgentSession | None:
        record, agent = resolve_session(session, session_id, stage=stage)
        return action(session, record, agent, client, policy)

    result = await attempt(runtime, work)
    if isinstance(result, ThreadlineError):
        if result.code in SESSION_GONE:
            return RedirectResponse("/login", status_code=303)
        return _step_page(request, runtime, stage, error=refusal_text(result),
                          status=result.status, headers=refusal_headers(result))
    if result is not None:
        return _enter(request, runtime, result)
    return RedirectResponse(STEP_PAGES[stage], status_code=303)


@router.get("/login/code")
def code_form(request: Request, runtime: RuntimeDep) -> Response:
    return _step_page(request, runtime, Stage.TOTP)


@router.post("/login/code")
async def code_submit(request: Request, runtime: RuntimeDep) -> Response:
    code = form_value(await request.form(), "code")

    def step(session: Session, record: AgentSession, agent: Agent, client: str,
             policy: AccountPolicy) -> AgentSession:
        return second_factor(session, record, agent, code, client=client, policy=policy)

    return await _do_step(request, runtime, Stage.TOTP, step)


@router.get("/login/password")
def password_form(request: Request, runtime: RuntimeDep) -> Response:
    return _step_page(request, runtime, Stage.PASSWORD)


def new_password_of(form: Any) -> str:
    """The new password of a form, typed twice alike."""
    new, again = str(form.get("new_password") or ""), str(form.get("new_password_again") or "")
    if new != again:
        raise ValidationFailed("the two new passwords differ", code="password_mismatch")
    return new


@router.post("/login/password")
async def password_submit(request: Request, runtime: RuntimeDep) -> Response:
    form = await request.form()

    def step(session: Session, record: AgentSession, agent: Agent, client: str,
             policy: AccountPolicy) -> AgentSession:
        accounts.change_password(session, agent, new_password_of(form), current=None,
                                 client=client, policy=policy)
        return advance(session, record, agent, client=client)

    return await _do_step(request, runtime, Stage.PASSWORD, step)


@router.get("/login/totp")
def enrol_form(request: Request, runtime: RuntimeDep) -> Response:
    return _step_page(request, runtime, Stage.ENROL)


@router.post("/login/totp/start")
async def enrol_start(request: Request, runtime: RuntimeDep) -> Response:
    def step(session: Session, record: AgentSession, agent: Agent, client: str,
             policy: AccountPolicy) -> None:
        accounts.begin_totp(session, agent, policy=policy)

    return await _do_step(request, runtime, Stage.ENROL, step)


@router.post("/login/totp")
async def enrol_confirm(request: Request, runtime: RuntimeDep) -> Response:
    code = form_value(await request.form(), "code")

    def step(session: Session, record: AgentSession, agent: Agent, client: str,
             policy: AccountPolicy) -> AgentSession:
        accounts.confirm_totp(session, agent, code, client=client, policy=policy)
        return advance(session, record, agent, client=client)

    return await _do_step(request, runtime, Stage.ENROL, step)


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep) -> Response:
    session_id = _cookie_session(request, runtime)
    if session_id is not None:
        with runtime.db.session() as session:
            try:
                record, _ = load_session(session, session_id)
            except Unauthorized:
                pass
            else:
                end_session(session, record)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
