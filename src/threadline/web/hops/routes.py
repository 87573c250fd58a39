"""Public pages behind short links, served without login: `GET /s/{code}` shows the form of the
link's purpose (chat entry, callback, email, verification) with the channels the company offers;
`POST /s/{code}` is the customer's submission (his opt-in). An expired, forged or used link
gets a clear page and changes nothing; a form with a bad value is shown again, unchanged.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from threadline.errors import NotFound, RateLimited, ThreadlineError
from threadline.hops.flow import takes
from threadline.hops.records import service
from threadline.web.hops.pages import (
    HERE,
    PAGE_HEADERS,
    PAGE_PURPOSES,
    choice_page,
    error_page,
    form_page,
    message_page,
    runtime_of,
)
from threadline.web.hops.takes import take
from threadline.web.limits import rate_limit_client

router = APIRouter(include_in_schema=False)


@router.get("/static/hops/{name}")
def static_file(name: str) -> Response:
    path = (HERE / "static" / name).resolve()
    if not path.is_file() or not path.is_relative_to((HERE / "static").resolve()):
        raise NotFound("no such file")
    media = "text/css" if path.suffix == ".css" else "text/javascript"
    return FileResponse(path, media_type=media, headers={"cache-control": "public, max-age=300"})


@router.get("/s/{code}", response_class=HTMLResponse)
def show_link(code: str, request: Request) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.db.session(write=False) as session:
            link = service.open_link(session, code, PAGE_PURPOSES)
            return form_page(request, session, link, code,
                             purpose=request.query_params.get("m"))
    except service.LinkUnavailable as exc:
        return error_page(request, runtime, code, exc)


@router.get("/s/{code}/go/{kind}", response_class=HTMLResponse)
def go_to_channel(code: str, kind: str, request: Request) -> Response:
    """A choice link's WhatsApp or SMS way: the choice recorded, then the company's number."""
    runtime = runtime_of(request)
    try:
        with runtime.db.session() as session:
            link = service.open_link(session, code, ("choice",))
            target = takes.choose_channel(session, link, kind)
    except service.LinkUnavailable as exc:
        return error_page(request, runtime, code, exc)
    except ThreadlineError as exc:
        with runtime.db.session(write=False) as session:
            link = service.open_link(session, code, ("choice",))
            return choice_page(request, session, link, code, error=exc.message, status=422)
    return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)


@router.post("/s/{code}", response_class=HTMLResponse)
async def submit_link(code: str, request: Request) -> Response:
    try:
        await rate_limit_client(request, f"link-form:{code[:64]}",
                                runtime_of(request).settings.link_form_posts_per_minute)
    except RateLimited as exc:
        answer = message_page(request, {"company": "Customer care", "channels": []},
                              "Please wait a moment", "This form was sent several times in a "
                              "short while. Please try again in a minute.", tone="error",
                              code=exc.code, status=exc.status)
        answer.headers["retry-after"] = str(exc.details["retry_after"])
        return answer
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(take, request, code, values)
