"""The hop form's POST: validate the fields, let the hop flow take the link
(`threadline.hops.flow.takes`), render what comes next."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from threadline.errors import ThreadlineError
from threadline.hops.flow import takes
from threadline.hops.records import details, service
from threadline.web.hops.pages import (
    PAGE_PURPOSES,
    check_value,
    company_and_channels,
    error_page,
    form_page,
    message_page,
    page,
    runtime_of,
)


def take(request: Request, code: str, values: dict[str, str]) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.db.session(write=False) as session:
            link = service.open_link(session, code, PAGE_PURPOSES)
            try:
                purpose = takes.chosen_form(link, values)
            except ThreadlineError as exc:
                return form_page(request, session, link, code, error=exc.message, status=422)
            asked = details.request_of_link(session, link) if purpose == "details" else None
            problem = check_value(purpose, values, list(asked.fields) if asked else None)
            if problem is not None:
                return form_page(request, session, link, code, values=values, error=problem,
                                 status=422, purpose=purpose)
    except service.LinkUnavailable as exc:
        return error_page(request, runtime, code, exc)
    try:
        with runtime.db.session() as session:
            link = service.open_link(session, code, PAGE_PURPOSES)  # again, inside the writer
            base = company_and_channels(session, link.workspace_id)
            taken = takes.take(session, link, values, company=base["company"],
                               secret=runtime.settings.resolved_secret_key())
    except service.LinkUnavailable as exc:
        return error_page(request, runtime, code, exc)
    except ThreadlineError as exc:  # rolled back: the form again, nothing changed
        with runtime.db.session(write=False) as session:
            link = service.open_link(session, code, PAGE_PURPOSES)
            return form_page(request, session, link, code, values=values, error=exc.message,
                             status=exc.status if 400 <= exc.status < 500 else 422,
                             purpose=purpose)
    if taken.purpose == "chat":
        return page(request, "handoff.html", {
            **base, "account_id": str(taken.account_id), "token": taken.token,
            "proof": taken.proof, "chat_url": f"/webchat/{taken.account_id}"})
    if taken.purpose == "callback":
        return message_page(request, {**base, "proof": taken.proof}, "We will call you",
                            "Thank you. An agent will call you in the time you chose.",
                            code="callback_scheduled")
    if taken.purpose == "email":
        return message_page(request, {**base, "proof": taken.proof}, "We will write to you",
                            "Thank you. We will continue by email; look out for our "
                            "message.", code="email_started")
    if taken.purpose == "details":
        return message_page(request, base, "Thank you",
                            "We have your details; only our support team sees them. You can "
                            "close this page.", code="details_received")
    return message_page(request, base, "Thank you",
                        "Your address is confirmed. You can close this page.", code="verified")
