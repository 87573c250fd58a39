"""The desktop's search: the box in the top bar of every page ("/" or Ctrl+K focuses it)
and the results page, grouped by kind (docs/search.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from threadline.search.models import Kind
from threadline.search.query import search
from threadline.search.schemas import SearchHit
from threadline.search.syntax import MAX_QUERY_CHARS, SearchError
from threadline.web.desktop.render import render
from threadline.web.desktop.security import Anyone, DesktopRoute, ReadSession

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)

GROUPS = (("conversation", "Conversations"), ("message", "Messages"),
          ("customer", "Customers"), ("article", "Articles"))
PER_GROUP = 8
PER_PAGE = 25


def link(hit: SearchHit) -> str:
    """Where a hit opens: its conversation, its customer, or the article."""
    if hit.kind in (Kind.MESSAGE, Kind.CONVERSATION) and hit.conversation_id:
        return f"/conversations/{hit.conversation_id}"
    if hit.kind == Kind.CUSTOMER:
        return f"/customers/{hit.ref_id}"
    if hit.kind == Kind.ARTICLE:
        return f"/knowledge/{hit.ref_id}"
    return "#"


@router.get("/search")
def search_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    """Every kind, a few hits each; or one kind (`kind=`), a page at a time."""
    params = request.query_params
    q = params.get("q", "")
    kind = params.get("kind") or None
    try:
        offset = max(0, min(int(params.get("offset", "0")), 1000))
    except ValueError:
        offset = 0
    groups: list[dict[str, object]] = []
    error: SearchError | None = None
    has_more = False
    if q.strip():
        try:
            if kind is not None:
                results = search(session, user.workspace_id, q, kinds=[kind], limit=PER_PAGE,
                                 offset=offset)
                has_more = results.has_more
                wanted = [(k, label) for k, label in GROUPS if k == kind]
                groups = [{"kind": k, "label": label, "hits": results.hits,
                           "has_more": has_more} for k, label in wanted]
            else:
                for k, label in GROUPS:
                    results = search(session, user.workspace_id, q, kinds=[k],
                                     limit=PER_GROUP)
                    if results.hits:
                        groups.append({"kind": k, "label": label, "hits": results.hits,
                                       "has_more": results.has_more})
        except SearchError as exc:
            error = exc
    return render(request, "search.html", {
        "q": q[:MAX_QUERY_CHARS * 2], "kind": kind, "groups": groups, "error": error,
        "offset": offset, "per_page": PER_PAGE, "has_more": has_more, "link": link,
        "searched": bool(q.strip()), "max_chars": MAX_QUERY_CHARS},
        status=error.status if error else 200)
