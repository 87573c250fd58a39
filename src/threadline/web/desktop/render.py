"""Jinja2 rendering for the desktop: the template environment, filters and error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from threadline.conversations.privacy import masked_text, public_pii_spans
from threadline.errors import ThreadlineError
from threadline.events.names import desktop_registry
from threadline.outbound.actions import hideable
from threadline.outbound.deletion import REASONS, deletable, deleting, may_delete
from threadline.routing.schemas import PRESENCES
from threadline.web.media import file_size, media_url

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")

CHANNEL_LABELS = {
    "x": "X", "facebook": "Facebook", "messenger": "Messenger", "instagram": "Instagram",
    "whatsapp": "WhatsApp", "sms": "SMS", "voice": "Phone", "telegram": "Telegram",
    "email": "Email", "api": "API", "webchat": "Web chat", "chat": "Web chat", "note": "Note",
}


def channel_label(kind: str | None) -> str:
    return CHANNEL_LABELS.get(kind or "", (kind or "unknown").title())


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = "now" if seconds < 30 else f"{seconds}s"
    if text == "now":
        return text
    return f"in {text}" if future else f"{text} ago"


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d %b %Y %H:%M UTC") if value else ""


def initials(name: str | None) -> str:
    parts = [p for p in (name or "?").replace("@", " ").replace("_", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


TEMPLATES.env.filters.update(channel=channel_label, ago=ago, when=when, initials=initials)
TEMPLATES.env.globals.update(channel_labels=CHANNEL_LABELS, masked_text=masked_text,
                             has_public_pii=public_pii_spans, hideable=hideable,
                             media_url=media_url, file_size=file_size, presences=PRESENCES,
                             deletable=deletable, may_delete=may_delete, deleting=deleting,
                             delete_reasons=REASONS)


# The real-time events the desktop's script subscribes to (events/names.py), in every page.
TEMPLATES.env.globals["live_events"] = desktop_registry()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "user": getattr(request.state, "desk_user", None),
        "csrf": getattr(request.state, "csrf", ""),
        "path": request.url.path,
    }
    ctx.update(context or {})
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status, headers=headers)


def render_error(request: Request, exc: ThreadlineError) -> Response:
    context = {"error": exc}
    if is_htmx(request):
        return render(request, "partials/flash.html", context, status=exc.status,
                      headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return render(request, "error.html", context, status=exc.status)
