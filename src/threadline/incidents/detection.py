"""Where every new public customer post meets the detector: the `incidents` conversation hook
(after automation, before routing, so that a post of an open incident is held before routing
would queue it) and `observe`, which places posts and stores their membership.

The detector's state is a cache per process and workspace, rebuilt from `incident_posts`
(the posts of the window and every post of a live incident) when the process starts, when a
transaction that changed it rolls back, or when another process created an incident this one
does not know; otherwise it catches up by reading the rows after the last `seq` it saw (the
hook runs under the workspace's "operations" lock, so rows are written in `seq` order).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from threadline.contacts.models import Identity
from threadline.conversations.models import Message
from threadline.db.base import utcnow
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, publish
from threadline.incidents.detect import BurstDetector, Cluster, terms_of
from threadline.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentPost,
    IncidentStatus,
    PostState,
)
from threadline.incidents.settings import IncidentSettings, incident_settings
from threadline.jobs.hooks import ConversationEvents, conversation_hook

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

INCIDENTS_STAGE = 15  # after automation (10), before routing (20)
POST_KINDS = ("message", "post", "comment")
TITLE_TERMS = 4


@dataclass(frozen=True)
class PostIn:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    account_id: uuid.UUID | None
    channel: str
    customer_id: uuid.UUID | None
    at: datetime
    text: str


@dataclass
class _State:
    settings: IncidentSettings
    detector: BurstDetector
    last_seq: int = 0
    incidents: dict[uuid.UUID, str] = field(default_factory=dict)  # live incident -> status


_CACHE: dict[uuid.UUID, _State] = {}
_LOCK = threading.Lock()


def forget(workspace_id: uuid.UUID) -> None:
    """Drop the cached state (rebuilt from the database on next use)."""
    with _LOCK:
        _CACHE.pop(workspace_id, None)


def _forget_on_rollback(session: Session, workspace_id: uuid.UUID) -> None:
    marked: set[uuid.UUID] = session.info.setdefault("incident_states", set())
    if workspace_id in marked:
        return
    first = not marked
    marked.add(workspace_id)
    if not first:
        return

    def rolled_back(_session: Session, _transaction: Any) -> None:
        for ws in list(marked):
            forget(ws)
        marked.clear()

    def committed(_session: Session) -> None:
        marked.clear()

    event.listen(session, "after_soft_rollback", rolled_back, once=True)
    event.listen(session, "after_commit", committed, once=True)


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _live_incidents(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return {i: status for i, status in session.execute(
        select(Incident.id, Incident.status).where(Incident.workspace_id == workspace_id,
                                                   Incident.status.in_(IncidentStatus.LIVE)))}


def _feed(state: _State, rows: list[Any]) -> None:
    """Replay stored rows (seq order) into the detector with their stored clusters; the
    clusters of one live incident become one."""
    detector = state.detector
    homes: dict[uuid.UUID, Cluster] | None = None  # read once, when a row needs it
    for seq, cluster_id, incident_id, posted_at, customer_id, message_id, text in rows:
        placed = detector.add(_epoch(posted_at), terms_of(text or ""),
                              str(customer_id or message_id), cluster_id=cluster_id)
        if incident_id is not None and incident_id in state.incidents:
            if homes is None:
                homes = {c.incident_id: c for c in detector.clusters.values()
                         if c.incident_id is not None and c.alias is None}
            home = homes.get(incident_id)
            if home is not None and detector.get(home.id) is not placed.cluster:
                detector.merge_into(placed.cluster.id, home.id)
            elif home is None:
                detector.pin(placed.cluster.id, incident_id, True)
                homes[incident_id] = placed.cluster
        state.last_seq = max(state.last_seq, int(seq))


def _rows(session: Session, workspace_id: uuid.UUID, *, after: int = 0,
          since: datetime | None = None, incidents: tuple[uuid.UUID, ...] = ()) -> list[Any]:
    cols = (IncidentPost.seq, IncidentPost.cluster_id, IncidentPost.incident_id,
            IncidentPost.posted_at, IncidentPost.customer_id, IncidentPost.message_id,
            Message.text)
    stmt = select(*cols).join(Message, Message.id == IncidentPost.message_id).where(
        IncidentPost.workspace_id == workspace_id, IncidentPost.seq > after)
    if since is not None:
        window = IncidentPost.posted_at >= since
        stmt = stmt.where(window | IncidentPost.incident_id.in_(incidents) if incidents
                          else window)
    return list(session.execute(stmt.order_by(IncidentPost.seq)))


def _max_seq(session: Session, workspace_id: uuid.UUID) -> int:
    return int(session.scalar(select(func.max(IncidentPost.seq)).where(
        IncidentPost.workspace_id == workspace_id)) or 0)


def _build(session: Session, workspace_id: uuid.UUID, settings: IncidentSettings,
           now: datetime) -> _State:
    state = _State(settings=settings, detector=BurstDetector(settings.detector()),
                   incidents=_live_incidents(session, workspace_id))
    since = now - timedelta(minutes=settings.window_minutes)
    _feed(state, _rows(session, workspace_id, since=since, incidents=tuple(state.incidents)))
    state.last_seq = max(state.last_seq, _max_seq(session, workspace_id))
    return state


def state_for(session: Session, workspace_id: uuid.UUID, now: datetime | None = None) -> _State:
    """The workspace's detector, caught up with the database."""
    now = now or utcnow()
    settings = incident_settings(session, workspace_id)
    with _LOCK:
        state = _CACHE.get(workspace_id)
    if state is not None and state.settings != settings:
        state = None
    if state is not None:
        live = _live_incidents(session, workspace_id)
        if set(live) - set(state.incidents):
            state = None  # another process made an incident: start over from the database
        else:
            if set(state.incidents) - set(live):  # an incident ended (or was dismissed)
                for cluster in list(state.detector.clusters.values()):
                    if cluster.incident_id is not None and cluster.incident_id not in live:
                        state.detector.pin(cluster.id, None, False)
                        cluster.size = 0  # retired: a new burst must build up again
                        cluster.authors.clear()
            state.incidents = live
            _feed(state, _rows(session, workspace_id, after=state.last_seq))
    if state is None:
        state = _build(session, workspace_id, settings, now)
    with _LOCK:
        _CACHE[workspace_id] = state
    _forget_on_rollback(session, workspace_id)
    return state


