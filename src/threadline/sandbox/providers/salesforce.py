"""Sandbox side of Salesforce's REST API (see integrations/crm/salesforce/README.md): the
OAuth client-credentials token endpoint, SOQL `/query` (the small subset Threadline
sends: SELECT fields FROM object WHERE field = 'literal' LIMIT n), SOSL `/search`
(FIND {phone} IN PHONE FIELDS RETURNING Contact(...)), and `/sobjects` create, read,
update and upsert by external id (201 created, 200 updated, 300 several matches), with
Salesforce's error arrays and `Sforce-Limit-Info`.

Connections point `base_url` at sandbox base + PREFIX; the token's `instance_url` is the same.
Client credentials: any client id with a secret starting `sfsecret-`. Sessions: tokens this
fake issued; `POST {PREFIX}/_sandbox/expire-sessions` expires them all (the next call gets
401 INVALID_SESSION_ID). Faults (403 REQUEST_LIMIT_EXCEEDED, 5xx) come from the sandbox's
fault injection with a Salesforce error body.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

PREFIX = "/salesforce"
router = APIRouter()
API_LIMIT = 15_000
FIELDS: dict[str, frozenset[str]] = {
    "Contact": frozenset({
        "Id", "Name", "FirstName", "LastName", "Salutation", "Email", "Phone", "MobilePhone",
        "HomePhone", "Title", "Department", "AccountId", "LeadSource", "MailingCity",
        "MailingCountry", "MailingPostalCode", "MailingStreet", "OwnerId", "Birthdate",
        "Description", "CreatedDate", "LastModifiedDate", "LastActivityDate",
        "HasOptedOutOfEmail", "Threadline_Customer_Id__c"}),
    "Account": frozenset({
        "Id", "Name", "Industry", "Type", "AnnualRevenue", "NumberOfEmployees", "Website",
        "Phone", "BillingCity", "BillingCountry", "Rating", "OwnerId", "AccountNumber",
        "Description", "CreatedDate", "LastModifiedDate"}),
    "Task": frozenset({
        "Id", "Subject", "Description", "WhoId", "WhatId", "Status", "Priority",
        "ActivityDate", "TaskSubtype", "OwnerId", "CreatedDate", "LastModifiedDate",
        "Threadline_Conversation_Id__c"}),
}
ID_PREFIX = {"Contact": "003", "Account": "001", "Task": "00T"}
EXTERNAL_IDS = {"Contact": {"Threadline_Customer_Id__c"},
                "Task": {"Threadline_Conversation_Id__c"}, "Account": set()}
_SOQL = re.compile(
    r"^SELECT\s+(?P<fields>[A-Za-z0-9_.,\s]+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<field>\w+)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)')?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.IGNORECASE)
_SOSL = re.compile(r"^FIND\s+\{(?P<term>(?:[^{}\\]|\\.)*)\}\s+IN\s+PHONE\s+FIELDS\s+RETURNING"
                   r"\s+Contact\((?P<fields>[A-Za-z0-9_,\s]+)\)\s*$", re.IGNORECASE)
_VERSION = re.compile(r"^v\d{2,3}\.\d$")


class _Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in FIELDS}
        self.sessions: set[str] = set()
        self.usage = 0


STORE = _Store()


def _limit_header() -> dict[str, str]:
    with STORE.lock:
        STORE.usage += 1
        used = STORE.usage
    return {"Sforce-Limit-Info": f"api-usage={used}/{API_LIMIT}"}


def _answer(body: Any, status: int = 200) -> Response:
    if body is None:
        return Response(status_code=status, headers=_limit_header())
    return JSONResponse(body, status_code=status, headers=_limit_header())


def _error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    return _answer([{"message": message, "errorCode": code, "fields": fields or []}], status)


def _session(request: Request, version: str) -> Response | None:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip()
    with STORE.lock:
        valid = header.startswith("Bearer ") and token in STORE.sessions
    if not valid:
        return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    if not _VERSION.match(version):
        return _error(404, "NOT_FOUND", "The requested resource does not exist")
    return None


def _instance(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _attributes(request: Request, version: str, sobject: str, record_id: str) -> dict[str, Any]:
    return {"type": sobject,
            "url": f"/services/data/{version}/sobjects/{sobject}/{record_id}"}


def _shown(request: Request, version: str, sobject: str, record: dict[str, Any],
           fields: list[str]) -> dict[str, Any]:
    return {"attributes": _attributes(request, version, sobject, record["Id"]),
            **{f: record.get(f) for f in fields}}


# --- auth ---------------------------------------------------------------------------------


@router.post("/services/oauth2/token")
async def token(request: Request) -> Response:
    form = await request.form()
    client_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id = secret = ""
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type",
                             "error_description": "grant type not supported"}, 400)
    if not client_id or not secret.startswith("sfsecret-"):
        return JSONResponse({"error": "invalid_client",
                             "error_description": "invalid client credentials"}, 400)
    access = f"00Dsandbox!{uuid.uuid4().hex}"
    with STORE.lock:
        STORE.sessions.add(access)
    now = int(datetime.now(UTC).timestamp() * 1000)
    return JSONResponse({"access_token": access, "instance_url": _instance(request),
                         "id": f"{_instance(request)}/id/00Dsandbox/005sandbox",
                         "token_type": "Bearer", "issued_at": str(now),
                         "signature": base64.b64encode(uuid.uuid4().bytes).decode(),
                         "scope": "api"})


@router.post("/_sandbox/expire-sessions")
def expire_sessions() -> dict[str, Any]:
    with STORE.lock:
        count = len(STORE.sessions)
        STORE.sessions.clear()
    return {"expired": count}


# --- records ------------------------------------------------------------------------------


def _check_fields(sobject: str, body: Any) -> Response | None:
    if sobject not in FIELDS:
        return _error(404, "NOT_FOUND", f"The requested resource does not exist: {sobject[:40]}")
    if not isinstance(body, dict):
        return _error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
    for name in body:
        if name not in FIELDS[sobject] or name == "Id":
            return _error(400, "INVALID_FIELD",
                          f"No such column '{name[:60]}' on sobject of type {sobject}", [name])
    email = body.get("Email")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        return _error(400, "INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}",
                      ["Email"])
    return None


def _store(sobject: str, values: dict[str, Any],
           record: dict[str, Any] | None = None) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if record is None:
        record_id = f"{ID_PREFIX[sobject]}{next(STORE.ids):015d}"
        record = {"Id": record_id, "CreatedDate": now}
        STORE.records[sobject][record_id] = record
    record.update(values)
    record["LastModifiedDate"] = now
    if sobject == "Contact":
        record["Name"] = " ".join(str(record[k]) for k in ("FirstName", "LastName")
                                  if record.get(k))
    return record


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


@router.post("/services/data/{version}/sobjects/{sobject}")
async def create(version: str, sobject: str, request: Request) -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    body = await _body(request)
    if (refused := _check_fields(sobject, body)) is not None:
        return refused
    if sobject in ("Contact",) and not body.get("LastName"):
        return _error(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]",
                      ["LastName"])
    if sobject == "Account" and not body.get("Name"):
        return _error(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]",
                      ["Name"])
    with STORE.lock:
        record = _store(sobject, body)
    return _answer({"id": record["Id"], "success": True, "errors": []}, 201)


@router.get("/services/data/{version}/sobjects/{sobject}/{record_id}")
def read(version: str, sobject: str, record_id: str, request: Request,
         fields: str | None = None) -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    if sobject not in FIELDS:
        return _error(404, "NOT_FOUND", "The requested resource does not exist")
    wanted = [f.strip() for f in (fields or "").split(",") if f.strip()] or sorted(
        FIELDS[sobject])
    for name in wanted:
        if name not in FIELDS[sobject]:
            return _error(400, "INVALID_FIELD",
                          f"No such column '{name[:60]}' on entity '{sobject}'", [name])
    with STORE.lock:
        record = STORE.records[sobject].get(record_id)
        shown = _shown(request, version, sobject, record, wanted) if record else None
    if shown is None:
        return _error(404, "NOT_FOUND", "The requested resource does not exist")
    return _answer(shown)


@router.patch("/services/data/{version}/sobjects/{sobject}/{record_id}")
async def update(version: str, sobject: str, record_id: str, request: Request) -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    body = await _body(request)
    if (refused := _check_fields(sobject, body)) is not None:
        return refused
    with STORE.lock:
        record = STORE.records[sobject].get(record_id)
        if record is not None:
            _store(sobject, body, record)
    if record is None:
        return _error(404, "NOT_FOUND", "The requested resource does not exist")
    return _answer(None, 204)


@router.patch("/services/data/{version}/sobjects/{sobject}/{field}/{value}")
async def upsert(version: str, sobject: str, field: str, value: str,
                 request: Request) -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    body = await _body(request)
    if (refused := _check_fields(sobject, body)) is not None:
        return refused
    if field not in EXTERNAL_IDS.get(sobject, set()):
        return _error(400, "INVALID_FIELD",
                      f"Provided external ID field does not exist or is not accessible: "
                      f"{field[:60]}", [field])
    with STORE.lock:
        found = [r for r in STORE.records[sobject].values() if r.get(field) == value]
        if len(found) > 1:
            return _answer([f"/services/data/{version}/sobjects/{sobject}/{r['Id']}"
                            for r in found], 300)
        if found:
            record = _store(sobject, body, found[0])
            return _answer({"id": record["Id"], "success": True, "errors": [],
                            "created": False}, 200)
        if sobject == "Contact" and not body.get("LastName"):
            return _error(400, "REQUIRED_FIELD_MISSING",
                          "Required fields are missing: [LastName]", ["LastName"])
        record = _store(sobject, {**body, field: value})
    return _answer({"id": record["Id"], "success": True, "errors": [], "created": True}, 201)


# --- query and search ---------------------------------------------------------------------


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


@router.get("/services/data/{version}/query")
def query(version: str, request: Request, q: str = "") -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    match = _SOQL.match(q.strip())
    if not match or match["object"] not in FIELDS:
        return _error(400, "MALFORMED_QUERY", "unexpected token in query")
    sobject = match["object"]
    fields = [f.strip() for f in match["fields"].split(",") if f.strip()]
    for name in fields + ([match["field"]] if match["field"] else []):
        if name not in FIELDS[sobject]:
            return _error(400, "INVALID_FIELD",
                          f"No such column '{name[:60]}' on entity '{sobject}'")
    limit = int(match["limit"]) if match["limit"] else 2000
    with STORE.lock:
        rows = list(STORE.records[sobject].values())
        if match["field"]:
            wanted = _unescape(match["value"])
            rows = [r for r in rows if str(r.get(match["field"]) or "").lower()
                    == wanted.lower()] if match["field"] == "Email" else [
                r for r in rows if str(r.get(match["field"]) or "") == wanted]
        records = [_shown(request, version, sobject, r, fields) for r in rows[:limit]]
    return _answer({"totalSize": len(records), "done": True, "records": records})


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@router.get("/services/data/{version}/search")
@router.get("/services/data/{version}/search/")
def search(version: str, request: Request, q: str = "") -> Response:
    if (refused := _session(request, version)) is not None:
        return refused
    match = _SOSL.match(q.strip())
    if not match:
        return _error(400, "MALFORMED_SEARCH", "No search term found or unsupported query")
    fields = [f.strip() for f in match["fields"].split(",") if f.strip()]
    if any(f not in FIELDS["Contact"] for f in fields):
        return _error(400, "INVALID_FIELD", "No such column on entity 'Contact'")
    term = _digits(_unescape(match["term"]))
    with STORE.lock:
        found = [r for r in STORE.records["Contact"].values()
                 if term and any(_digits(str(r.get(k) or "")).endswith(term[-10:])
                                 for k in ("Phone", "MobilePhone", "HomePhone")
                                 if r.get(k))]
        records = [_shown(request, version, "Contact", r, fields) for r in found]
    return _answer({"searchRecords": records})
