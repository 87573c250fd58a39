"""REST for hops, callbacks, consent and verification, and the offered channels (under
/api/v1). Agents offer hops and send the follow-up; supervisors list the hopped conversations
without a public close-out; admins edit the offered channels."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from threadline.contacts.models import Consent, Identity
from threadline.contacts.service import access_customer, record_consent, revoke_consent
from threadline.conversations.schemas import ConversationOut, MessageOut
from threadline.conversations.service import access_conversation
from threadline.errors import NotFound, PolicyViolation
from threadline.hops.flow import details as details_flow
from threadline.hops.flow import offers as flows
from threadline.hops.flow.callbacks import sync_outcomes
from threadline.hops.flow.contact import send_verification
from threadline.hops.flow.marks import taker_out
from threadline.hops.flow.schemas import (
    CallbackIn,
    CallbackOut,
    CancelIn,
    ConsentCreated,
    ConsentIn,
    ConsentRevoked,
    DetailRequestCreated,
    DetailRequestIn,
    DetailRequestOut,
    FollowUpIn,
    FollowUpOut,
    HopIn,
    HopOfferOut,
    HopOut,
    OfferedChannelsIn,
    OfferedChannelsOut,
    OutcomeIn,
    RescheduleIn,
    ResolveOut,
    TakerOut,
    VerificationIn,
    VerificationOut,
)
from threadline.hops.records import callbacks, details, options, service, takers
from threadline.jobs.runtime import Runtime
from threadline.schema_types import CallbackState
from threadline.web.api.conversations import message_out
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    WriteSession,
    admin,
    current_principal,
    get_runtime,
    supervisor,
)

router = APIRouter()  # tags per route: hops, callbacks, customers, settings, conversations
Agent = Annotated[Principal, Depends(current_principal)]
Writer = WriteSession


def link_base(request: Request, runtime: Runtime) -> str:
    """Where customers reach the short links: the configured public URL, else this host."""
    return runtime.settings.public_url or str(request.base_url)


@router.post("/conversations/{conversation_id}/detail-requests",
             response_model=DetailRequestCreated, status_code=201, tags=["hops"],
             responses=errors(NotFound, PolicyViolation))
def request_details(conversation_id: uuid.UUID, body: DetailRequestIn, request: Request,
                    principal: Agent, session: Writer,
                    runtime: Annotated[Runtime, Depends(get_runtime)]) -> DetailRequestCreated:
    """Ask the customer for details (a delivery address, an order number, a date of birth,
    an email or phone) on a signed single-use form, sent as a private reply. The values are
    stored encrypted, listed below, and refused in public replies."""
    sent = details_flow.request_details(session, principal.workspace_id, conversation_id,
                                        list(body.fields), principal.actor,
                                        base_url=link_base(request, runtime), note=body.note)
    [row] = details.as_rows([sent.request])
    return DetailRequestCreated(request=DetailRequestOut.model_validate(row), url=sent.url,
                                message=message_out(sent.message))


@router.get("/conversations/{conversation_id}/detail-requests",
            response_model=list[DetailRequestOut], tags=["hops"], responses=errors(NotFound))
def list_detail_requests(conversation_id: uuid.UUID, principal: Agent,
                         session: Writer) -> list[DetailRequestOut]:
    """The secure forms sent in this conversation, with what the customer gave."""
    access_conversation(session, principal.workspace_id, conversation_id)
    return [DetailRequestOut.model_validate(row)
            for row in details.as_rows(details.requests_of(session, conversation_id))]


@router.post("/conversations/{conversation_id}/hops", response_model=HopOfferOut,
             status_code=201, tags=["hops"], responses=errors(NotFound, PolicyViolation))
def offer_hop(conversation_id: uuid.UUID, body: HopIn, request: Request, principal: Agent,
              session: Writer, runtime: Annotated[Runtime, Depends(get_runtime)],
              ) -> HopOfferOut:
    result = flows.offer(session, principal.workspace_id, conversation_id, method=body.method,
                         reason=body.reason, actor=principal.actor,
                         base_url=link_base(request, runtime), text=body.text,
                         channel_account_id=body.channel_account_id,
                         choices=list(body.choices) if body.choices else None)
    return HopOfferOut(hop=HopOut.model_validate(result.hop), url=result.url,
                       message=message_out(result.message) if result.message else None)


@router.get("/conversations/{conversation_id}/hops", response_model=list[HopOut],
            tags=["hops"], responses=errors(NotFound))
def list_hops(conversation_id: uuid.UUID, principal: Agent, session: Writer) -> list[HopOut]:
    conv = access_conversation(session, principal.workspace_id, conversation_id)
    hops = service.hops_of(session, conv.id)
    flows.sync_taken(session, hops)
    return [HopOut.model_validate(h) for h in hops]


@router.get("/hops", response_model=list[HopOut], tags=["hops"], responses=errors(role=True))
def workspace_hops(principal: Annotated[Principal, Depends(supervisor)], session: Writer,
                   open_public_closeout: bool = True, resolved_only: bool = False,
                   limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[HopOut]:
    """Supervisors: hopped conversations without a public close-out (all hops with
    `open_public_closeout=false`)."""
    rows = service.list_hops(session, principal.workspace_id,
                             open_public_closeout=open_public_closeout,
                             resolved_only=resolved_only, limit=limit)
    flows.sync_taken(session, [hop for hop, _ in rows])
    return [HopOut.model_validate(hop).with_status(conv.status) for hop, conv in rows]


@router.post("/conversations/{conversation_id}/resolve", response_model=ResolveOut,
             tags=["conversations"], responses=errors(NotFound))
def resolve(conversation_id: uuid.UUID, principal: Agent, session: Writer) -> ResolveOut:
    """Resolve; a hopped conversation gets its public follow-up drafted."""
    conv, draft = flows.resolve(session, principal.workspace_id, conversation_id,
                                principal.actor)
    return ResolveOut(conversation=ConversationOut.model_validate(conv), follow_up_draft=draft)


@router.get("/conversations/{conversation_id}/follow-up", response_model=FollowUpOut,
            tags=["hops"], responses=errors(NotFound))
def get_follow_up(conversation_id: uuid.UUID, principal: Agent,
                  session: Writer) -> FollowUpOut:
    draft = flows.draft_follow_up(session, principal.workspace_id, conversation_id)
    return FollowUpOut(draft=draft)


@router.post("/conversations/{conversation_id}/follow-up", response_model=MessageOut,
             status_code=201, tags=["hops"], responses=errors(NotFound, PolicyViolation))
def send_follow_up(conversation_id: uuid.UUID, body: FollowUpIn, principal: Agent,
                   session: Writer) -> MessageOut:
    message = flows.send_follow_up(session, principal.workspace_id, conversation_id,
                                   principal.actor, text=body.text)
    return message_out(message)


@router.post("/takers/{taker_id}/confirm", response_model=TakerOut, tags=["hops"],
             responses=errors(NotFound))
def confirm_taker(taker_id: uuid.UUID, principal: Agent, session: Writer) -> TakerOut:
    """An agent confirms that whoever took a public link is the public author: his customer is
    merged into the author's (audited, undoable like any merge)."""
    taker = takers.access_taker(session, principal.workspace_id, taker_id)
    takers.prove(session, taker, by="agent", actor=principal.actor)
    return taker_out(session, taker)


