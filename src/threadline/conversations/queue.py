"""The agents' queue: the priority scale support teams read (P1 most urgent .. P4), the
relevance of a conversation (a direct question, an awareness mention, a competitor mention,
chatter), and the two inbox orders with their keyset cursors (docs/queues.md, decision 0309).

The default order ("queue") is: SLA due time (none last), priority (P1 first), relevance
(direct questions before mentions), longest waiting (the customer's last message, oldest
first), then the id. "recent" is the older order: newest activity first."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)

from threadline.conversations.models import Conversation
from threadline.errors import BadRequest, ValidationFailed

# --- priority --------------------------------------------------------------------------------

P1, P2, P3, P4 = 1, 2, 3, 4
PRIORITIES = (P1, P2, P3, P4)
DEFAULT_PRIORITY = P4


def priority_label(priority: int) -> str:
    """1 -> "P1" (how agents say it)."""
    return f"P{priority}"


def check_priority(value: object, field: str = "priority") -> int:
    """An untrusted priority (a form's text, a query parameter) as 1..4; a 422 naming the
    field otherwise. "P2" is read as 2; only ASCII digits count (str.isdigit() takes "٣")."""
    text = str(value).strip().upper().removeprefix("P") if value is not None else ""
    if isinstance(value, bool) or text not in {str(p) for p in PRIORITIES}:
        raise ValidationFailed(f"{field} is 1 (P1, most urgent) to 4 (P4)",
                               code="bad_priority", details={"field": field})
    return int(text)


# --- relevance -------------------------------------------------------------------------------


class Relevance:
    """triage's relevance output (triage.rules.relevance), most relevant first."""

    DIRECT = "direct"  # a question or complaint addressed to the brand, or a private message
    MENTION = "mention"  # the brand is mentioned (awareness), nobody asked it anything
    COMPETITOR = "competitor"  # a competitor is mentioned
    CHATTER = "chatter"  # neither
    ALL = (DIRECT, MENTION, COMPETITOR, CHATTER)


RELEVANCE_RANK = {name: rank for rank, name in enumerate(Relevance.ALL)}


def rank_of(relevance: str | None) -> int:
    """Direct questions (and conversations never triaged) 0, then mention, competitor,
    chatter."""
    return RELEVANCE_RANK.get(relevance or "", 0)


def most_relevant(current: str | None, new: str | None) -> str | None:
    """A conversation is as relevant as its most relevant customer message."""
    if new not in RELEVANCE_RANK:
        return current
    if current not in RELEVANCE_RANK:
        return new
    return new if RELEVANCE_RANK[new] < RELEVANCE_RANK[current] else current


# The agents' queue holds direct questions, private messages (triage calls them direct) and
# conversations triage never saw (started by an agent); the other relevances have views.
QUEUE_RELEVANCE: tuple[str | None, ...] = (Relevance.DIRECT, None)
RELEVANCE_VIEWS = {"mentions": Relevance.MENTION, "competitors": Relevance.COMPETITOR,
                   "chatter": Relevance.CHATTER}


def relevance_clause(relevances: tuple[str | None, ...]) -> ColumnElement[bool]:
    named = [r for r in relevances if r is not None]
    clause = Conversation.relevance.in_(named) if named else false()
    return or_(clause, Conversation.relevance.is_(None)) if None in relevances else clause


# --- orders and cursors ----------------------------------------------------------------------

SORTS = ("queue", "recent")


@dataclass(frozen=True)
class Key:
    """One column of an order: ascending, or descending; `nullable` ones sort their NULLs
    last (ascending)."""

    expr: Any
    descending: bool = False
    nullable: bool = False
    kind: str = "int"  # how the cursor stores it: int | str | time | uuid


def _relevance_rank() -> Any:
    return case({name: rank for name, rank in RELEVANCE_RANK.items()},
                value=Conversation.relevance, else_=0)  # never triaged: as a direct one


def waiting_since() -> Any:
    """When the customer last wrote (else when the conversation began): the queue index's
    expression, written the same way here and in the index."""
    return func.coalesce(Conversation.last_inbound_at, Conversation.created_at)


def keys(sort: str) -> tuple[Key, ...]:
    if sort == "recent":
        return (Key(Conversation.last_message_at, descending=True, kind="time"),
                Key(Conversation.id, descending=True, kind="uuid"))
    return (Key(Conversation.sla_due_at, nullable=True, kind="time"),
            Key(Conversation.priority),
            Key(_relevance_rank()),
            Key(waiting_since(), kind="time"),
            Key(Conversation.id, kind="uuid"))


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise ValidationFailed(f"sort must be one of {', '.join(SORTS)}", code="bad_sort",
                               details={"field": "sort"})
    return sort


def order_by(sort: str, *, reverse: bool = False) -> list[Any]:
    out: list[Any] = []
    for key in keys(sort):
        descending = key.descending != reverse
        if key.nullable:  # NULLs after every value ascending, before them descending
            out.append(key.expr.is_(None).desc() if descending else key.expr.is_(None))
        out.append(key.expr.desc() if descending else key.expr.asc())
    return out


def _beyond(key: Key, value: Any, later: bool) -> ColumnElement[bool]:
    """Rows strictly after (`later`) or before `value` on this key alone."""
    forward = later != key.descending  # comparing upwards
    if key.nullable:
        if value is None:  # NULL is the last value ascending
            return false() if forward else key.expr.is_not(None)
        return or_(key.expr > value, key.expr.is_(None)) if forward else key.expr < value
    return key.expr > value if forward else key.expr < value  # type: ignore[no-any-return]


def _equal(key: Key, value: Any) -> ColumnElement[bool]:
    if key.nullable and value is None:
        return key.expr.is_(None)  # type: ignore[no-any-return]
    return key.expr == value  # type: ignore[no-any-return]


def seek(sort: str, values: tuple[Any, ...], *, later: bool = True) -> ColumnElement[bool]:
    """Rows after (or before) the row whose sort values are `values`: the keyset condition,
    lexicographic over the keys (a NULL due time compares as the greatest)."""
    ks = keys(sort)
    branches = []
    for i, key in enumerate(ks):
        equal = [_equal(k, v) for k, v in zip(ks[:i], values[:i], strict=True)]
        branches.append(and_(*equal, _beyond(key, values[i], later)))
    return or_(*branches)


def candidates(where: list[Any], statuses: tuple[str, ...], values: tuple[Any, ...] | None,
               limit: int, *, ranked: bool, reverse: bool = False) -> Any:
    """The ids of the first `limit` rows after (`reverse`: before) the queue sort `values`,
    among more: a UNION ALL of one branch per status and per due time or none, each
    reading `ix_conversations_queue` (workspace, status, due time, priority, waiting since,
    id) in order from the cursor on and stopping at `limit` (a hand-made skip scan: neither
    database reads an index in this order across several statuses and a NULLS LAST due
    time). The caller orders the candidates (at most 2 x statuses x `limit`) with the full
    order. `ranked`: the listed rows differ in relevance rank (a key the index lacks)."""
    branches = []
    for status in statuses:
        for due in (True, False):
            keys: list[Any] = [Conversation.sla_due_at] if due else []
            keys += [Conversation.priority, *([_relevance_rank()] if ranked else []),
                     waiting_since(), Conversation.id]
            clauses = [*where, Conversation.status == status,
                       Conversation.sla_due_at.is_not(None) if due
                       else Conversation.sla_due_at.is_(None)]
            if values is not None:
                cursor_due = values[0]
                if due and cursor_due is None and not reverse:
                    continue  # the cursor is past every due time
                if not due and cursor_due is not None and reverse:
                    continue  # going back from a due time: no row without one is before it
                if due == (cursor_due is not None):  # the cursor's own branch: seek in it
                    own = [values[0]] if due else []
                    own += [values[1], *([values[2]] if ranked else []), values[3],
                            values[4]]
                    bound = tuple_(*[literal(v, k.type) for k, v in
                                     zip(keys, own, strict=True)])
                    clauses.append(tuple_(*keys) < bound if reverse
                                   else tuple_(*keys) > bound)
            order = [k.desc() if reverse else k.asc() for k in keys]
            branches.append(select(Conversation.id).where(*clauses).order_by(*order)
                            .limit(limit).subquery())
    if not branches:
        return select(Conversation.id).where(false())
    return union_all(*[select(b.c.id) for b in branches])


def sort_values(sort: str, conv: Conversation) -> tuple[Any, ...]:
    """The values of `conv` on the keys of `sort`, computed as the database does."""
    if sort == "recent":
        return (conv.last_message_at, conv.id)
    return (conv.sla_due_at, conv.priority, rank_of(conv.relevance),
            conv.last_inbound_at or conv.created_at, conv.id)


def encode_cursor(sort: str, conv: Conversation) -> str:
    values = sort_values(sort, conv)
    out: list[Any] = [] if sort == "recent" else ["q"]  # recent cursors keep their old form
    for key, value in zip(keys(sort), values, strict=True):
        out.append(None if value is None else value.isoformat() if key.kind == "time"
                   else str(value) if key.kind == "uuid" else value)
    return base64.urlsafe_b64encode(json.dumps(out).encode()).decode()


def decode_cursor(sort: str, cursor: str) -> tuple[Any, ...]:
    """A cursor back to the sort values; one made for another order or altered is a 400."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list):
            raise ValueError("not a list")
        if sort != "recent":
            if not raw or raw[0] != "q":
                raise ValueError("not a queue cursor")
            raw = raw[1:]
        ks = keys(sort)
        if len(raw) != len(ks):
            raise ValueError("wrong length")
        return tuple(_decode(k, v) for k, v in zip(ks, raw, strict=True))
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadRequest("invalid cursor", code="invalid_cursor") from exc


def _decode(key: Key, value: Any) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null")
        return None
    if key.kind == "time":
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError("naive time")
        return when
    if key.kind == "uuid":
        return uuid.UUID(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31:
        raise ValueError("not an int")
    return value
