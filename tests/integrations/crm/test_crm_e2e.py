"""Acceptance, end to end through real HTTP (Threadline under uvicorn with its worker, the
provider sandbox's X, web chat, HubSpot and Salesforce): a public X complaint hops to a private
chat; the person who took the link is confirmed as the author (a customer merge, which brings
his e-mail); the conversation then appears once on the matched CRM contact's timeline and
that same record is updated at resolution; the customer keeps one CRM link."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.hops.conftest import Hops, wait_for
from tests.hops.test_link_takers import in_case, public_case, say, take_chat
from tests.integrations.crm.conftest import Crm, hubspot_connection, salesforce_connection
from threadline.integrations.crm.models import CrmLink
from threadline.integrations.crm.sync import marker


def timeline(crm: Crm, kind: str, contact: str) -> list[tuple[str, str]]:
    """(record id, text) of every Threadline record on the contact's timeline."""
    if kind == "hubspot":
        return [(n["id"], n["properties"]["hs_note_body"]) for n in crm.hs_notes(contact)]
    return [(t["Id"], f"{t['Status']}\n{t['Description']}") for t in crm.sf_tasks(contact)]


@pytest.mark.parametrize("kind", ["hubspot", "salesforce"])
def test_x_complaint_hops_to_chat_and_lands_once_on_the_contact(hop: Hops, crm: Crm,
                                                                kind: str) -> None:
    email = f"jane-{hop.tag}@example.com"
    if kind == "hubspot":
        contact = crm.hs_contact(email=email, firstname="Jane", jobtitle="Traveller")
        hubspot_connection(hop.api, crm)
    else:
        contact = crm.sf_create("Contact", LastName="Doe", FirstName="Jane", Email=email,
                                Title="Traveller")
        salesforce_connection(hop.api, crm)

    # The public complaint: nobody to match yet (an X handle only), nothing created.
    case = public_case(hop)
    wait_for(lambda: any(r["outcome"] == "skipped" for r in hop.api.get(
        f"/customers/{case.author_id}/crm").json()["log"]), what="the unmatched attempt")
    assert timeline(crm, kind, contact) == []

    # She takes the chat link, gives her e-mail, chats; the agent confirms it is her.
    question = f"Booking for two on Friday please {hop.tag}"
    token, _ = take_chat(case, email, question)
    said = f"Can you rebook me? {hop.tag}"
    say(hop, case.chat, token, said)
    in_case(case, question, said)
    [taker] = wait_for(lambda: case.takers() or None, what="the taker")
    assert hop.api.post(f"/takers/{taker['id']}/confirm").status_code == 200

    # The agent answers in the chat: matched by e-mail, one record on the contact.
    private = hop.sent(case.conv["id"], f"Rebooked you on Saturday {hop.tag}",
                       visibility="private", channel_account_id=case.chat)
    hop.wait_delivery(case.conv["id"], private["id"])
    [(record, first)] = wait_for(lambda: timeline(crm, kind, contact) or None,
                                 what="the CRM record")
    assert question in first and f"/conversations/{case.conv['id']}" in first
    assert "Channels: X → Web chat" in first

    # Resolved: the same record now says so; never a second one.
    assert hop.api.post(f"/conversations/{case.conv['id']}/resolve").status_code == 200
    wait_for(lambda: "Resolved" in timeline(crm, kind, contact)[0][1],
             what="the record updated at resolution")
    [(again, _)] = timeline(crm, kind, contact)
    assert again == record
    mark = marker(uuid.UUID(case.conv["id"]))
    if kind == "hubspot":
        creates = [c for c in crm.calls("hubspot", method="POST",
                                        path_contains="/crm/v3/objects/notes")
                   if c["path"].endswith("/notes") and mark in c["body"]]
        assert len(creates) == 1
    panel = hop.api.get(f"/customers/{case.author_id}/crm").json()
    [link] = panel["links"]
    assert link["external_id"] == contact and link["matched_by"] == "email"
    with hop.runtime.db.session(write=False) as s:
        links = list(s.scalars(select(CrmLink).where(CrmLink.workspace_id == hop.workspace_id)))
    assert len(links) == 1