# --- callbacks ---------------------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/callbacks", response_model=CallbackOut,
             status_code=201, tags=["callbacks"], responses=errors(NotFound, PolicyViolation))
def request_callback(conversation_id: uuid.UUID, body: CallbackIn, principal: Agent,
                     session: Writer) -> CallbackOut:
    """An agent schedules a call; the number needs the customer's consent for callbacks."""
    conv = access_conversation(session, principal.workspace_id, conversation_id)
    callback = callbacks.request_callback(
        session, principal.workspace_id, conv, phone=body.phone,
        window_start=body.window_start, window_end=body.window_end,
        actor_type=principal.actor.type, actor_id=principal.actor.id)
    return CallbackOut.model_validate(callback)


@router.get("/callbacks", response_model=list[CallbackOut], tags=["callbacks"],
            responses=errors())
def list_callbacks(principal: Agent, session: Writer,
                   state: Annotated[list[CallbackState] | None, Query()] = None,
                   conversation_id: uuid.UUID | None = None) -> list[CallbackOut]:
    items = callbacks.list_callbacks(session, principal.workspace_id,
                                     states=tuple(state) if state else None,
                                     conversation_id=conversation_id)
    sync_outcomes(session, items)
    return [CallbackOut.model_validate(c) for c in items]


@router.post("/callbacks/{callback_id}/place", response_model=CallbackOut, tags=["callbacks"],
             responses=errors(NotFound))
def place_now(callback_id: uuid.UUID, principal: Agent, session: Writer) -> CallbackOut:
    callback = callbacks.access_callback(session, principal.workspace_id, callback_id)
    callbacks.place_now(session, callback, actor_type=principal.actor.type,
                        actor_id=principal.actor.id)
    return CallbackOut.model_validate(callback)


@router.post("/callbacks/{callback_id}/outcome", response_model=CallbackOut,
             tags=["callbacks"], responses=errors(NotFound))
