"""The provider sandbox: a local HTTP server that plays the providers' side.

It records every call made to a provider API (method, path, query, headers, JSON or form body),
answers like the provider, and injects faults on demand (429 with Retry-After, 5xx, 4xx).
Each provider lives in `providers/<name>.py` and exposes:
    router: fastapi.APIRouter          -- the provider's API endpoints (paths as the provider's)
    PREFIX: str                        -- where it is mounted, e.g. "/x" (accounts use
                                          api_base_url = http://sandbox-host:port + PREFIX)
and optionally webhook builders (functions returning `SignedWebhook`) used to play customers.

Control API (for tests and demos):
    GET    /_sandbox/calls?provider=x      -> {"calls": [...]}
    DELETE /_sandbox/calls                 -> clear
    POST   /_sandbox/faults                -> {"provider", "path_contains", "status",
                                               "count", "retry_after", "body"}
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

PROVIDERS: dict[str, str] = {
    "api": "threadline.sandbox.providers.api",
    "x": "threadline.sandbox.providers.x",
    "meta": "threadline.sandbox.providers.meta",
    "twilio": "threadline.sandbox.providers.twilio",
    "telegram": "threadline.sandbox.providers.telegram",
    "discourse": "threadline.sandbox.providers.discourse",
    "salesforce": "threadline.sandbox.providers.salesforce",
    "hubspot": "threadline.sandbox.providers.hubspot",
    "jitsi": "threadline.sandbox.providers.jitsi",
    "shop": "threadline.sandbox.providers.shop",
}


@dataclass
class Call:
    seq: int
    provider: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    body: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "provider": self.provider, "method": self.method,
                "path": self.path, "query": self.query, "json": self.json, "form": self.form,
                "headers": self.headers, "body": self.body, "at": self.at}


@dataclass
class Fault:
    provider: str
    path_contains: str
    status: int
    count: int = 1
    retry_after: float | None = None
    body: Any = None


@dataclass
class SignedWebhook:
    """A webhook the sandbox posts into Threadline to play a customer."""

    path: str  # e.g. /webhooks/x/{account_id}
    body: bytes
    headers: dict[str, str]
    method: str = "POST"


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        """A fresh provider-side id number (monotonic; used for tweet ids, sids...)."""
        with self.lock:
            return next(self._ids)

    def take_fault(self, provider: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.provider == provider and fault.path_contains in path and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None


RECORDER_KEY = "threadline_sandbox_recorder"


def recorder_of(request: Request) -> Recorder:
    rec: Recorder = getattr(request.app.state, RECORDER_KEY)
    return rec


def available_providers() -> list[str]:
    """Providers whose module imports (lets the sandbox run while adapters are being added)."""
    names = []
    for name, module in PROVIDERS.items():
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def create_app(providers: list[str] | None = None) -> FastAPI:
    app = FastAPI(title="Threadline provider sandbox", docs_url=None, redoc_url=None)
    recorder = Recorder()
    setattr(app.state, RECORDER_KEY, recorder)
    prefixes: list[tuple[str, str]] = []
    for name in providers or available_providers():
        module = importlib.import_module(PROVIDERS[name])
        router: APIRouter = module.router
        prefix: str = module.PREFIX
        app.include_router(router, prefix=prefix)
        prefixes.append((prefix, name))

    @app.middleware("http")
    async def record(request: Request, call_next: Callable[[Request], Any]) -> Response:
        path = request.url.path
        prefix, provider = next(((p, n) for p, n in prefixes if path.startswith(p + "/")),
                                ("", None))
        if provider is None:
            response: Response = await call_next(request)
            return response
        raw = await request.body()
        json_body: Any = None
        form: dict[str, str] = {}
        ctype = request.headers.get("content-type", "")
        if "json" in ctype and raw:
            try:
                json_body = json.loads(raw)
            except ValueError:
                json_body = None
        elif "form" in ctype and raw:
            form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        with recorder.lock:
            call = Call(seq=next(recorder._seq), provider=provider, method=request.method,
                        path=path[len(prefix):],
                        query=dict(request.query_params), headers=dict(request.headers),
                        json=json_body, form=form, body=raw.decode("utf-8", "replace"),
                        at=time.time())
            recorder.calls.append(call)
        fault = recorder.take_fault(provider, call.path)
        if fault is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            return JSONResponse(fault.body or {"error": f"sandbox fault {fault.status}"},
                                status_code=fault.status, headers=headers)
        response = await call_next(request)
        return response

    @app.get("/_sandbox/calls")
    def list_calls(provider: str | None = None) -> dict[str, Any]:
        with recorder.lock:
            calls = [c.to_dict() for c in recorder.calls if provider in (None, c.provider)]
        return {"calls": calls}

    @app.delete("/_sandbox/calls")
    def clear_calls() -> dict[str, Any]:
        with recorder.lock:
            recorder.calls.clear()
            recorder.faults.clear()
        return {"ok": True}

    @app.post("/_sandbox/faults")
    def add_fault(spec: dict[str, Any]) -> dict[str, Any]:
        fault = Fault(provider=str(spec["provider"]),
                      path_contains=str(spec.get("path_contains", "")),
                      status=int(spec["status"]), count=int(spec.get("count", 1)),
                      retry_after=spec.get("retry_after"), body=spec.get("body"))
        with recorder.lock:
            recorder.faults.append(fault)
        return {"ok": True}

    @app.get("/_sandbox/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "providers": [n for _, n in prefixes]}

    return app
