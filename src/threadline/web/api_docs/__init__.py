"""The REST API's documentation page (/api/v1/docs): Swagger UI served from the installed
package (works offline) and started by a file of ours, so the page runs under the strict
Content-Security-Policy with no inline script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

HERE = Path(__file__).parent
DOCS_STATIC = "/static-offline-docs"  # fastapi_offline's bundled Swagger UI

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs", response_class=HTMLResponse)
def docs_page() -> HTMLResponse:
    return HTMLResponse((HERE / "docs.html").read_text().replace("{static}", DOCS_STATIC))


@router.get("/api/v1/docs/start.js")
def docs_script() -> FileResponse:
    return FileResponse(HERE / "start.js", media_type="text/javascript",
                        headers={"cache-control": "public, max-age=300"})
