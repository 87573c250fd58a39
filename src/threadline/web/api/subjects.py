"""REST: data-subject requests on a customer (admin only): export as a JSON archive, erase."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends
from starlette.responses import Response

from threadline.errors import NotFound
from threadline.subjects.schemas import ErasureOut
from threadline.subjects.service import erase_customer, export_customer
from threadline.web.contract import errors
from threadline.web.deps import Principal, WriteSession, admin

router = APIRouter(prefix="/customers", tags=["data-subject requests"])
Admin = Annotated[Principal, Depends(admin)]


def archive_response(archive: dict[str, object], customer_id: uuid.UUID) -> Response:
    """The archive as a download (the desktop serves the same file)."""
    return Response(orjson.dumps(archive, option=orjson.OPT_INDENT_2),
                    media_type="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="customer-{customer_id}.json"',
                             "Cache-Control": "no-store"})


@router.get("/{customer_id}/export", response_class=Response,
            responses={200: {"content": {"application/json": {}},
                             "description": "The archive, as an attachment."},
                       **errors(NotFound, role=True)})
def export(customer_id: uuid.UUID, principal: Admin, session: WriteSession) -> Response:
    """Everything Threadline holds about the customer, as one JSON archive (audited)."""
    archive = export_customer(session, principal.workspace_id, customer_id, principal.actor)
    return archive_response(archive, customer_id)


@router.post("/{customer_id}/erase", response_model=ErasureOut,
             responses=errors(NotFound, role=True))
def erase(customer_id: uuid.UUID, principal: Admin, session: WriteSession) -> ErasureOut:
    """Anonymise the customer (and every customer merged into him) across every table."""
    report = erase_customer(session, principal.workspace_id, customer_id, principal.actor)
    return ErasureOut.model_validate(report)
