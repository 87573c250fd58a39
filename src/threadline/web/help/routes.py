"""The public help centre: a workspace's published articles, served without sign-in.

    GET  /help/{workspace_id}                              -> its first language's home
    GET  /help/{workspace_id}/{lang}                       home: categories and articles
    GET  /help/{workspace_id}/{lang}/categories/{slug}     one category
    GET  /help/{workspace_id}/{lang}/articles/{slug}       one article (counts a view)
    POST /help/{workspace_id}/{lang}/articles/{slug}/vote  "was this helpful?"
    GET  /help/{workspace_id}/{lang}/search?q=             search results
    GET  /help/{workspace_id}/sitemap.xml                  every published page
    GET  /help/widget/{account_id}/articles?q=&language=   JSON for the web chat's Help panel

Only published articles exist here (a draft's or archived article's address is a 404).
Pages are server-rendered with the strict policy of the other public pages (no script at
all, styles from our own file, no framing). A vote is a plain form POST that must carry the
browser's help cookie (HttpOnly, SameSite=Strict: a cross-site POST never has it) and a
token bound to that cookie and the article (an HMAC with the server's secret); a foreign
Origin is refused and votes are rate limited per client. A view is counted once per client
address and article per half hour, and never for a prefetch (docs/knowledge-base.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from threadline.errors import NotFound, RateLimited, ThreadlineError
from threadline.jobs.runtime import Runtime
from threadline.knowledge import markdown, service
from threadline.knowledge.languages import name_of, normalise
from threadline.knowledge.models import Article
from threadline.knowledge.schemas import slugify
from threadline.search.syntax import SearchError
from threadline.web.deps import PostedForm, ReadSession, WriteSession
from threadline.web.limits import rate_limit_client
from threadline.web.proxies import client_address
from threadline.web.security_headers import page_headers, policy

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
HEADERS = page_headers(policy(), referrer="strict-origin-when-cross-origin")
COOKIE = "tl_help"
COOKIE_AGE = 365 * 24 * 3600
VOTES_PER_MINUTE = 20
SEARCHES_PER_MINUTE = 60
VIEW_WINDOW = 1800.0  # seconds: one counted view per client and article
MAX_QUERY = 200


class HelpRoute(APIRoute):
    """Typed errors become the help centre's own error page (a 404 for what is not public)."""

    def get_route_handler(self) -> Any:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except ThreadlineError as exc:
                return _error_page(request, exc)

        return handler


router = APIRouter(include_in_schema=False, route_class=HelpRoute)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def base_url(request: Request) -> str:
    return _runtime(request).settings.public_url or str(request.base_url)


def _error_page(request: Request, exc: ThreadlineError) -> Response:
    headers = dict(HEADERS)
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.details.get("retry_after", 60))
    if request.url.path.startswith("/help/widget/"):
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status,
                            headers={"access-control-allow-origin": "*"})
    return templates.TemplateResponse(request, "help_error.html", {
        "error": exc, "lang": "en", "languages": [], "workspace": None, "query": ""},
        status_code=exc.status, headers=headers)


def _language(raw: str) -> str:
    tag = normalise(raw)
    if tag is None or tag != raw:
        raise NotFound("no help centre in this language", code="help_language_not_found")
    return tag


def _page(request: Request, name: str, context: dict[str, Any], *,
          status: int = 200, cookie: str | None = None) -> Response:
    response = templates.TemplateResponse(request, name, {"name_of": name_of, **context},
                                          status_code=status, headers=HEADERS)
    response.headers["cache-control"] = "no-store" if cookie else "private, max-age=60"
    if cookie:
        response.set_cookie(COOKIE, cookie, max_age=COOKIE_AGE, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https",
                            path="/help")
    return response


def _common(session: Any, workspace_id: uuid.UUID, lang: str) -> dict[str, Any]:
    workspace = service.help_workspace(session, workspace_id)
    languages = service.help_languages(session, workspace_id)
    return {"workspace": workspace, "workspace_id": workspace_id, "lang": lang,
            "languages": languages, "root": f"/help/{workspace_id}/{lang}", "query": ""}


