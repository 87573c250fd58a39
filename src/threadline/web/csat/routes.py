"""The survey's public page: `GET /r/{code}` shows the question with a 1-5 choice and a
comment box; `POST /r/{code}` records the answer. No login: the unguessable code is the
capability, and only its hash is stored. A page view records nothing (mail and chat apps
fetch links to preview them). The form is CSRF-safe: it carries a token bound to the survey
(an HMAC with the server's secret) and a cross-site POST (an Origin that is not ours) is
refused; a bad score or an oversized comment shows the form again, storing nothing
(docs/csat.md#the-link)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from threadline.csat import answers, rules
from threadline.errors import Conflict, NotFound, RateLimited, ThreadlineError
from threadline.jobs.runtime import Runtime
from threadline.web.limits import rate_limit_client
from threadline.web.security_headers import page_headers, policy

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
HEADERS = {**page_headers(policy(), referrer="no-referrer"), "cache-control": "no-store"}
POSTS_PER_MINUTE = 10
FORM_FIELDS = ("score", "comment", "form_token")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def form_token(runtime: Runtime, survey_id: uuid.UUID) -> str:
    key = runtime.settings.resolved_secret_key().encode()
    return hmac.new(key, f"csat-form:{survey_id}".encode(), hashlib.sha256).hexdigest()


def _page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, "survey.html", {
        "scale": [(n, rules.LABELS[n]) for n in rules.SCALE], "max_comment": rules.MAX_COMMENT,
        "error": None, "values": {}, **context}, status_code=status, headers=HEADERS)


def _state(request: Request, code: str, state: str, status: int, **extra: Any) -> Response:
    return _page(request, {"state": state, "code": code, "company": "", "question": "",
                           **extra}, status)


def _same_origin(request: Request, runtime: Runtime) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return True  # not a cross-site browser request (the token still applies)
    ours = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    if runtime.settings.public_url:
        parts = urlsplit(runtime.settings.public_url)
        ours.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.rstrip("/").lower() in ours


def _show(request: Request, code: str, *, values: dict[str, str] | None = None,
          error: str | None = None, status: int = 200) -> Response:
    runtime = _runtime(request)
    try:
        with runtime.db.session(write=False) as session:
            page = answers.link_page(session, code)
    except NotFound:
        return _state(request, code, "invalid", 404)
    if page.status != "open":
        return _state(request, code, page.status, 200 if page.status == "answered" else 410,
                      company=page.company, score=page.score)
    return _page(request, {"state": "open", "code": code, "company": page.company,
                           "question": page.question, "values": values or {},
                           "error": error, "token": form_token(runtime, page.survey_id)},
                 status)


@router.get("/r/{code}", response_class=HTMLResponse)
def show_survey(code: str, request: Request) -> Response:
    return _show(request, code)


def _take(request: Request, code: str, values: dict[str, str]) -> Response:
    runtime = _runtime(request)
    score_text = values.get("score", "").strip()
    comment = values.get("comment", "")
    try:
        with runtime.db.session(write=False) as session:
            page = answers.link_page(session, code)
    except NotFound:
        return _state(request, code, "invalid", 404)
    if page.status == "open" and not hmac.compare_digest(
            values.get("form_token", ""), form_token(runtime, page.survey_id)):
        return _state(request, code, "forbidden", 403, company=page.company)
    if page.status == "open":
        if score_text not in {str(n) for n in rules.SCALE}:
            return _show(request, code, values=values, error="Please choose a score from 1 "
                         "to 5.", status=422)
        if len(comment) > rules.MAX_COMMENT:
            return _show(request, code, values=values, error=f"Please keep the comment "
                         f"under {rules.MAX_COMMENT} characters.", status=422)
    try:
        with runtime.db.session() as session:
            score_value: object = int(score_text) if score_text in {
                str(n) for n in rules.SCALE} else score_text
            survey = answers.answer_by_link(session, code, score_value, comment)
            score = survey.score
    except Conflict:
        return _state(request, code, "answered", 409, company=page.company, score=page.score)
    except answers.Gone:
        return _state(request, code, "closed", 410, company=page.company)
    except ThreadlineError as exc:  # rolled back: the form again, nothing stored
        return _show(request, code, values=values, error=exc.message, status=422)
    return _state(request, code, "thanks", 200, company=page.company, score=score)


@router.post("/r/{code}", response_class=HTMLResponse)
async def answer_survey(code: str, request: Request) -> Response:
    runtime = _runtime(request)
    try:
        await rate_limit_client(request, f"csat-link:{code[:64]}", POSTS_PER_MINUTE)
    except RateLimited as exc:
        answer = _state(request, code, "busy", 429)
        answer.headers["retry-after"] = str(exc.details["retry_after"])
        return answer
    if not _same_origin(request, runtime):
        return _state(request, code, "forbidden", 403)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k in FORM_FIELDS}
    return await run_in_threadpool(_take, request, code, values)
