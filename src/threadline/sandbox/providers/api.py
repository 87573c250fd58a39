"""Sandbox side of the generic API channel: a receiver for signed outbound JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from threadline.sandbox.core import recorder_of

PREFIX = "/api"
router = APIRouter()


@router.post("/outbound")
async def outbound(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"id": f"api-{recorder_of(request).next_id()}", "echo": body.get("id")}
