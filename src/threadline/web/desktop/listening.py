"""Listening on the desktop (docs/listening.md): the Listening view (public posts that matched
the workspace's rules, apart from the queues), Opportunities (competitors' unanswered
unhappy customers, with the time waited; nothing is sent from here), the Defensive view (the
brand's own public complaints waiting too long, most visible first), Filtered (the noise,
with the reason; "Restore" puts a post in the queue) and the rules and settings
(supervisors). "Open as conversation" turns a listened post into a conversation in one step.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.errors import ThreadlineError
from threadline.listening import service
from threadline.listening.models import NoiseReason, RuleKind
from threadline.listening.rules import KIND_LABELS, MAX_RULES, MAX_VALUE
from threadline.triage import detect_pii, mask
from threadline.web.deps import PostedForm, ReadSession, RuntimeDep
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Anyone,
    DesktopRoute,
    DeskUser,
    Supervisor,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
TABS = (("listening", "Listening", "/listening"),
        ("opportunities", "Opportunities", "/listening/opportunities"),
        ("defensive", "Defensive", "/listening/defensive"),
        ("filtered", "Filtered (noise)", "/listening/filtered"),
        ("settings", "Rules & settings", "/listening/settings"))
REASON_LABELS = {NoiseReason.RETWEET: "Retweet", NoiseReason.PROMOTION: "Promotion",
                 NoiseReason.SPAM: "Spam", NoiseReason.NOT_FOR_BRAND: "Not for the brand"}
NOTICES = {"rules": "Listening rules saved.", "settings": "Settings saved.",
           "restored": "The post is in the queue now.", "search": "A search was scheduled."}
MAX_FORM = MAX_RULES * (MAX_VALUE + 2) * 2


def waited(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def shown(text: str) -> str:
    """A public post as agents see it: personal data masked, at most 1,000 characters (the
    template escapes it)."""
    head = (text or "")[:1000]
    return mask(head, detect_pii(head))


def _page(request: Request, tab: str, context: dict[str, Any], *,
          status: int = 200) -> Response:
    return render(request, "listening.html", {
        "tab": tab, "tabs": TABS, "reason_labels": REASON_LABELS, "waited": waited, "shown": shown,
        "notice": NOTICES.get(request.query_params.get("notice", "")), **context},
        status=status)


@router.get("/listening")
def listening_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    return _page(request, "listening",
                 {"posts": service.listening_view(session, user.workspace_id)})


@router.get("/listening/opportunities")
def opportunities_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    settings = service.get_settings(session, user.workspace_id)
    return _page(request, "opportunities", {
        "enabled": settings.opportunities_enabled, "wait": settings.opportunity_wait_minutes,
        "items": service.opportunities(session, user.workspace_id)})


@router.get("/listening/defensive")
def defensive_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    settings = service.get_settings(session, user.workspace_id)
    return _page(request, "defensive", {
        "threshold": settings.defensive_wait_minutes,
        "exposed": service.defensive_view(session, user.workspace_id)})


@router.get("/listening/filtered")
def filtered_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    reason = request.query_params.get("reason") or None
    if reason not in (None, *NoiseReason.ALL):
        reason = None
    return _page(request, "filtered", {
        "posts": service.filtered_view(session, user.workspace_id, reason=reason),
        "reason": reason, "counts": service.noise_counts(session, user.workspace_id)})


def _settings_page(request: Request, session: Any, user: DeskUser, *,
                   error: ThreadlineError | None = None,
                   submitted: dict[str, str] | None = None) -> Response:
    rules = service.list_rules(session, user.workspace_id)
    by_kind = {k: "\n".join(r.value for r in rules if r.kind == k) for k in RuleKind.ALL}
    return _page(request, "settings", {
        "rules_by_kind": submitted or by_kind, "kind_labels": KIND_LABELS,
        "query": service.query_of(rules), "error": error,
        "settings": service.get_settings(session, user.workspace_id)},
        status=error.status if error else 200)


@router.get("/listening/settings")
def settings_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    return _settings_page(request, session, user)


@router.post("/listening/rules")
def save_rules(request: Request, form: PostedForm, user: Supervisor,
               session: WriteSession) -> Response:
    submitted = {k: form_value(form, k)[:MAX_FORM] for k in RuleKind.ALL}
    items = [{"kind": k, "value": line} for k, text in submitted.items()
             for line in text.splitlines() if line.strip()]
    try:
        service.replace_rules(session, user.workspace_id, items, user.actor)
    except ThreadlineError as exc:  # nothing was stored: the form comes back with the error
        return _settings_page(request, session, user, error=exc, submitted=submitted)
    return RedirectResponse("/listening/settings?notice=rules", status_code=303)


@router.post("/listening/settings")
def save_settings(request: Request, form: PostedForm, user: Supervisor,
                  session: WriteSession) -> Response:
    changes: dict[str, Any] = {flag: form.get(flag) == "on"
                               for flag in ("opportunities_enabled", "noise_filter")}
    for key in ("opportunity_wait_minutes", "defensive_wait_minutes",
                "search_interval_seconds"):
        raw = form_value(form, key)
        changes[key] = int(raw) if raw.isdigit() and len(raw) < 10 else raw[:20]
    try:
        service.update_settings(session, user.workspace_id, changes, user.actor)
    except ThreadlineError as exc:
        return _settings_page(request, session, user, error=exc)
    return RedirectResponse("/listening/settings?notice=settings", status_code=303)


@router.post("/listening/search")
def search_now(user: Supervisor, session: WriteSession) -> Response:
    service.schedule_search(session, user.workspace_id)
    return RedirectResponse("/listening?notice=search", status_code=303)


@router.post("/listening/posts/{post_id}/convert")
def convert(post_id: uuid.UUID, user: Anyone, session: WriteSession,
            runtime: RuntimeDep) -> Response:
    conv = service.convert_post(session, runtime.settings, user.workspace_id, post_id,
                                user.actor)
    return RedirectResponse(f"/conversations/{conv.id}", status_code=303)


@router.post("/listening/posts/{post_id}/restore")
def restore(post_id: uuid.UUID, user: Anyone, session: WriteSession,
            runtime: RuntimeDep) -> Response:
    service.restore_post(session, runtime.settings, user.workspace_id, post_id, user.actor)
    return RedirectResponse("/listening/filtered?notice=restored", status_code=303)
