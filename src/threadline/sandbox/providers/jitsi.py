"""Sandbox side of a self-hosted Jitsi Meet with token authentication: `GET /{room}?jwt=` (or
`/{tenant}/{room}`) checks the token as Prosody does when a room is joined — signature
(HS256 with the app secret), `iss`, `aud`, `sub` (the tenant, lower case), `room`, `exp` — and
answers 200 with a small page, or 403 saying which check failed. No WebRTC: tests and the
demo only need to know that a link would let its holder in.

Point Threadline's `video_base_url` at sandbox base + PREFIX (the tenant is then "jitsi"),
with `video_jwt_app_id` = APP_ID and `video_jwt_secret` = APP_SECRET.
"""

from __future__ import annotations

import html
from typing import Annotated

import jwt
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

PREFIX = "/jitsi"
TENANT = "jitsi"
APP_ID = "threadline"
APP_SECRET = "sandbox_jitsi_app_secret_0123456789abcdef"
AUDIENCE = "jitsi"
router = APIRouter()


def _refuse(reason: str) -> HTMLResponse:
    return HTMLResponse(f"<h1>Not allowed</h1><p id='reason'>{html.escape(reason)}</p>",
                        status_code=403)


@router.get("/{room}")
async def join(room: str, token: Annotated[str | None, Query(alias="jwt")] = None,
               ) -> HTMLResponse:
    if not token:
        return _refuse("token required")
    try:
        claims = jwt.decode(token, APP_SECRET, algorithms=["HS256"], audience=AUDIENCE,
                            issuer=APP_ID, options={"require": ["exp", "room", "sub"]})
    except jwt.PyJWTError as exc:
        return _refuse(f"invalid token: {exc}")
    if claims.get("sub") not in (TENANT, "*"):
        return _refuse("sub does not name this tenant")
    if claims.get("room") not in (room, "*"):
        return _refuse("token for another room")
    user = (claims.get("context") or {}).get("user") or {}
    return HTMLResponse(f"<h1 id='room'>{html.escape(room)}</h1>"
                        f"<p id='who'>{html.escape(str(user.get('name', '')))}</p>")