def outcome(callback_id: uuid.UUID, body: OutcomeIn, principal: Agent,
            session: Writer) -> CallbackOut:
    callback = callbacks.access_callback(session, principal.workspace_id, callback_id)
    callbacks.record_outcome(session, callback, body.outcome, body.note,
                             actor_type=principal.actor.type, actor_id=principal.actor.id)
    return CallbackOut.model_validate(callback)


@router.post("/callbacks/{callback_id}/reschedule", response_model=CallbackOut,
             tags=["callbacks"], responses=errors(NotFound, PolicyViolation))
def reschedule(callback_id: uuid.UUID, body: RescheduleIn, principal: Agent,
               session: Writer) -> CallbackOut:
    """Move a scheduled callback to another window (the consent is checked again)."""
    callback = callbacks.access_callback(session, principal.workspace_id, callback_id)
    callbacks.reschedule(session, callback, window_start=body.window_start,
                         window_end=body.window_end, actor_type=principal.actor.type,
                         actor_id=principal.actor.id)
    return CallbackOut.model_validate(callback)


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackOut, tags=["callbacks"],
             responses=errors(NotFound))
def cancel(callback_id: uuid.UUID, body: CancelIn, principal: Agent,
           session: Writer) -> CallbackOut:
    """Cancel a callback not placed yet."""
    callback = callbacks.access_callback(session, principal.workspace_id, callback_id)
    callbacks.cancel(session, callback, body.note, actor_type=principal.actor.type,
                     actor_id=principal.actor.id)
    return CallbackOut.model_validate(callback)


# --- consent and verification ------------------------------------------------------------------


@router.post("/customers/{customer_id}/consents", status_code=201, response_model=ConsentCreated,
             tags=["customers"], responses=errors(NotFound))
def add_consent(customer_id: uuid.UUID, body: ConsentIn, principal: Agent,
                session: Writer) -> ConsentCreated:
    """Consent the customer gave outside a form (verbally on a call, in a DM)."""
    customer = access_customer(session, principal.workspace_id, customer_id)
    consent = record_consent(session, principal.workspace_id, customer.id, kind=body.kind,
                             address=body.address, purpose=body.purpose, method=body.method,
                             wording=body.wording,
                             source=f"{principal.actor.type}:{principal.actor.id}")
    return ConsentCreated(id=consent.id)


@router.post("/customers/{customer_id}/consents/{consent_id}/revoke",
             response_model=ConsentRevoked, tags=["customers"], responses=errors(NotFound))
def revoke(customer_id: uuid.UUID, consent_id: uuid.UUID, principal: Agent,
           session: Writer) -> ConsentRevoked:
    customer = access_customer(session, principal.workspace_id, customer_id)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.customer_id != customer.id:
        raise NotFound("consent not found", code="consent_not_found")
    if consent.revoked_at is None:
        revoke_consent(session, consent)
    return ConsentRevoked(id=consent.id, revoked_at=str(consent.revoked_at))


@router.post("/customers/{customer_id}/identities/{identity_id}/verification",
             response_model=VerificationOut, status_code=201, tags=["customers"],
             responses=errors(NotFound, PolicyViolation))
def verify_identity(customer_id: uuid.UUID, identity_id: uuid.UUID, body: VerificationIn,
                    request: Request, principal: Agent, session: Writer,
                    runtime: Annotated[Runtime, Depends(get_runtime)]) -> VerificationOut:
    """Send a verification link over the coordinate; opening it verifies the identity."""
    customer = access_customer(session, principal.workspace_id, customer_id)
    identity = session.get(Identity, identity_id)
    if identity is None or identity.customer_id != customer.id:
        raise NotFound("identity not found", code="identity_not_found")
    conv = access_conversation(session, principal.workspace_id, body.conversation_id)
    message = send_verification(session, principal.workspace_id, identity, conv.id,
                                link_base(request, runtime), principal.actor)
    return VerificationOut(identity_id=identity.id, message_id=message.id)


# --- transparency of options -------------------------------------------------------------------


@router.get("/settings/offered-channels", response_model=OfferedChannelsOut, tags=["settings"],
            responses=errors(NotFound))
def get_offered(principal: Agent, session: Writer) -> OfferedChannelsOut:
    channels = options.offered_channels(session, principal.workspace_id)
    return OfferedChannelsOut(channels=channels, text=options.as_text(channels))


@router.put("/settings/offered-channels", response_model=OfferedChannelsOut, tags=["settings"],
            responses=errors(NotFound, role=True))
def set_offered(body: OfferedChannelsIn, principal: Annotated[Principal, Depends(admin)],
                session: Writer) -> OfferedChannelsOut:
    channels = options.set_offered_channels(
        session, principal.workspace_id, [c.model_dump() for c in body.channels],
        actor_type=principal.actor.type, actor_id=principal.actor.id)
    return OfferedChannelsOut(channels=channels, text=options.as_text(channels))
