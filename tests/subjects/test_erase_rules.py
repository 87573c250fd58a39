"""Erasure rules that the end-to-end history does not reach: trained triage models that may
carry his words, audit records of other customers that name him, customers merged into
customers merged into him."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from threadline.contacts.models import Customer, Evidence, Identity
from threadline.contacts.service import create_customer, link_identity, suggest_merge
from threadline.conversations.customer_merge import merge_customers
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor, set_triage_fields
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent
from threadline.events.service import audit
from threadline.jobs.runtime import Runtime
from threadline.subjects.service import erase_customer
from threadline.workspace.models import TriageModelRecord

ADMIN = Actor("agent", str(uuid.uuid4()))


def _customer(session: object, workspace_id: uuid.UUID, name: str, email: str) -> Customer:
    found = create_customer(session, workspace_id, name=name)  # type: ignore[arg-type]
    link_identity(session, workspace_id, found.id, kind="email",  # type: ignore[arg-type]
                  address=email, evidence=Evidence.AGENT)
    return found


class TestTriageModels:
    def test_models_trained_after_his_label_are_deleted_older_ones_kept(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as s:
            him = _customer(s, workspace_id, "Lab Elled", f"l.{uuid.uuid4().hex[:8]}@ex.org")
            older = TriageModelRecord(workspace_id=workspace_id, data=b"before",
                                      report={}, active=False,
                                      created_at=utcnow() - timedelta(days=1))
            s.add(older)
            conv = Conversation(workspace_id=workspace_id, customer_id=him.id, labels=[])
            s.add(conv)
            s.flush()
            set_triage_fields(s, conv, {"category": "complaint"}, ADMIN)
            newer = TriageModelRecord(workspace_id=workspace_id, data=b"his words",
                                      report={}, active=True,
                                      created_at=utcnow() + timedelta(seconds=1))
            s.add(newer)
            s.flush()
            ids = (older.id, newer.id)
        with runtime.db.session() as s:
            report = erase_customer(s, workspace_id, him.id, ADMIN)
        assert report.counts["triage_models"] == 1
        with runtime.db.session(write=False) as s:
            left = set(s.scalars(select(TriageModelRecord.id).where(
                TriageModelRecord.id.in_(ids))))
        assert left == {ids[0]}

    def test_no_label_no_model_deleted(self, runtime: Runtime,
                                       workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as s:
            him = _customer(s, workspace_id, "Un Labelled", f"u.{uuid.uuid4().hex[:8]}@ex.org")
            s.add(Conversation(workspace_id=workspace_id, customer_id=him.id, labels=[]))
            model = TriageModelRecord(workspace_id=workspace_id, data=b"x", report={})
            s.add(model)
            s.flush()
            model_id = model.id
        with runtime.db.session() as s:
            assert erase_customer(s, workspace_id, him.id, ADMIN).counts["triage_models"] == 0
            assert s.get(TriageModelRecord, model_id) is not None


class TestOthersRecords:
    def test_another_customers_audit_loses_his_coordinate_and_keeps_its_own(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        mine = f"mine.{uuid.uuid4().hex[:8]}@ex.org"
        theirs = f"theirs.{uuid.uuid4().hex[:8]}@ex.org"
        with runtime.db.session() as s:
            him = _customer(s, workspace_id, "Him", mine)
            other = _customer(s, workspace_id, "Other", theirs)
            suggest_merge(s, workspace_id, him.id, other.id, reason=f"same email {mine}")
            audit(s, workspace_id, "customer.compared", "customer", other.id,
                  data={"reason": f"looks like {mine}"})
        with runtime.db.session() as s:
            erase_customer(s, workspace_id, him.id, ADMIN)
        with runtime.db.session(write=False) as s:
            rows = list(s.scalars(select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id)))
            assert mine not in str([(r.subject_id, r.data) for r in rows])
            assert s.scalar(select(Identity.address).where(
                Identity.customer_id == other.id)) == theirs
            assert s.get(Customer, other.id).name == "Other"  # type: ignore[union-attr]
            assert any(r.action == "identity.linked" and r.subject_id == str(other.id)
                       for r in rows)
            [compared] = [r for r in rows if r.action == "customer.compared"]
            assert compared.subject_id == str(other.id) and compared.data == {}


class TestMergedFamily:
    def test_customers_merged_through_another_are_erased_with_him(
            self, runtime: Runtime, workspace_id: uuid.UUID) -> None:
        with runtime.db.session() as s:
            root = _customer(s, workspace_id, "Root", f"r.{uuid.uuid4().hex[:8]}@ex.org")
            middle = _customer(s, workspace_id, "Middle", f"m.{uuid.uuid4().hex[:8]}@ex.org")
            leaf = _customer(s, workspace_id, "Leaf", f"f.{uuid.uuid4().hex[:8]}@ex.org")
            merge_customers(s, workspace_id, leaf.id, middle.id, ADMIN)
            merge_customers(s, workspace_id, middle.id, root.id, ADMIN)
            ids = [root.id, middle.id, leaf.id]
        with runtime.db.session() as s:  # asked through the leaf: the person is the root
            report = erase_customer(s, workspace_id, leaf.id, ADMIN)
        assert set(report.customers) == set(ids)
        with runtime.db.session(write=False) as s:
            assert [s.get(Customer, i).name for i in ids] == [None, None, None]  # type: ignore[union-attr]
            assert s.scalar(select(Identity.id).where(Identity.customer_id.in_(ids))) is None
