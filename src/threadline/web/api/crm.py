"""REST: CRM sync (Salesforce, HubSpot).

    GET    /api/v1/crm/connections                  admins: the workspace's connections
    POST   /api/v1/crm/connections                  admins: add one (URL, credentials, fields
                                                    checked: a typed 422 names the field)
    GET    /api/v1/crm/connections/{id}             admins
    PATCH  /api/v1/crm/connections/{id}             admins: change, rotate credentials
    DELETE /api/v1/crm/connections/{id}             admins: remove it with its links and log
    POST   /api/v1/crm/connections/{id}/backfill    admins: push every existing conversation
    GET    /api/v1/crm/connections/{id}/backfill    admins: the progress (done of total)
    GET    /api/v1/customers/{id}/crm               agents: links, pulled fields, sync log
    POST   /api/v1/customers/{id}/crm/refresh       agents: match and pull again (a job)

Credentials are write-only: no answer carries them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from threadline.adapters.config import url_policy
from threadline.errors import Conflict, NotFound
from threadline.integrations.crm import service
from threadline.integrations.crm.models import CrmConnection
from threadline.integrations.crm.schemas import (
    BackfillOut,
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    CustomerCrmOut,
)
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    RuntimeDep,
    WriteSession,
    admin,
    current_principal,
)

router = APIRouter(tags=["crm"])
Admin = Annotated[Principal, Depends(admin)]
Agent = Annotated[Principal, Depends(current_principal)]


def _backfill(conn: CrmConnection) -> BackfillOut:
    return BackfillOut(connection_id=conn.id, total=conn.backfill_total,
                       done=conn.backfill_done, started_at=conn.backfill_started_at)


@router.get("/crm/connections", response_model=list[ConnectionOut],
            responses=errors(role=True))
def list_connections(principal: Admin, session: ReadSession) -> list[ConnectionOut]:
    return [ConnectionOut.model_validate(c)
            for c in service.list_connections(session, principal.workspace_id)]


@router.post("/crm/connections", response_model=ConnectionOut, status_code=201,
             responses=errors(Conflict, role=True))
def create_connection(body: ConnectionIn, principal: Admin, session: WriteSession,
                      runtime: RuntimeDep) -> ConnectionOut:
    conn = service.create_connection(session, principal.workspace_id, body,
                                     url_policy(runtime.settings), principal.actor)
    return ConnectionOut.model_validate(conn)


@router.get("/crm/connections/{connection_id}", response_model=ConnectionOut,
            responses=errors(NotFound, role=True))
def get_connection(connection_id: uuid.UUID, principal: Admin,
                   session: ReadSession) -> ConnectionOut:
    return ConnectionOut.model_validate(
        service.access_connection(session, principal.workspace_id, connection_id))


@router.patch("/crm/connections/{connection_id}", response_model=ConnectionOut,
              responses=errors(NotFound, role=True))
def update_connection(connection_id: uuid.UUID, body: ConnectionPatch, principal: Admin,
                      session: WriteSession, runtime: RuntimeDep) -> ConnectionOut:
    conn = service.access_connection(session, principal.workspace_id, connection_id)
    return ConnectionOut.model_validate(service.update_connection(
        session, conn, body, url_policy(runtime.settings), principal.actor))


@router.delete("/crm/connections/{connection_id}", status_code=204,
               responses=errors(NotFound, role=True))
def delete_connection(connection_id: uuid.UUID, principal: Admin,
                      session: WriteSession) -> Response:
    conn = service.access_connection(session, principal.workspace_id, connection_id)
    service.delete_connection(session, conn, principal.actor)
    return Response(status_code=204)


@router.post("/crm/connections/{connection_id}/backfill", response_model=BackfillOut,
             status_code=202, responses=errors(NotFound, Conflict, role=True))
def start_backfill(connection_id: uuid.UUID, principal: Admin,
                   session: WriteSession) -> BackfillOut:
    conn = service.access_connection(session, principal.workspace_id, connection_id)
    return _backfill(service.start_backfill(session, conn, principal.actor))


@router.get("/crm/connections/{connection_id}/backfill", response_model=BackfillOut,
            responses=errors(NotFound, role=True))
def backfill_progress(connection_id: uuid.UUID, principal: Admin,
                      session: ReadSession) -> BackfillOut:
    return _backfill(service.access_connection(session, principal.workspace_id,
                                               connection_id))


@router.get("/customers/{customer_id}/crm", response_model=CustomerCrmOut,
            responses=errors(NotFound))
def customer_crm(customer_id: uuid.UUID, principal: Agent,
                 session: ReadSession) -> CustomerCrmOut:
    found = service.customer_crm(session, principal.workspace_id, customer_id)
    return CustomerCrmOut(customer_id=found.customer_id, links=found.links, log=found.log)


@router.post("/customers/{customer_id}/crm/refresh", status_code=202,
             responses=errors(NotFound))
def refresh(customer_id: uuid.UUID, principal: Agent, session: WriteSession) -> dict[str, int]:
    return {"queued": service.request_refresh(session, principal.workspace_id, customer_id)}
