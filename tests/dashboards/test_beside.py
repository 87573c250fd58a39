"""A dashboard's second read: in a thread with a session of its own for a read session, in
the caller's session for a writer (whose uncommitted work only it can see); errors reach the
caller either way."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from threadline.kpis.dashboards.beside import beside
from threadline.workspace.models import Workspace
from threadline.workspace.service import create_workspace


def _where(session):
    return threading.current_thread().name, session


def test_a_read_session_is_joined_by_a_second_one_in_a_thread(runtime):
    with runtime.db.session(write=False) as session:
        name, used = beside(session, _where).result(timeout=10)
    assert name.startswith("dashboard-read")
    assert used is not session


def test_a_writers_uncommitted_work_is_read_in_its_own_session(runtime):
    with runtime.db.session() as session:
        create_workspace(session, "Uncommitted", "beside-uncommitted")
        session.flush()
        name, used = beside(session, _where).result(timeout=10)
        count = beside(session, lambda s: s.scalar(select(func.count()).select_from(
            Workspace).where(Workspace.slug == "beside-uncommitted"))).result(timeout=10)
        session.rollback()
    assert used is session and name == threading.current_thread().name
    assert count == 1


def test_an_error_reaches_the_caller(runtime):
    def fails(session):
        raise ValueError("no such column")

    for write in (False, True):
        with runtime.db.session(write=write) as session:
            with pytest.raises(ValueError, match="no such column"):
                beside(session, fails).result(timeout=10)
