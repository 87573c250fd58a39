"""/healthz, /readyz and /metrics (Prometheus text format)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool

from threadline.events.models import InboundEvent, OutboxJob
from threadline.events.runtime import Runtime
from threadline.web.deps import get_runtime

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


@router.get("/metrics")
def metrics(runtime: Annotated[Runtime, Depends(get_runtime)]) -> PlainTextResponse:
    lines = []
    with runtime.db.session(write=False) as session:
        for table, label in ((InboundEvent, "inbound"), (OutboxJob, "outbox")):
            rows = session.execute(select(table.status, func.count()).group_by(table.status))
            name = f"threadline_{label}_items"
            lines.append(f"# TYPE {name} gauge")
            lines.extend(f'{name}{{status="{status}"}} {count}' for status, count in rows)
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4")
