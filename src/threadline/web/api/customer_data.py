"""REST: the customer data connector. The workspace's endpoint (admins: read, create or
change, rotate the secret, delete; the secret is shown once) and a customer's data as the
brand's endpoint gives it (any agent). The brand's endpoint failing or timing out is not an
error of this API: the answer is 200 with `state` `failed` or `timeout` and a typed `error`
(decision 0320); a customer of another workspace is a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from threadline.adapters.config import url_policy
from threadline.errors import NotFound
from threadline.integrations.lookup import service
from threadline.integrations.lookup.models import LookupEndpoint
from threadline.integrations.lookup.schemas import (
    LookupConfigIn,
    LookupConfigOut,
    LookupOut,
)
from threadline.jobs.runtime import Runtime
from threadline.web.contract import errors
from threadline.web.deps import (
    BearerCredentials,
    Principal,
    ReadSession,
    WriteSession,
    admin,
    get_runtime,
    principal_from,
)

router = APIRouter(tags=["customer data"])
Admin = Annotated[Principal, Depends(admin)]
PATH = "/integrations/customer-data"


def _config(endpoint: LookupEndpoint, secret: str | None = None) -> LookupConfigOut:
    """Field by field: the stored secret is never read into an answer; `secret` is the one
    just made."""
    return LookupConfigOut(url=endpoint.url, enabled=endpoint.enabled,
                           timeout_seconds=endpoint.timeout_seconds,
                           cache_seconds=endpoint.cache_seconds,
                           secret_set_at=endpoint.secret_set_at,
                           updated_at=endpoint.updated_at, secret=secret)


@router.get(PATH, response_model=LookupConfigOut, responses=errors(NotFound, role=True))
def get_config(principal: Admin, session: ReadSession) -> LookupConfigOut:
    return _config(service.access_endpoint(session, principal.workspace_id))


@router.put(PATH, response_model=LookupConfigOut, responses=errors(role=True))
def put_config(body: LookupConfigIn, principal: Admin, session: WriteSession,
               runtime: Annotated[Runtime, Depends(get_runtime)]) -> LookupConfigOut:
    """Create or change the endpoint. The answer that creates it carries its signing secret,
    the only time it is shown."""
    endpoint, secret = service.save_endpoint(session, principal.workspace_id, body,
                                             url_policy(runtime.settings), principal.actor)
    return _config(endpoint, secret)


@router.post(f"{PATH}/secret", response_model=LookupConfigOut,
             responses=errors(NotFound, role=True))
def rotate_secret(principal: Admin, session: WriteSession) -> LookupConfigOut:
    """A new signing secret, shown in this answer only; the old one stops at once."""
    endpoint, secret = service.rotate_secret(session, principal.workspace_id, principal.actor)
    return _config(endpoint, secret)


@router.delete(PATH, status_code=204, responses=errors(NotFound, role=True))
def delete_config(principal: Admin, session: WriteSession) -> None:
    service.delete_endpoint(session, principal.workspace_id, principal.actor)


def _short_principal(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)],
                     credentials: BearerCredentials) -> Principal:
    """The caller, read in a transaction of its own that is closed before the lookup waits
    on the network."""
    session: Session
    with runtime.db.session(write=False) as session:
        return principal_from(request, session, credentials)


@router.get("/customers/{customer_id}/data", response_model=LookupOut,
            responses=errors(NotFound))
def customer_data(customer_id: uuid.UUID,
                  principal: Annotated[Principal, Depends(_short_principal)],
                  runtime: Annotated[Runtime, Depends(get_runtime)],
                  refresh: Annotated[bool, Query(
                      description="skip the cached answer and ask the endpoint now")] = False,
                  ) -> LookupOut:
    """What the brand's own system says about the customer (orders, subscriptions, balance,
    tickets): the cached answer while fresh, else one call with the configured timeout."""
    result = service.customer_data(runtime, url_policy(runtime.settings),
                                   principal.workspace_id, customer_id, refresh=refresh)
    return service.as_out(result)
