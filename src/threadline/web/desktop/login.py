"""Sign in and sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from threadline.errors import RateLimited
from threadline.events.runtime import Runtime
from threadline.web.deps import get_runtime
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    PRE_COOKIE,
    SESSION_COOKIE,
    DesktopRoute,
    WriteSession,
    client_address,
    csrf_token,
    form_value,
    is_secure,
    new_pre_binding,
    set_cookie,
    sign_session,
)
from threadline.workspace.auth import (
    SESSION_TTL,
    end_session,
    resolve_session,
    sign_in,
    start_session,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/inbox"


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/inbox" if request.state.desk_user else "/login", status_code=303)


def _login_page(request: Request, runtime: Runtime, *, error: str | None = None,
                status: int = 200, email: str = "") -> Response:
    binding = request.cookies.get(PRE_COOKIE) or new_pre_binding()
    request.state.csrf = csrf_token(runtime, binding)
    response = render(request, "login.html", {"error": error, "email": email,
                                              "next": _safe_next(request.query_params.get(
                                                  "next"))}, status=status)
    set_cookie(response, PRE_COOKIE, binding, secure=is_secure(request))
    return response


@router.get("/login")
def login_form(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    if request.state.desk_user:
        return RedirectResponse("/inbox", status_code=303)
    return _login_page(request, runtime)


@router.post("/login")
async def login(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    form = await request.form()
    email, password = form_value(form, "email"), str(form.get("password") or "")
    target = _safe_next(form_value(form, "next"))
    if not email or not password:
        return _login_page(request, runtime, error="Enter your email and password.",
                           status=422, email=email)
    from starlette.concurrency import run_in_threadpool

    def attempt() -> str | None:
        with runtime.db.session() as session:
            agent = sign_in(session, email, password, client=client_address(request))
            if agent is None:
                return None
            return sign_session(runtime, start_session(session, agent).id)

    try:
        cookie = await run_in_threadpool(attempt)
    except RateLimited as exc:
        wait = exc.details.get("retry_after", 60)
        return _login_page(request, runtime, status=429, email=email,
                           error=f"Too many failed sign-ins. Try again in {wait} seconds.")
    if cookie is None:
        return _login_page(request, runtime, error="Wrong email or password.", status=401,
                           email=email)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, SESSION_COOKIE, cookie, secure=is_secure(request),
               max_age=int(SESSION_TTL.total_seconds()))
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: WriteSession) -> Response:
    user = request.state.desk_user
    if user is not None:
        record, _ = resolve_session(session, user.session_id)
        end_session(session, record)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