def _by_category(articles: list[Article]) -> list[tuple[str, str, list[Article]]]:
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.category, []).append(article)
    return [(name, slugify(name), rows) for name, rows in sorted(groups.items())]


def vote_token(runtime: Runtime, browser: str, article_id: uuid.UUID) -> str:
    key = runtime.settings.resolved_secret_key().encode()
    return hmac.new(key, f"help-vote:{browser}:{article_id}".encode(),
                    hashlib.sha256).hexdigest()


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return True
    ours = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    public = _runtime(request).settings.public_url
    if public:
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin.rstrip("/").lower() in ours


# --- the widget's JSON and the static file (before the workspace routes) ------------------


@router.get("/static/help/{name}")
def static_file(name: str) -> Response:
    path = (HERE / "static" / name).resolve()
    if not path.is_file() or not path.is_relative_to((HERE / "static").resolve()):
        raise NotFound("no such file")
    return FileResponse(path, media_type="text/css",
                        headers={"cache-control": "public, max-age=300"})


async def _search_limit(request: Request) -> None:
    await rate_limit_client(request, "help-search", SEARCHES_PER_MINUTE)


@router.get("/help/widget/{account_id}/articles", dependencies=[Depends(_search_limit)])
def widget_articles(account_id: str, request: Request, session: ReadSession,
                    q: str = Query("", max_length=MAX_QUERY),
                    language: str = Query("", max_length=16)) -> Response:
    """Published articles for the web chat's Help panel: the most read ones, or those
    matching `q`. Public content only, so any site may read it (no credentials)."""
    workspace_id = service.widget_workspace(session, account_id)
    lang = normalise(language) if language else None
    base = base_url(request)
    items: list[dict[str, Any]] = []
    error = None
    if q.strip():
        try:
            hits = service.search_articles(session, workspace_id, q, language=lang, limit=10)
            articles = [h.article for h in hits]
        except SearchError as exc:
            articles, error = [], exc.to_dict()
    else:
        articles = service.popular_articles(session, workspace_id, lang)
    for article in articles:
        items.append({"title": article.title, "category": article.category,
                      "language": article.language,
                      "excerpt": markdown.plain_text(article.body, 160),
                      "url": service.article_url(base, workspace_id, article)})
    body: dict[str, Any] = {"articles": items,
                            "help_url": service.help_url(base, workspace_id, lang)}
    if error:
        body["error"] = error
    return JSONResponse(body, headers={"access-control-allow-origin": "*",
                                       "cache-control": "no-store"})


# --- pages --------------------------------------------------------------------------------


@router.get("/help/{workspace_id}/sitemap.xml")
def sitemap(workspace_id: uuid.UUID, request: Request, session: ReadSession) -> Response:
    service.help_workspace(session, workspace_id)
    base = base_url(request)
    articles = service.published_articles(session, workspace_id)
    urls = [service.help_url(base, workspace_id, lang)
            for lang in service.help_languages(session, workspace_id)]
    rows = [f"<url><loc>{xml_escape(u)}</loc></url>" for u in urls]
    for article in articles:
        when = (article.updated_at or article.created_at).date().isoformat()
        rows.append(f"<url><loc>{xml_escape(service.article_url(base, workspace_id, article))}"
                    f"</loc><lastmod>{when}</lastmod></url>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
           + "\n".join(rows) + "\n</urlset>\n")
    return Response(xml, media_type="application/xml",
                    headers={"cache-control": "public, max-age=300"})


@router.get("/help/{workspace_id}")
def help_root(workspace_id: uuid.UUID, session: ReadSession) -> Response:
    service.help_workspace(session, workspace_id)
    languages = service.help_languages(session, workspace_id)
    lang = "en" if not languages or "en" in languages else languages[0]
    return RedirectResponse(f"/help/{workspace_id}/{lang}", status_code=303)


@router.get("/help/{workspace_id}/{lang}")
def home(workspace_id: uuid.UUID, lang: str, request: Request,
         session: ReadSession) -> Response:
    lang = _language(lang)
    context = _common(session, workspace_id, lang)
    articles = list(service.published_articles(session, workspace_id, lang))
    return _page(request, "help_home.html", {**context, "groups": _by_category(articles)})