def timeline(session: Session, incident: Incident, kind: str, *,
             actor_id: uuid.UUID | None = None, **data: Any) -> None:
    session.add(IncidentEvent(workspace_id=incident.workspace_id, incident_id=incident.id,
                              kind=kind, actor_id=actor_id, data=data, at=utcnow()))


def changed(session: Session, incident: Incident, what: str) -> None:
    publish(session, incident.workspace_id, Live.INCIDENT_UPDATED,
            {"incident_id": str(incident.id), "status": incident.status, "what": what,
             "members": incident.member_count})


def recount(session: Session, incident: Incident) -> None:
    count, first, last = session.execute(
        select(func.count(), func.min(IncidentPost.posted_at), func.max(IncidentPost.posted_at))
        .where(IncidentPost.incident_id == incident.id)).one()
    incident.member_count = int(count or 0)
    if first is not None:
        incident.first_post_at, incident.last_post_at = first, last


def title_of(terms: list[str]) -> str:
    return ("Burst: " + ", ".join(terms[:TITLE_TERMS])) if terms else "Burst of similar posts"


@dataclass(frozen=True)
class Joined:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    incident_id: uuid.UUID


def _store_merges(session: Session, workspace_id: uuid.UUID,
                  merges: dict[uuid.UUID, Cluster], now: datetime) -> set[uuid.UUID]:
    """Rows of clusters a post showed to be one story follow the cluster that holds them now
    (and its incident); returns the incidents that gained members."""
    by_target: dict[tuple[uuid.UUID, uuid.UUID | None], list[uuid.UUID]] = {}
    for source, cluster in merges.items():
        by_target.setdefault((cluster.id, cluster.incident_id), []).append(source)
    touched: set[uuid.UUID] = set()
    for (target_id, incident_id), sources in by_target.items():
        session.execute(update(IncidentPost).where(
            IncidentPost.workspace_id == workspace_id,
            IncidentPost.cluster_id.in_(sources)).values(cluster_id=target_id))
        if incident_id is not None:
            session.execute(update(IncidentPost).where(
                IncidentPost.workspace_id == workspace_id, IncidentPost.cluster_id == target_id,
                IncidentPost.incident_id.is_(None)).values(
                incident_id=incident_id, state=PostState.MEMBER, joined_at=now))
            touched.add(incident_id)
    return touched


