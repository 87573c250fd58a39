"""Sandbox side of HubSpot's CRM API (see integrations/crm/hubspot/README.md): CRM v3
objects (contacts, companies, notes, communications: create, read, update, search, batch
upsert), v4 associations, OAuth's refresh-token grant, and the rate-limit headers on every answer.

Accounts point `base_url` at sandbox base + PREFIX. Tokens: any private app token starting
`pat-`, or an access token this fake issued from a refresh token starting `refresh-`. An
unknown or expired token gets HubSpot's 401. `POST {PREFIX}/_sandbox/expire-tokens` expires
every issued OAuth token (a refresh follows). Faults (429 TEN_SECONDLY_ROLLING with
Retry-After, 5xx) come from the sandbox's fault injection.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

PREFIX = "/hubspot"
router = APIRouter()
OBJECT_TYPES = ("contacts", "companies", "notes", "communications")
PROPERTIES: dict[str, frozenset[str]] = {
    "contacts": frozenset({
        "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle",
        "lifecyclestage", "hs_lead_status", "city", "state", "country", "zip", "address",
        "website", "hubspot_owner_id", "createdate", "lastmodifieddate", "twitterhandle",
        "associatedcompanyid", "notes_last_updated", "num_notes", "hs_language",
        "annualrevenue", "industry", "numemployees", "threadline_customer_id", "hs_object_id"}),
    "companies": frozenset({
        "name", "domain", "industry", "numberofemployees", "annualrevenue", "city", "state",
        "country", "phone", "lifecyclestage", "type", "website", "description",
        "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "hs_object_id"}),
    "notes": frozenset({"hs_timestamp", "hs_note_body", "hubspot_owner_id",
                        "hs_attachment_ids", "hs_object_id"}),
    "communications": frozenset({"hs_timestamp", "hs_communication_channel_type",
                                 "hs_communication_logged_from", "hs_communication_body",
                                 "hubspot_owner_id", "hs_object_id"}),
}
UNIQUE = {"contacts": ("email", "threadline_customer_id"), "companies": ("domain",)}
RATE_MAX = 190


class _Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(100_001)
        self.objects: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in OBJECT_TYPES}
        self.assoc: set[tuple[str, str, str, str, int]] = set()
        self.tokens: set[str] = set()
        self.requests = 0


STORE = _Store()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def _headers() -> dict[str, str]:
    with STORE.lock:
        STORE.requests += 1
        used = STORE.requests % RATE_MAX
    return {"X-HubSpot-RateLimit-Max": str(RATE_MAX),
            "X-HubSpot-RateLimit-Remaining": str(RATE_MAX - used),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Daily": "1000000",
            "X-HubSpot-RateLimit-Daily-Remaining": str(1_000_000 - STORE.requests)}


def _answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_headers())


def _error(status: int, message: str, category: str, *,
           errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": "error", "message": message,
                            "correlationId": str(uuid.uuid4()), "category": category}
    if errors:
        body["errors"] = errors
    return _answer(body, status)


def _authorised(request: Request) -> JSONResponse | None:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    with STORE.lock:
        known = token in STORE.tokens
    if token.startswith("pat-") or known:
        return None
    return _error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                       "authentication and you can find more details at "
                       "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                  "INVALID_AUTHENTICATION")


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _bad_type(object_type: str) -> JSONResponse | None:
    if object_type not in OBJECT_TYPES:
        return _error(400, f"Unable to infer object type from: {object_type[:40]}",
                      "VALIDATION_ERROR")
    return None


def _check_properties(object_type: str, props: Any) -> JSONResponse | None:
    if not isinstance(props, dict):
        return _error(400, "Invalid input JSON on line 1: properties", "VALIDATION_ERROR")
    errors: list[dict[str, Any]] = [
        {"message": f'Property "{name}" does not exist', "code": "PROPERTY_DOESNT_EXIST",
         "context": {"propertyName": [name]}}
        for name in props if name not in PROPERTIES[object_type]]
    if object_type == "contacts" and props.get("email") is not None \
            and "@" not in str(props.get("email")):
        errors.append({"message": f"Email address {props['email']} is invalid",
                       "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}})
    if object_type in ("notes", "communications") and not props.get("hs_timestamp") \
            and errors == []:
        errors.append({"message": "hs_timestamp is required", "code": "REQUIRED_PROPERTY",
                       "context": {"propertyName": ["hs_timestamp"]}})
    if errors:
        return _error(400, f"Property values were not valid: {errors[0]['message']}",
                      "VALIDATION_ERROR", errors=errors)
    return None


def _view(obj: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    props = obj["properties"]
    shown = {k: props.get(k) for k in wanted} if wanted else dict(props)
    shown["hs_object_id"] = obj["id"]
    return {"id": obj["id"], "properties": shown, "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"], "archived": False}


def _find_unique(object_type: str, props: dict[str, Any]) -> dict[str, Any] | None:
    for name in UNIQUE.get(object_type, ()):
        value = props.get(name)
        if value in (None, ""):
            continue
        for obj in STORE.objects[object_type].values():
            if str(obj["properties"].get(name, "")).lower() == str(value).lower():
                return obj
    return None


def _new(object_type: str, props: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    object_id = str(next(STORE.ids))
    properties: dict[str, Any] = {k: None if v is None else str(v) for k, v in props.items()}
    properties["createdate"] = now
    obj: dict[str, Any] = {"id": object_id, "properties": properties, "createdAt": now,
                           "updatedAt": now}
    STORE.objects[object_type][object_id] = obj
    return obj


# --- auth ---------------------------------------------------------------------------------


@router.post("/oauth/v1/token")
async def token(request: Request) -> Response:
    form = await request.form()
    grant = form.get("grant_type")
    refresh = str(form.get("refresh_token") or "")
    if grant != "refresh_token" or not refresh.startswith("refresh-") \
            or not form.get("client_id") or not form.get("client_secret"):
        return _answer({"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh "
                        "token", "correlationId": str(uuid.uuid4())}, 400)
    access = f"oauth-{uuid.uuid4().hex}"
    with STORE.lock:
        STORE.tokens.add(access)
    return _answer({"token_type": "bearer", "refresh_token": refresh, "access_token": access,
                    "expires_in": 1800})


@router.post("/_sandbox/expire-tokens")
def expire_tokens() -> dict[str, Any]:
    with STORE.lock:
        count = len(STORE.tokens)
        STORE.tokens.clear()
    return {"expired": count}


# --- objects ------------------------------------------------------------------------------


@router.post("/crm/v3/objects/{object_type}", status_code=201)
async def create(object_type: str, request: Request) -> Response:
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    body = await _json(request)
    if not isinstance(body, dict):
        return _error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
    props = body.get("properties")
    if (refused := _check_properties(object_type, props)) is not None \
            or not isinstance(props, dict):
        return refused or _error(400, "Invalid input JSON", "VALIDATION_ERROR")
    associations = body.get("associations") or []
    with STORE.lock:
        existing = _find_unique(object_type, props)
        if existing is not None:
            return _error(409, f"Contact already exists. Existing ID: {existing['id']}",
                          "CONFLICT")
        for assoc in associations if isinstance(associations, list) else []:
            to = str((assoc.get("to") or {}).get("id", "")) if isinstance(assoc, dict) else ""
            if not any(to in objs for objs in STORE.objects.values()):
                return _error(400, f"One or more associations are invalid: {to[:20]}",
                              "VALIDATION_ERROR")
        obj = _new(object_type, props)
        for assoc in associations if isinstance(associations, list) else []:
            to = str(assoc["to"]["id"])
            to_type = next(t for t, objs in STORE.objects.items() if to in objs)
            for kind in assoc.get("types") or []:
                type_id = int(kind.get("associationTypeId", 0))
                STORE.assoc.add((object_type, obj["id"], to_type, to, type_id))
                STORE.assoc.add((to_type, to, object_type, obj["id"], type_id))
        view = _view(obj, None)
    return _answer(view, 201)


@router.get("/crm/v3/objects/{object_type}/{object_id}")
def read(object_type: str, object_id: str, request: Request,
         properties: str | None = None, idProperty: str | None = None) -> Response:
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    wanted = [p for p in (properties or "").split(",") if p] or None
    with STORE.lock:
        if idProperty:
            obj = next((o for o in STORE.objects[object_type].values()
                        if str(o["properties"].get(idProperty, "")).lower()
                        == object_id.lower()), None)
        else:
            obj = STORE.objects[object_type].get(object_id)
        view = _view(obj, wanted) if obj else None
    if view is None:
        return _error(404, "Object not found.  objectId are usually numeric.",
                      "OBJECT_NOT_FOUND")
    return _answer(view)


@router.patch("/crm/v3/objects/{object_type}/{object_id}")
async def patch(object_type: str, object_id: str, request: Request) -> Response:
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    body = await _json(request)
    props = body.get("properties") if isinstance(body, dict) else None
    if (refused := _check_properties(object_type, props)) is not None \
            or not isinstance(props, dict):
        return refused or _error(400, "Invalid input JSON", "VALIDATION_ERROR")
    with STORE.lock:
        obj = STORE.objects[object_type].get(object_id)
        if obj is not None:
            obj["properties"].update({k: None if v is None else str(v)
                                      for k, v in props.items()})
            obj["updatedAt"] = _now()
            obj["properties"]["lastmodifieddate"] = obj["updatedAt"]
        view = _view(obj, None) if obj else None
    if view is None:
        return _error(404, "Object not found.  objectId are usually numeric.",
                      "OBJECT_NOT_FOUND")
    return _answer(view)


@router.delete("/crm/v3/objects/{object_type}/{object_id}")
def archive(object_type: str, object_id: str, request: Request) -> Response:
    """Archive (HubSpot's delete): 204, even for an id that does not exist."""
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    with STORE.lock:
        STORE.objects[object_type].pop(object_id, None)
        STORE.assoc = {a for a in STORE.assoc if object_id not in (a[1], a[3])}
    return Response(status_code=204, headers=_headers())


def _matches(obj: dict[str, Any], flt: dict[str, Any]) -> bool:
    value = obj["properties"].get(str(flt.get("propertyName")))
    wanted = str(flt.get("value", ""))
    operator = flt.get("operator")
    if operator == "EQ":
        return value is not None and str(value).lower() == wanted.lower()
    if operator == "CONTAINS_TOKEN":
        return value is not None and wanted.lower().strip("*") in str(value).lower()
    if operator == "HAS_PROPERTY":
        return value not in (None, "")
    return False


@router.post("/crm/v3/objects/{object_type}/search")
async def search(object_type: str, request: Request) -> Response:
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    body = await _json(request)
    groups = body.get("filterGroups") if isinstance(body, dict) else None
    if not isinstance(groups, list) or len(groups) > 5 or any(
            not isinstance(g, dict) or len(g.get("filters") or []) > 10 for g in groups):
        return _error(400, "Invalid filterGroups: at most 5 groups of 10 filters",
                      "VALIDATION_ERROR")
    limit = min(int(body.get("limit") or 10), 200)
    wanted = [p for p in body.get("properties") or [] if isinstance(p, str)] or None
    with STORE.lock:
        found = [o for o in STORE.objects[object_type].values()
                 if not groups or any(all(_matches(o, f) for f in g.get("filters") or [])
                                      for g in groups)]
        results = [_view(o, wanted) for o in found[:limit]]
    return _answer({"total": len(found), "results": results})


@router.post("/crm/v3/objects/{object_type}/batch/upsert")
async def batch_upsert(object_type: str, request: Request) -> Response:
    if (refused := _authorised(request) or _bad_type(object_type)) is not None:
        return refused
    started = _now()
    body = await _json(request)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs or len(inputs) > 100:
        return _error(400, "inputs: between 1 and 100 items", "VALIDATION_ERROR")
    results, errors = [], []
    with STORE.lock:
        for item in inputs:
            props = dict(item.get("properties") or {}) if isinstance(item, dict) else None
            id_prop = item.get("idProperty") if isinstance(item, dict) else None
            if props is None or id_prop not in UNIQUE.get(object_type, ()):
                errors.append({"status": "error", "category": "VALIDATION_ERROR",
                               "message": f"idProperty must be a unique property: {id_prop}"})
                continue
            if _check_properties(object_type, props) is not None:
                errors.append({"status": "error", "category": "VALIDATION_ERROR",
                               "message": "Property values were not valid"})
                continue
            props[str(id_prop)] = str(item.get("id"))
            existing = _find_unique(object_type, {id_prop: item.get("id")})
            if existing is None:
                obj, new = _new(object_type, props), True
            else:
                existing["properties"].update({k: str(v) for k, v in props.items()})
                existing["updatedAt"] = _now()
                obj, new = existing, False
            results.append({**_view(obj, None), "new": new})
    status = 207 if errors else 200
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                              "completedAt": _now()}
    if errors:
        answer.update(errors=errors, numErrors=len(errors))
    return _answer(answer, status)


