"""Who the client is: the HTTP server believes X-Forwarded-For / X-Forwarded-Proto only from
the reverse proxies named in THREADLINE_TRUSTED_PROXIES (none by default), and the app reads
the client's address in one place (`client_address`).

uvicorn's own default trusts loopback peers, so a client on the same host (or any client of
a proxy that forwards the header unchanged) could pick its address per request and step
around every per-address rate limit. Every uvicorn this project starts takes its options from
`server_config`."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import Request

from threadline.config import Settings
from threadline.logs import uvicorn_log_config


def server_config(app: Any, settings: Settings, *, host: str, port: int,
                  log_level: str = "info") -> uvicorn.Config:
    trusted = settings.trusted_proxy_list()
    return uvicorn.Config(app, host=host, port=port, log_level=log_level,
                          proxy_headers=bool(trusted), forwarded_allow_ips=trusted or [],
                          server_header=False, log_config=uvicorn_log_config())


def run_server(app: Any, settings: Settings, *, host: str, port: int,
               log_level: str = "info") -> None:
    uvicorn.Server(server_config(app, settings, host=host, port=port,
                                 log_level=log_level)).run()


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy said the peer was."""
    return request.client.host if request.client else "unknown"