def observe(session: Session, workspace_id: uuid.UUID, posts: list[PostIn],
            now: datetime | None = None) -> list[Joined]:
    """Place `posts` (in arrival order), store their membership, make a suggested incident of
    a cluster that just became a burst; returns the posts that are in an incident now."""
    now = now or utcnow()
    state = state_for(session, workspace_id, now)
    if not state.settings.enabled or not posts:
        return []
    known = set(session.scalars(select(IncidentPost.message_id).where(
        IncidentPost.message_id.in_([p.message_id for p in posts]))))
    rows: list[dict[str, Any]] = []
    bursts: dict[uuid.UUID, Cluster] = {}
    merges: dict[uuid.UUID, Cluster] = {}
    for post in posts:
        if post.message_id in known:
            continue  # a job run again after a commit: stored already
        known.add(post.message_id)
        placed = state.detector.add(_epoch(post.at), terms_of(post.text),
                                    str(post.customer_id or post.message_id))
        cluster = placed.cluster
        for source in placed.merged:
            merges[source] = cluster
        if placed.became_burst and cluster.incident_id is None:
            bursts[cluster.id] = cluster
        rows.append({"workspace_id": workspace_id, "message_id": post.message_id,
                     "conversation_id": post.conversation_id,
                     "channel_account_id": post.account_id, "channel": post.channel,
                     "customer_id": post.customer_id, "posted_at": post.at, "seen_at": now,
                     "cluster_id": cluster.id, "incident_id": cluster.incident_id,
                     "joined_at": now if cluster.incident_id else None,
                     "state": PostState.MEMBER if cluster.incident_id else PostState.SEEN,
                     "held": False})
    if not rows:
        return []
    for row in rows:  # a cluster merged away later in the batch: its surviving cluster
        found = state.detector.get(row["cluster_id"])
        if found is not None and found.id != row["cluster_id"]:
            row["cluster_id"], row["incident_id"] = found.id, found.incident_id
            if found.incident_id is not None:
                row["state"], row["joined_at"] = PostState.MEMBER, now
    session.execute(IncidentPost.__table__.insert(), rows)  # type: ignore[attr-defined]
    touched = {r["incident_id"] for r in rows if r["incident_id"] is not None}
    for source in list(merges):
        merges[source] = state.detector.get(merges[source].id) or merges[source]
    touched |= _store_merges(session, workspace_id, merges, now)
    for cluster in bursts.values():
        cluster = state.detector.get(cluster.id) or cluster
        if cluster.incident_id is not None:
            continue
        terms = cluster.shared_terms()
        incident = Incident(workspace_id=workspace_id, status=IncidentStatus.SUGGESTED,
                            origin="detected", title=title_of(terms), terms=terms,
                            created_at=now, first_post_at=now, last_post_at=now, pace={})
        session.add(incident)
        session.flush()
        session.execute(update(IncidentPost).where(
            IncidentPost.workspace_id == workspace_id, IncidentPost.cluster_id == cluster.id,
            IncidentPost.incident_id.is_(None)).values(
            incident_id=incident.id, state=PostState.MEMBER, joined_at=now))
        state.detector.pin(cluster.id, incident.id, True)
        state.incidents[incident.id] = IncidentStatus.SUGGESTED
        timeline(session, incident, "suggested", members=cluster.size)
        touched.add(incident.id)
    state.last_seq = max(state.last_seq, _max_seq(session, workspace_id))
    if not touched:
        return []
    for incident in session.scalars(select(Incident).where(Incident.id.in_(touched))):
        recount(session, incident)
        changed(session, incident, "members")
    return [Joined(m, c, i) for m, c, i in session.execute(
        select(IncidentPost.message_id, IncidentPost.conversation_id, IncidentPost.incident_id)
        .where(IncidentPost.message_id.in_([r["message_id"] for r in rows]),
               IncidentPost.incident_id.is_not(None))) if i is not None]


# --- the hook ---------------------------------------------------------------------------------


def public_posts(session: Session, workspace_id: uuid.UUID,
                 message_ids: list[uuid.UUID]) -> list[PostIn]:
    """The customers' public posts among `message_ids` that start something: replies to the
    brand's own messages continue a conversation and are not a new voice in a burst."""
    if not message_ids:
        return []
    found = list(session.execute(
        select(Message.id, Message.conversation_id, Message.channel_account_id,
               Message.channel, Message.identity_id, Message.created_at, Message.text,
               Message.reply_to_provider_id)
        .where(Message.workspace_id == workspace_id, Message.id.in_(message_ids),
               Message.direction == "inbound", Message.visibility == "public",
               Message.author_type == "customer", Message.kind.in_(POST_KINDS),
               Message.deleted_at.is_(None))))
    parents = {r[7] for r in found if r[7]}
    ours = set(session.scalars(select(Message.provider_id).where(
        Message.workspace_id == workspace_id, Message.provider_id.in_(parents),
        Message.direction == "outbound"))) if parents else set()
    identities = {r[4] for r in found if r[4]}
    customers = {i: c for i, c in session.execute(select(
        Identity.id, Identity.customer_id).where(Identity.id.in_(identities)))} \
        if identities else {}
    return [PostIn(message_id=r[0], conversation_id=r[1], account_id=r[2], channel=r[3],
                   customer_id=customers.get(r[4]) if r[4] else None, at=r[5],
                   text=r[6] or "")
            for r in found if not (r[7] and r[7] in ours)]


@conversation_hook(INCIDENTS_STAGE, "incidents")
def on_conversation_events(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    ids = []
    for e in batch.of(ConversationEvent.MESSAGE_RECEIVED):
        try:
            ids.append(uuid.UUID(str(e.get("message_id"))))
        except ValueError:
            continue
    if not ids:
        return
    from threadline.incidents import members  # the flow's side: hold, answer late posts

    posts = public_posts(session, batch.workspace_id, ids)
    joined = observe(session, batch.workspace_id, posts)
    members.after_join(session, batch.workspace_id, batch.conversation_id, joined,
                       received=ids)
