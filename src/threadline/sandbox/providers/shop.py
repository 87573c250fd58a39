"""Sandbox side of a brand's own customer data endpoint (the customer data lookup,
docs/integrations.md): `POST /shop/customer-data` verifies the Standard Webhooks signature when
a secret is set (`SECRETS`, by the demo from Threadline's answer) and answers the lookup
contract with an account, orders and a ticket made up from the customer's coordinates —
the same customer always gets the same answer. An address it has never heard of: 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

PREFIX = "/shop"
router = APIRouter()
SECRETS: list[str] = []  # whsec_... secrets accepted (empty: no check)
PRODUCTS = [("KB-OAK", "Oak chopping board"), ("KT-1L", "Kettle 1 l"),
            ("BL-900", "Blender 900 W"), ("TS-M", "T-shirt M"), ("LMP-2", "Desk lamp")]
STATUSES = ["delivered", "shipped", "processing", "returned"]


def _signed(secret: str, headers: Any, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(part.partition(",")[2], expected)
               for part in headers.get("webhook-signature", "").split())


@router.post("/webhooks")
async def webhooks(request: Request) -> JSONResponse:
    """The brand's receiver of Threadline's outbound webhooks: takes every event (the
    sandbox's call log shows what arrived)."""
    await request.body()
    return JSONResponse({"ok": True})


@router.post("/customer-data")
async def customer_data(request: Request) -> JSONResponse:
    body = await request.body()
    if SECRETS and not any(_signed(s, request.headers, body) for s in SECRETS):
        return JSONResponse({"title": "bad signature", "status": 401}, status_code=401,
                            media_type="application/problem+json")
    try:
        customer = json.loads(body)["data"]["customer"]
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"title": "bad request", "status": 400}, status_code=400)
    key = str(customer.get("email") or customer.get("phone") or customer.get("id") or "")
    if not key:
        return JSONResponse({"title": "unknown customer", "status": 404}, status_code=404)
    rng = random.Random(hashlib.sha256(key.encode()).digest())
    number = 1000 + rng.randrange(9000)
    orders = []
    for i in range(rng.randint(1, 3)):
        sku, name = rng.choice(PRODUCTS)
        orders.append({
            "id": f"o_{number + i}", "number": f"#{number + i}",
            "status": STATUSES[min(i, len(STATUSES) - 1)] if i else rng.choice(STATUSES),
            "placed_at": f"2026-{rng.randint(9, 11):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
            "total": {"amount": f"{rng.randint(9, 199)}.{rng.randint(0, 99):02d}",
                      "currency": "EUR"},
            "items": [{"sku": sku, "name": name, "quantity": rng.randint(1, 2)}]})
    return JSONResponse({
        "customer": {"external_id": str(number), "name": customer.get("name") or None,
                     "tier": rng.choice(["standard", "silver", "gold"]),
                     "lifetime_value": {"amount": f"{rng.randint(40, 2400)}.00",
                                        "currency": "EUR"}},
        "orders": orders,
        "tickets": [{"id": f"T-{number}", "subject": "Late delivery", "status": "open"}]
        if rng.random() < 0.4 else [],
        "next_cursor": None})
