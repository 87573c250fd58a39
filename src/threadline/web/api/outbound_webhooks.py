"""REST: outbound webhooks (admins). Subscriptions (a URL, the event types it gets, a signing
secret shown once) and their delivery log with response codes, and manual redelivery.

    GET    /api/v1/webhooks                         the workspace's subscriptions
    POST   /api/v1/webhooks                         add one (201, with its secret)
    GET    /api/v1/webhooks/{id}                    one subscription
    PATCH  /api/v1/webhooks/{id}                    change, enable/disable, rotate the secret
    DELETE /api/v1/webhooks/{id}                    remove it and its log
    GET    /api/v1/webhooks/deliveries              the log, newest first (?subscription_id=)
    GET    /api/v1/webhooks/deliveries/{id}         one delivery with its body and attempts
    POST   /api/v1/webhooks/deliveries/{id}/redeliver   send it again now (same event id)

A URL that is not https or resolves to an internal address (unless the operator allows it)
and an unknown event type are 422s naming the field; nothing is stored. docs/integrations.md
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from threadline.adapters.config import url_policy
from threadline.errors import NotFound
from threadline.integrations.webhooks import service
from threadline.integrations.webhooks.schemas import (
    DeliveryDetail,
    DeliveryList,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionUpdate,
)
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, RuntimeDep, WriteSession, admin

router = APIRouter(tags=["outbound webhooks"])
Admin = Annotated[Principal, Depends(admin)]
MAX_ID = 2**62


@router.get("/webhooks", response_model=SubscriptionList, responses=errors(role=True))
def list_subscriptions(principal: Admin, session: ReadSession) -> SubscriptionList:
    return SubscriptionList(subscriptions=[service.subscription_out(s) for s in
                                           service.list_subscriptions(session,
                                                                      principal.workspace_id)])


@router.post("/webhooks", response_model=SubscriptionCreated, status_code=201,
             responses=errors(role=True))
def create_subscription(body: SubscriptionIn, principal: Admin, session: WriteSession,
                        runtime: RuntimeDep) -> SubscriptionCreated:
    """A subscription; the response carries its secret (`whsec_…`), shown only this once."""
    return service.create_subscription(session, principal.workspace_id, body, principal.actor,
                                       url_policy(runtime.settings))


@router.get("/webhooks/deliveries", response_model=DeliveryList, responses=errors(
    NotFound, role=True))
def list_deliveries(principal: Admin, session: ReadSession,
                    subscription_id: uuid.UUID | None = None,
                    status: Literal["pending", "delivered", "failed"] | None = None,
                    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeliveryList:
    rows, more = service.list_deliveries(session, principal.workspace_id,
                                         subscription_id=subscription_id, status=status,
                                         before=before, limit=limit)
    return DeliveryList(deliveries=rows, next_before=more)


@router.get("/webhooks/deliveries/{delivery_id}", response_model=DeliveryDetail,
            responses=errors(NotFound, role=True))
def get_delivery(delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: Admin,
                 session: ReadSession) -> DeliveryDetail:
    return service.delivery_detail(session, principal.workspace_id, delivery_id)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut,
             status_code=202, responses=errors(NotFound, role=True))
def redeliver(delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: Admin,
              session: WriteSession) -> DeliveryOut:
    """Queue the delivery again now, with the same `webhook-id` (422 when its subscription
    is disabled)."""
    service.redeliver(session, principal.workspace_id, delivery_id, principal.actor)
    session.flush()
    return service.delivery_out(service.access_delivery(session, principal.workspace_id,
                                                        delivery_id))


@router.get("/webhooks/{subscription_id}", response_model=SubscriptionOut,
            responses=errors(NotFound, role=True))
def get_subscription(subscription_id: uuid.UUID, principal: Admin,
                     session: ReadSession) -> SubscriptionOut:
    return service.subscription_out(service.access_subscription(
        session, principal.workspace_id, subscription_id))


@router.patch("/webhooks/{subscription_id}", response_model=SubscriptionCreated | SubscriptionOut,
              responses=errors(NotFound, role=True))
def update_subscription(subscription_id: uuid.UUID, body: SubscriptionUpdate,
                        principal: Admin, session: WriteSession,
                        runtime: RuntimeDep) -> SubscriptionOut:
    """Change it; with `rotate_secret` the response carries the new secret (shown once)."""
    row, secret = service.update_subscription(session, principal.workspace_id,
                                              subscription_id, body, principal.actor,
                                              url_policy(runtime.settings))
    session.flush()
    out = service.subscription_out(row)
    return SubscriptionCreated(**out.model_dump(), secret=secret) if secret else out


@router.delete("/webhooks/{subscription_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_subscription(subscription_id: uuid.UUID, principal: Admin,
                        session: WriteSession) -> Response:
    service.delete_subscription(session, principal.workspace_id, subscription_id,
                                principal.actor)
    return Response(status_code=204)
