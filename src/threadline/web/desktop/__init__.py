"""The agent desktop: server-rendered pages (Jinja2), HTMX fragments and live updates (SSE).

Front-end libraries come from the npm registry at build time (scripts/build_assets.py copies
them into the package's web/static/vendor/, which the wheel carries) and are served from
there under /static/vendor/."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response

from threadline.errors import NotFound
from threadline.web.desktop import (
    account,
    actions,
    activity,
    admin,
    approval,
    automation,
    brand,
    callbacks,
    csat,
    customers,
    dashboards,
    hops,
    inbox,
    journeys,
    login,
    quality,
    routing,
    sla,
    stream,
    subjects,
    wa_templates,
)
from threadline.web.desktop import community as community_page
from threadline.web.desktop import crm as crm_page
from threadline.web.desktop import customer_data as customer_data_page
from threadline.web.desktop import incidents as incidents_page
from threadline.web.desktop import knowledge as knowledge_page
from threadline.web.desktop import listening as listening_page
from threadline.web.desktop import outbound_webhooks as outbound_webhooks_page
from threadline.web.desktop import search as search_page
from threadline.web.desktop import selfservice as selfservice_page
from threadline.web.desktop.render import HERE, render_error
from threadline.web.desktop.security import DesktopRoute

DesktopRoute.render_error = render_error
STATIC = HERE / "static"
# The files scripts/build_assets.py copied from the npm packages (the libraries the desktop
# loads and their licences), inside the installed package.
VENDOR = HERE.parent / "static" / "vendor"


def _inside(base: Path, relative: str) -> Path:
    path = (base / relative).resolve()
    if not path.is_file() or not path.is_relative_to(base.resolve()):
        raise NotFound("no such file")
    return path


def _file(path: Path) -> Response:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": "public, max-age=3600"})


router = APIRouter(include_in_schema=False)


@router.get("/static/desktop/{name:path}")
def static_file(name: str) -> Response:
    return _file(_inside(STATIC, name))


@router.get("/static/vendor/{package}/{name:path}")
def vendor_file(package: str, name: str) -> Response:
    return _file(_inside(VENDOR, f"{package}/{name}"))


for module in (login, account, inbox, actions, hops, subjects, customers, admin, brand,
               automation, approval, routing, sla, quality, csat, callbacks,
                stream, activity, journeys, dashboards):
    router.include_router(module.router)
router.include_router(customer_data_page.router)
router.include_router(crm_page.router)
router.include_router(outbound_webhooks_page.router)
router.include_router(wa_templates.router)
router.include_router(incidents_page.router)
router.include_router(knowledge_page.router)
router.include_router(listening_page.router)
router.include_router(selfservice_page.router)
router.include_router(search_page.router)
router.include_router(community_page.router)