@router.get("/help/{workspace_id}/{lang}/categories/{category}")
def category_page(workspace_id: uuid.UUID, lang: str, category: str, request: Request,
                  session: ReadSession) -> Response:
    lang = _language(lang)
    context = _common(session, workspace_id, lang)
    groups = [g for g in _by_category(list(service.published_articles(
        session, workspace_id, lang))) if g[1] == category]
    if not groups:
        raise NotFound("no such category", code="help_category_not_found")
    name, _slug, rows = groups[0]
    return _page(request, "help_category.html", {**context, "category": name,
                                                 "articles": rows})


@router.get("/help/{workspace_id}/{lang}/search")
def search_page(workspace_id: uuid.UUID, lang: str, request: Request, session: ReadSession,
                _limit: None = Depends(_search_limit),
                q: str = Query("", max_length=MAX_QUERY)) -> Response:
    lang = _language(lang)
    context = _common(session, workspace_id, lang)
    hits: list[service.ArticleHit] = []
    error: str | None = None
    if q.strip():
        try:
            hits = service.search_articles(session, workspace_id, q, language=lang, limit=20)
        except SearchError as exc:
            error = exc.message
    return _page(request, "help_search.html", {**context, "query": q, "hits": hits,
                                               "error": error},
                 status=422 if error else 200)


def _count_view(request: Request, article: Article) -> bool:
    purpose = (request.headers.get("sec-purpose") or request.headers.get("purpose") or "")
    if "prefetch" in purpose.lower() or request.method != "GET":
        return False
    key = f"help-view:{article.id}:{client_address(request)}"
    try:
        _runtime(request).limiter.hit(key, 1, VIEW_WINDOW)
    except RateLimited:
        return False
    return True


@router.get("/help/{workspace_id}/{lang}/articles/{slug}")
def article_page(workspace_id: uuid.UUID, lang: str, slug: str, request: Request,
                 session: WriteSession) -> Response:
    lang = _language(lang)
    context = _common(session, workspace_id, lang)
    article = service.public_article(session, workspace_id, lang, slug[:200])
    if _count_view(request, article):
        service.record_view(session, article)
    browser = request.cookies.get(COOKIE) or ""
    fresh = None
    if len(browser) < 32 or len(browser) > 64:
        browser = fresh = secrets.token_urlsafe(32)
    voted = request.query_params.get("voted")
    return _page(request, "help_article.html", {
        **context, "article": article, "html": service.render_article_html(article.body),
        "category_slug": slugify(article.category),
        "token": vote_token(_runtime(request), browser, article.id),
        "voted": voted if voted in ("yes", "no") else None,
        "vote_error": request.query_params.get("vote_error") == "1"}, cookie=fresh)


async def _vote_limit(request: Request) -> None:
    await rate_limit_client(request, "help-vote", VOTES_PER_MINUTE)


@router.post("/help/{workspace_id}/{lang}/articles/{slug}/vote",
             dependencies=[Depends(_vote_limit)])
def vote(workspace_id: uuid.UUID, lang: str, slug: str, request: Request, form: PostedForm,
         session: WriteSession) -> Response:
    lang = _language(lang)
    article = service.public_article(session, workspace_id, lang, slug[:200])
    page = f"/help/{workspace_id}/{lang}/articles/{article.slug}"
    browser = request.cookies.get(COOKIE) or ""
    sent = form.get("token")
    helpful = form.get("helpful")
    if (not _same_origin(request) or not browser or not isinstance(sent, str)
            or not hmac.compare_digest(sent, vote_token(_runtime(request), browser,
                                                        article.id))):
        return _error_page(request, ThreadlineError(
            "this vote did not come from the article's page; open the article and vote again",
            code="vote_forbidden", status=403))
    if helpful not in ("yes", "no"):
        return RedirectResponse(f"{page}?vote_error=1#feedback", status_code=303)
    service.vote(session, workspace_id, article.id, service.voter_key(browser),
                 helpful == "yes")
    return RedirectResponse(f"{page}?voted={helpful}#feedback", status_code=303)


__all__ = ["HTMLResponse", "router"]
