"""Routing through the whole pipe: customers write through real provider webhooks (WhatsApp,
SMS), the worker makes conversations, the ROUTING hook sends them to a team and an agent, and
the API tells why. Agents, teams, rules and presence are set through the API."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from tests.routing.helpers import (
    SPANISH_COMPLAINT,
    agent,
    conversations,
    presence_of,
    rule,
    sms,
    sms_account,
    team,
    whatsapp,
    whatsapp_account,
)
from threadline.db.base import utcnow
from threadline.routing.presence import run_tick
from threadline.workspace.models import Agent

SPANISH = [{"field": "language", "op": "is", "value": "es"}]


def spanish_desk(runtime, workspace_id, client):
    """Care (English) with Carla; Español (requires the language) with Ana and Luis (es) and
    Bob (no Spanish); a rule sends Spanish to Español."""
    ids = {name: agent(runtime, workspace_id, name, skills=skills) for name, skills in
           (("Carla", ("en",)), ("Ana", ("es",)), ("Luis", ("es", "en")), ("Bob", ("en",)))}
    team(client, "Care", [ids["Carla"]], skills=["en"])
    es = team(client, "Español", [ids["Ana"], ids["Luis"], ids["Bob"]], skills=["es"],
              language_required=True)
    rule(client, "spanish", es, SPANISH, ["language"])
    return ids, es


def routing(client, conv_id):
    response = client.get(f"/api/v1/conversations/{conv_id}/routing")
    assert response.status_code == 200, response.text
    return response.json()


class TestSpanishComplaintOnWhatsApp:
    def test_goes_to_the_es_team_and_its_least_loaded_available_agent(
            self, runtime, workspace_id, client, worker):
        ids, es = spanish_desk(runtime, workspace_id, client)
        account = whatsapp_account(runtime, workspace_id)
        whatsapp(client, account, SPANISH_COMPLAINT, phone="34600000001", name="Lucía")
        worker.drain()
        whatsapp(client, account, "Hola, mi factura tiene un cargo que no reconozco, "
                 "¿me pueden ayudar por favor?", phone="34600000002", name="Pedro")
        worker.drain()
        first, second = conversations(runtime, workspace_id)
        assert first.language == second.language == "es"
        assert str(first.team_id) == es == str(second.team_id)
        assert first.work_kind == "realtime" and first.routed_by == "router"
        # both free: longest idle (never assigned), then by name; then the least loaded
        assert first.assignee_id == ids["Ana"]
        assert second.assignee_id == ids["Luis"]
        why = routing(client, first.id)
        assert why["reason"] == ("rule 'spanish' → team Español → Ana: least loaded (0 of 3 "
                                 "real-time), has skill es")
        assert why["required_skills"] == ["es"] and why["work_kind"] == "realtime"
        assert why["decisions"][0]["assignee_id"] == str(ids["Ana"])
        assert "1 of 3" not in routing(client, second.id)["reason"]
        # Bob (no Spanish) never gets Spanish work, even with the least load
        whatsapp(client, account, "Hola, ¿dónde está mi pedido? Llevo una semana esperando.",
                 phone="34600000003")
        worker.drain()
        third = conversations(runtime, workspace_id)[2]
        assert third.assignee_id in (ids["Ana"], ids["Luis"])

    def test_an_english_message_matches_no_rule_and_goes_to_the_team_with_its_language(
            self, runtime, workspace_id, client, worker):
        ids, _es = spanish_desk(runtime, workspace_id, client)
        account = whatsapp_account(runtime, workspace_id)
        whatsapp(client, account, "Hello, my parcel arrived broken and I want a refund "
                 "please, this is the second time.", phone="447700900001", name="Jo")
        worker.drain()
        [conv] = conversations(runtime, workspace_id)
        assert conv.language == "en"
        assert conv.assignee_id == ids["Carla"]
        assert routing(client, conv.id)["reason"].startswith(
            "no rule matched → team Care (skill en) → Carla")


class TestContinuity:
    def test_a_returning_customer_goes_back_to_his_agent_on_another_channel(
            self, runtime, workspace_id, client, worker):
        ids, _es = spanish_desk(runtime, workspace_id, client)
        wa, text = whatsapp_account(runtime, workspace_id), sms_account(runtime, workspace_id)
        whatsapp(client, wa, SPANISH_COMPLAINT, phone="34612345678")
        worker.drain()
        [first] = conversations(runtime, workspace_id)
        assert first.assignee_id == ids["Ana"]
        client.patch(f"/api/v1/conversations/{first.id}", json={"status": "resolved"})
        worker.drain()
        # Luis is less loaded now, but the customer comes back by SMS: Ana again
        sms(client, text, "Hola otra vez, el pedido sigue sin llegar y necesito una "
                          "respuesta hoy mismo.", phone="+34612345678")
        worker.drain()
        second = conversations(runtime, workspace_id, channel="sms")[0]
        assert second.id != first.id and second.customer_id == first.customer_id
        assert second.assignee_id == ids["Ana"]
        assert "Ana: handled this customer before" in routing(client, second.id)["reason"]

    def test_a_reopened_case_whose_agent_is_away_goes_to_another(self, runtime, workspace_id,
                                                              client, worker):
        ids, _es = spanish_desk(runtime, workspace_id, client)
        wa = whatsapp_account(runtime, workspace_id)
        whatsapp(client, wa, SPANISH_COMPLAINT, phone="34612345679")
        worker.drain()
        [first] = conversations(runtime, workspace_id)
        assert first.assignee_id == ids["Ana"]
        client.patch(f"/api/v1/conversations/{first.id}", json={"status": "resolved"})
        assert client.put(f"/api/v1/routing/agents/{ids['Ana']}/presence",
                          json={"presence": "away"}).status_code == 200
        worker.drain()
        whatsapp(client, wa, "Hola, sigo esperando mi reembolso, ¿qué pasa con él?",
                 phone="34612345679")
        worker.drain()
        [again] = conversations(runtime, workspace_id)  # the same case, reopened
        assert again.id == first.id and again.status == "open"
        assert again.assignee_id == ids["Luis"]
        assert routing(client, again.id)["reason"].startswith(
            "reopened while Ana is away: team Español (already set) → Luis")


class TestPresenceAndQueue:
    def test_an_agent_going_offline_hands_his_real_time_conversations_back(
            self, runtime, workspace_id, client, worker):
        ids, _es = spanish_desk(runtime, workspace_id, client)
        wa = whatsapp_account(runtime, workspace_id)
        client.put(f"/api/v1/routing/agents/{ids['Luis']}/presence", json={"presence": "away"})
        for n in range(3):
            whatsapp(client, wa, f"Hola, tengo un problema con mi pedido número {n}, "
                                 "¿me pueden ayudar?", phone=f"3461000000{n}")
            worker.drain()
        convs = conversations(runtime, workspace_id)
        assert [c.assignee_id for c in convs] == [ids["Ana"]] * 3
        # one of them Ana's supervisor gave her by hand: it stays hers
        manual = convs[2]
        assert client.patch(f"/api/v1/conversations/{manual.id}",
                            json={"assignee_id": str(ids["Ana"])}).status_code == 200
        worker.drain()
        client.put(f"/api/v1/routing/agents/{ids['Luis']}/presence", json={"presence": "online"})
        assert client.put(f"/api/v1/routing/agents/{ids['Ana']}/presence",
                          json={"presence": "offline"}).status_code == 200
        worker.drain()
        after = {c.id: c for c in conversations(runtime, workspace_id)}
        assert after[convs[0].id].assignee_id == ids["Luis"]
        assert after[convs[1].id].assignee_id == ids["Luis"]
        assert after[manual.id].assignee_id == ids["Ana"]  # a person's choice stays
        reason = routing(client, convs[0].id)["reason"]
        assert reason.startswith("Ana went offline: team Español (already set) → Luis")

    def test_nobody_available_waits_in_the_queue_until_an_agent_comes_online(
            self, runtime, workspace_id, client, worker):
        ana = agent(runtime, workspace_id, "Ana", skills=("es",), presence="offline",
                    realtime=1)
        es = team(client, "Español", [ana], skills=["es"], language_required=True)
        rule(client, "spanish", es, SPANISH)
        wa = whatsapp_account(runtime, workspace_id)
        whatsapp(client, wa, SPANISH_COMPLAINT, phone="34699000001")
        whatsapp(client, wa, "Hola, quiero cambiar la dirección de envío de mi pedido.",
                 phone="34699000002")
        worker.drain()
        first, second = conversations(runtime, workspace_id)
        assert first.assignee_id is None and str(first.team_id) == es
        assert "→ queue: nobody available (1 member, 0 online" in routing(client,
                                                                          first.id)["reason"]
        assert client.put(f"/api/v1/routing/agents/{ana}/presence",
                          json={"presence": "online"}).status_code == 200
        oldest = min((first, second), key=lambda c: (c.queued_at, c.id))
        after = {c.id: c for c in conversations(runtime, workspace_id)}
        assert after[oldest.id].assignee_id == ana  # the oldest waiting first
        [other] = [c for c in after.values() if c.id != oldest.id]
        assert other.assignee_id is None  # capacity 1 real-time
        client.patch(f"/api/v1/conversations/{oldest.id}", json={"status": "resolved"})
        worker.drain()  # she frees up: the next waiting one is hers
        assert {c.id: c for c in conversations(runtime, workspace_id)}[other.id].assignee_id \
            == ana

    def test_the_tick_sets_unseen_agents_offline_and_reroutes_unanswered_work(
            self, runtime, workspace_id, client, worker):
        ids, _es = spanish_desk(runtime, workspace_id, client)
        wa = whatsapp_account(runtime, workspace_id)
        whatsapp(client, wa, SPANISH_COMPLAINT, phone="34688000001")
        worker.drain()
        [conv] = conversations(runtime, workspace_id)
        assert conv.assignee_id == ids["Ana"]
        long_ago = utcnow() - timedelta(hours=1)
        with runtime.db.session() as session:
            session.execute(update(Agent).where(Agent.id == ids["Ana"])
                            .values(last_seen_at=long_ago))
        run_tick(runtime)
        assert presence_of(runtime, ids["Ana"]) == "offline"
        [conv] = conversations(runtime, workspace_id)
        assert conv.assignee_id == ids["Luis"]
        # Luis does not answer for longer than the re-route time: it goes to another agent
        later = utcnow() + timedelta(seconds=runtime.settings.routing_reroute_after_seconds + 60)
        client.put(f"/api/v1/routing/agents/{ids['Ana']}/presence", json={"presence": "online"})
        with runtime.db.session() as session:  # every desktop still open then
            session.execute(update(Agent).where(Agent.workspace_id == workspace_id)
                            .values(last_seen_at=later))
        run_tick(runtime, now=later)
        [conv] = conversations(runtime, workspace_id)
        assert conv.assignee_id == ids["Ana"]
        assert routing(client, conv.id)["reason"].startswith("unanswered for 15 min")
        assert uuid.UUID(str(conv.assignee_id)) != ids["Luis"]


class TestTickJob:
    def test_the_tick_runs_as_a_job_and_schedules_the_next(self, runtime, workspace_id,
                                                           client, worker):
        from sqlalchemy import select

        from threadline.events.models import OutboxJob
        from threadline.routing.presence import TICK_JOB, schedule_tick

        ids, _es = spanish_desk(runtime, workspace_id, client)
        with runtime.db.session() as session:
            session.execute(update(OutboxJob).where(OutboxJob.name == TICK_JOB,
                                                    OutboxJob.status == "pending")
                            .values(status="done"))  # a tick another test left
            session.execute(update(Agent).where(Agent.id == ids["Bob"])
                            .values(last_seen_at=utcnow() - timedelta(hours=2)))
            first = schedule_tick(session)
            assert first is not None
            assert schedule_tick(session) is None  # one pending tick at a time
        worker.drain()
        assert presence_of(runtime, ids["Bob"]) == "offline"
        with runtime.db.session(write=False) as session:
            jobs = list(session.scalars(select(OutboxJob).where(
                OutboxJob.name == TICK_JOB).order_by(OutboxJob.id)))
        assert jobs[-2].id == first.id and jobs[-2].status == "done"
        later = jobs[-1].due_at - utcnow()
        assert jobs[-1].status == "pending"
        assert timedelta(seconds=runtime.settings.routing_tick_seconds - 5) < later
        with runtime.db.session() as session:  # no tick left to run in other tests' workers
            session.execute(update(OutboxJob).where(OutboxJob.id == jobs[-1].id)
                            .values(status="done"))
