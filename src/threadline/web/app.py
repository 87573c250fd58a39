"""The FastAPI application factory. Embedded mode also runs the workers in this process."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from threadline.errors import ThreadlineError
from threadline.handlers import install as install_pipeline
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.web import api_docs, desktop, health, webhooks
from threadline.web import media as media_files
from threadline.web.api import (
    approval,
    automation,
    brand,
    channels,
    conversations,
    csat,
    customers,
    kpis,
    operations,
    quality,
    routing,
    sla,
    stream,
    subjects,
)
from threadline.web.api import community as community_api
from threadline.web.api import crm as crm_api
from threadline.web.api import customer_data as customer_data_api
from threadline.web.api import incidents as incidents_api
from threadline.web.api import knowledge as knowledge_api
from threadline.web.api import listening as listening_api
from threadline.web.api import media as media_api
from threadline.web.api import outbound_webhooks as outbound_webhooks_api
from threadline.web.api import search as search_api
from threadline.web.api import selfservice as selfservice_api
from threadline.web.contract import document_body_errors, http_error_body
from threadline.web.csat import routes as csat_pages
from threadline.web.help import routes as help_pages
from threadline.web.hops import api as hops_api
from threadline.web.hops import routes as hop_pages
from threadline.web.request_id import RequestId
from threadline.web.security_headers import SecurityHeaders
from threadline.web.storable import refuse_unstorable
from threadline.web.webchat.routes import router as webchat_router

log = logging.getLogger("threadline.web")

RETRY_AFTER_SECONDS = 5  # what a 503 asks the client to wait when the database is away


def create_app(runtime: Runtime | None = None, *, workers: int | None = None) -> FastAPI:
    """`workers`: worker threads to run in-process (embedded mode); 0 for web only."""
    install_pipeline()
    runtime = runtime or Runtime.create()
    count = runtime.settings.embedded_workers if workers is None else workers
    stop = threading.Event()
    threads: list[threading.Thread] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for i in range(count):
            thread = threading.Thread(target=Worker(runtime, name=f"embedded-{i}").run_forever,
                                      args=(stop,), name=f"threadline-worker-{i}", daemon=True)
            thread.start()
            threads.append(thread)
        gc.freeze()  # startup objects leave the collector's full scans: shorter pauses
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)

    app = FastAPIOffline(title="Threadline", version="0.1.0", lifespan=lifespan,
                         openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.worker_threads = threads  # the embedded workers (tests wait for them to end)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)  # outermost: every line of the request carries its id

    @app.exception_handler(ThreadlineError)
    async def threadline_error(_request: Request, exc: ThreadlineError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(http_error_body(exc.status_code, exc.detail),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        """The database cannot be reached (or SQLite stayed locked past its busy timeout):
        a 503 the client may retry, never a 500 with a traceback. The transaction was rolled
        back, so nothing is stored half-way; providers deliver the webhook again."""
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return JSONResponse({"error": {
            "code": "database_unavailable",
            "message": "the service cannot reach its database; try again shortly",
            "details": {}}}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
                  for e in exc.errors()]
        return JSONResponse({"error": {"code": "validation_failed",
                                       "message": "the request is not valid",
                                       "details": {"errors": errors}}}, status_code=422)

    # providers' webhooks first: the router tries the routes in order, and they are the most
    # frequent requests
    app.include_router(webhooks.router)
    api_checks = [Depends(refuse_unstorable)]
    for router in (conversations.router, subjects.router, customers.router, operations.router,
                   stream.router, channels.router, brand.router, automation.router,
                   approval.router, routing.router, sla.router, quality.router,
                    csat.router, kpis.router):
        app.include_router(router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(outbound_webhooks_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(incidents_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(listening_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(webchat_router)
    app.include_router(hops_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(customer_data_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(crm_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(media_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(knowledge_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(selfservice_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(community_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(search_api.router, prefix="/api/v1", dependencies=api_checks)
    app.include_router(media_files.router)
    app.include_router(hop_pages.router)
    app.include_router(csat_pages.router)
    app.include_router(help_pages.router)
    app.include_router(health.router)
    app.include_router(api_docs.router)
    app.include_router(desktop.router)
    document_body_errors(app)
    return app
