"""Desktop security: signed session cookies, CSRF tokens bound to the session, role checks,
and a route class that turns these (and typed errors) into HTML answers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from threadline import logs
from threadline.conversations.service import Actor
from threadline.errors import Forbidden, ThreadlineError
from threadline.jobs.runtime import Runtime
from threadline.web.deps import ReadSession, WriteSession
from threadline.web.proxies import client_address
from threadline.workspace.auth import SESSION_TTL, resolve_session
from threadline.workspace.models import Role

SESSION_COOKIE = "tl_session"
PRE_COOKIE = "tl_pre"  # binds the login form's CSRF token before a session exists
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The request's unit of work, closed (committed) before the response is sent (web/deps.py).
__all__ = ["ReadSession", "WriteSession", "client_address"]


@dataclass(frozen=True)
class DeskUser:
    session_id: uuid.UUID
    agent_id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    email: str
    role: str
    presence: str = "offline"  # as the request found it: the rail shows it without a request

    @property
    def actor(self) -> Actor:
        return Actor("agent", str(self.agent_id), agent_id=self.agent_id)

    def can(self, role: str) -> bool:
        return Role.RANK[self.role] >= Role.RANK[role]


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page."""


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime.settings.resolved_secret_key(), salt="tl-desktop")


def sign_session(runtime: Runtime, session_id: uuid.UUID) -> str:
    return _serializer(runtime).dumps(str(session_id))


def read_session_cookie(runtime: Runtime, value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        raw = _serializer(runtime).loads(value, max_age=int(SESSION_TTL.total_seconds()))
        return uuid.UUID(str(raw))
    except (BadSignature, ValueError):
        return None


def csrf_token(runtime: Runtime, binding: str) -> str:
    key = runtime.settings.resolved_secret_key().encode()
    return hmac.new(key, f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def new_pre_binding() -> str:
    return secrets.token_urlsafe(24)


def set_cookie(response: Response, name: str, value: str, *, secure: bool,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure,
                        max_age=max_age, path="/")


def _load_user(runtime: Runtime, session_id: uuid.UUID) -> DeskUser | None:
    with runtime.db.session(write=False) as session:
        try:
            record, agent = resolve_session(session, session_id)
        except ThreadlineError:
            return None
        return DeskUser(session_id=record.id, agent_id=agent.id, workspace_id=agent.workspace_id,
                        name=agent.name, email=agent.email, role=agent.role,
                        presence=agent.presence)


def current_user(request: Request) -> DeskUser:
    user: DeskUser | None = getattr(request.state, "desk_user", None)
    if user is None:
        raise LoginRequired()
    return user


def require(role: str) -> Callable[[Request], DeskUser]:
    def dependency(request: Request) -> DeskUser:
        user = current_user(request)
        if not user.can(role):
            raise Forbidden(f"this page needs the {role} role", code="insufficient_role")
        return user

    return dependency



# Who may call a desktop route: any signed-in agent, a supervisor (or admin), an admin.
Anyone = Annotated[DeskUser, Depends(require(Role.AGENT))]
Supervisor = Annotated[DeskUser, Depends(require(Role.SUPERVISOR))]
Admin = Annotated[DeskUser, Depends(require(Role.ADMIN))]


async def _csrf_ok(request: Request, runtime: Runtime, binding: str | None) -> bool:
    if binding is None:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    return bool(sent) and hmac.compare_digest(str(sent), csrf_token(runtime, binding))


ErrorRenderer = Callable[[Request, ThreadlineError], Response]


class DesktopRoute(APIRoute):
    """Every desktop route: loads the signed-in agent, checks CSRF on unsafe methods,
    and answers errors as HTML (login redirect, 403 page, error fragment)."""

    render_error: ErrorRenderer | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        path = self.path

        async def handler(request: Request) -> Response:
            runtime: Runtime = request.app.state.runtime
            session_id = read_session_cookie(runtime, request.cookies.get(SESSION_COOKIE))
            user = await run_in_threadpool(_load_user, runtime, session_id) \
                if session_id else None
            request.state.desk_user = user
            if user is not None:
                logs.bind_workspace(user.workspace_id)
            binding = str(user.session_id) if user else request.cookies.get(PRE_COOKIE)
            request.state.csrf = csrf_token(runtime, binding) if binding else ""
            if request.method not in SAFE_METHODS and not await _csrf_ok(request, runtime,
                                                                         binding):
                if path != "/login" and user is None:
                    return _login_redirect(request)
                return _error(request, Forbidden(
                    "the form has expired or did not come from this site; reload the page",
                    code="csrf_failed"))
            try:
                return await original(request)
            except LoginRequired:
                return _login_redirect(request)
            except ThreadlineError as exc:
                return _error(request, exc)

        return handler


def _login_redirect(request: Request) -> Response:
    target = "/login"
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    if request.method == "GET" and request.url.path not in ("/", "/login"):
        from urllib.parse import quote

        target += "?next=" + quote(request.url.path + (f"?{request.url.query}"
                                                       if request.url.query else ""))
    return RedirectResponse(target, status_code=303)


def _error(request: Request, exc: ThreadlineError) -> Response:
    if DesktopRoute.render_error is None:
        return Response(exc.message, status_code=exc.status)
    return DesktopRoute.render_error(request, exc)


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
