"""/healthz, /readyz and /metrics (Prometheus text format).

/metrics needs `Authorization: Bearer <THREADLINE_METRICS_TOKEN>` when the token is set; when
it is not, only clients on this host (loopback) are answered."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from threadline.config import Settings
from threadline.errors import Forbidden, ThreadlineError, Unauthorized
from threadline.events.service import work_counts
from threadline.jobs.runtime import Runtime
from threadline.web.deps import get_runtime
from threadline.web.proxies import client_address

router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: Annotated[Runtime, Depends(get_runtime)]) -> JSONResponse:
    def check_db() -> bool:
        try:
            with runtime.db.session(write=False) as session:
                session.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    db_ok = await run_in_threadpool(check_db)
    bus_ok = await run_in_threadpool(runtime.bus.ping)
    ok = db_ok and bus_ok
    return JSONResponse({"database": db_ok, "bus": bus_ok, "status": "ok" if ok else "down"},
                        status_code=200 if ok else 503)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request, settings: Settings) -> None:
    token = settings.metrics_token
    if token:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(),
                                                                  token.encode()):
            raise Unauthorized("send the metrics token as a Bearer token",
                               code="metrics_token_required")
    elif not _is_loopback(client_address(request)):
        raise Forbidden("metrics are served to this host only; set THREADLINE_METRICS_TOKEN "
                        "to scrape them from elsewhere", code="metrics_loopback_only")


@router.get("/metrics", response_model=None)
def metrics(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
            ) -> PlainTextResponse | JSONResponse:
    try:
        check_metrics_access(request, runtime.settings)
    except ThreadlineError as exc:
        headers = {"www-authenticate": 'Bearer realm="metrics"'} if exc.status == 401 else {}
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status, headers=headers)
    lines = []
    with runtime.db.session(write=False) as session:
        for label, rows in work_counts(session).items():
            name = f"threadline_{label}_items"
            lines.append(f"# TYPE {name} gauge")
            lines.extend(f'{name}{{status="{status}"}} {count}'
                         for status, count in rows.items())
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4")