# --- associations (v4) --------------------------------------------------------------------


@router.get("/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}")
def associations(object_type: str, object_id: str, to_type: str, request: Request) -> Response:
    if (refused := _authorised(request)) is not None:
        return refused
    with STORE.lock:
        rows: dict[str, list[int]] = {}
        for f_type, f_id, t_type, t_id, type_id in STORE.assoc:
            if (f_type, f_id, t_type) == (object_type, object_id, to_type):
                rows.setdefault(t_id, []).append(type_id)
    return _answer({"results": [
        {"toObjectId": int(t), "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": i, "label": None} for i in sorted(ids)]}
        for t, ids in sorted(rows.items())]})


@router.put("/crm/v4/objects/{object_type}/{object_id}/associations/default/{to_type}/{to_id}")
def associate(object_type: str, object_id: str, to_type: str, to_id: str,
              request: Request) -> Response:
    if (refused := _authorised(request)) is not None:
        return refused
    with STORE.lock:
        if object_id not in STORE.objects.get(object_type, {}) \
                or to_id not in STORE.objects.get(to_type, {}):
            return _error(404, "Object not found", "OBJECT_NOT_FOUND")
        STORE.assoc.add((object_type, object_id, to_type, to_id, 0))
        STORE.assoc.add((to_type, to_id, object_type, object_id, 0))
    return _answer({"status": "COMPLETE", "results": [], "startedAt": _now(),
                    "completedAt": _now()})


