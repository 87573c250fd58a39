"""The CSAT and quality-review readers (kpis/dashboards/feedback.py): the figures of the
surveys of the filtered conversations (another workspace's never count)."""

from __future__ import annotations

import uuid

from tests.dashboards.helpers import at
from threadline.csat.models import CsatSurvey
from threadline.kpis.dashboards import feedback
from threadline.kpis.dashboards.schemas import Group
from threadline.kpis.dashboards.service import dashboard


def test_csat_figures(runtime, shop):
    base = {"workspace_id": shop.workspace_id, "method": "quick_replies", "sent_at": at(3, 12)}
    rows = [{**base, "conversation_id": shop.ids["A"], "channel": "x", "score": 5,
             "status": "answered", "answered_at": at(3, 13)},
            {**base, "conversation_id": shop.ids["C"], "channel": "whatsapp",
             "score": 2, "status": "answered", "answered_at": at(3, 13)},
            {**base, "conversation_id": shop.ids["D"], "channel": "email",
             "score": None, "status": "expired"},
            {**base, "conversation_id": shop.ids["elsewhere"], "channel": "x", "score": 1,
             "status": "answered", "answered_at": at(3, 13)}]
    with runtime.db.session() as session:
        session.add_all(CsatSurvey(id=uuid.uuid4(), **r) for r in rows)
    with runtime.db.session(write=False) as session:
        found = feedback.csat(session, shop.filters())
        board = dashboard(session, Group.feedback, shop.filters())
        qa = feedback.qa_scores(session, shop.filters())
    values = {m.key: m.value for m in board.metrics}
    assert found is not None
    assert (found.total.sent, found.total.answered, found.total.average) == (3, 2, 3.5)
    assert values["response_rate"] == 66.7 and values["csat_satisfied"] == 50.0
    assert qa is not None
    assert qa.reviews == 0 and qa.average is None  # none written for this workspace
