"""Customer feedback: CSAT (surveys sent on the channel, response rate, scores) and the
change of sentiment from the start of a conversation to its end."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards import feedback
from threadline.kpis.dashboards.build import Names, bars, channel_label, daily
from threadline.kpis.dashboards.filters import SENTIMENTS, Filters
from threadline.kpis.dashboards.schemas import (
    TITLES,
    Chart,
    Column,
    Dashboard,
    Group,
    Metric,
    Row,
    Series,
    Table,
)
from threadline.kpis.dashboards.stats import ratio
from threadline.kpis.models import ConversationFacts

F = ConversationFacts
RANK = {"negative": 0, "neutral": 1, "positive": 2}


def satisfaction(session: Session, filters: Filters, names: Names) -> Dashboard:
    del names
    conds = filters.conditions()
    csat = feedback.csat(session, filters)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    moves: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for start, end, channel, n in session.execute(
            select(F.sentiment_start, F.sentiment_end, F.origin_channel, func.count())
            .where(*conds).group_by(F.sentiment_start, F.sentiment_end, F.origin_channel)):
        pairs[(start or "none", end or "none")] += n
        ch = str(channel or "unknown")
        if start in RANK and end in RANK:
            moves[ch]["known"] += n
            moves[ch]["improved"] += n if RANK[end] > RANK[start] else 0
            moves[ch]["worsened"] += n if RANK[end] < RANK[start] else 0
    known = sum(m["known"] for m in moves.values())
    improved = sum(m["improved"] for m in moves.values())
    worsened = sum(m["worsened"] for m in moves.values())
    metrics = []
    charts: list[Chart] = []
    tables: list[Table] = []
    t = csat.total
    metrics += [
        Metric(key="surveys_sent", label="Surveys sent", value=t.sent, unit="count"),
        Metric(key="surveys_answered", label="Answered", value=t.answered, unit="count"),
        Metric(key="response_rate", label="Response rate", value=ratio(t.answered, t.sent),
               unit="percent"),
        Metric(key="csat_average", label="CSAT, average (1-5)", value=t.average,
               unit="score"),
        Metric(key="csat_satisfied", label="Satisfied (4-5)",
               value=ratio(t.satisfied, t.answered), unit="percent"),
    ]
    charts += [
        bars("scores", "CSAT answers by score", [
            (f"{s} {'★' * s}", t.scores[s], {"csat": str(s)}) for s in range(1, 6)],
            unit="count", x_label="Score", y_label="answers", series="Answers"),
        daily("csat_per_day", "Average CSAT per day the conversation opened (1-5)",
              filters, {"Average score": {d: a for d, (_n, a) in csat.by_day.items()}},
              unit="score", y_label="score (1-5)"),
    ]
    order = sorted(csat.by_channel, key=lambda c: -csat.by_channel[c].sent)
    tables.append(Table(key="csat_by_channel", title="CSAT by the channel it was asked on",
                        columns=[Column(key="sent", label="Sent", unit="count"),
                                 Column(key="answered", label="Answered", unit="count"),
                                 Column(key="rate", label="Response rate", unit="percent"),
                                 Column(key="average", label="Average (1-5)", unit="score"),
                                 Column(key="satisfied", label="Satisfied (4-5)",
                                        unit="percent")],
                        rows=[Row(label=channel_label(c), cells=[
                            s.sent, s.answered, ratio(s.answered, s.sent), s.average,
                            ratio(s.satisfied, s.answered)])
                            for c, s in ((c, csat.by_channel[c]) for c in order)]))
    metrics += [
        Metric(key="sentiment_improved", label="Sentiment improved", unit="percent",
               value=ratio(improved, known), drill={"flag": "improved"},
               hint="from the first customer message to the last"),
        Metric(key="sentiment_worsened", label="Sentiment worsened", unit="percent",
               value=ratio(worsened, known), drill={"flag": "worsened"}),
    ]
    levels = [*SENTIMENTS]
    charts.append(Chart(
        key="sentiment", kind="bar", unit="count", title="Sentiment at the start and at the end",
        x_label="Sentiment", y_label="conversations", categories=levels,
        category_drill=[{} for _ in levels],
        series=[Series(name="At the start", values=[
            float(sum(n for (a, _b), n in pairs.items() if a == s)) for s in levels]),
            Series(name="At the end", values=[
                float(sum(n for (_a, b), n in pairs.items() if b == s)) for s in levels])],
        point_drill=[[{"sentiment": f"{s}>*"} for s in levels],
                     [{"sentiment": f"*>{s}"} for s in levels]]))
    ends = [*levels, "none"]
    tables.append(Table(
        key="sentiment_moves", title="Sentiment: start (rows) to end (columns)",
        columns=[Column(key=e, label=f"ends {e}", unit="count") for e in ends],
        rows=[Row(label=f"starts {s}", cells=[pairs.get((s, e), 0) for e in ends],
                  drill={"sentiment": f"{s}>*"},
                  cell_drill=[{"sentiment": f"{s}>{e}"} for e in ends])
              for s in [*levels, "none"]]))
    by_channel = sorted(moves, key=lambda c: -moves[c]["known"])
    tables.append(Table(
        key="sentiment_by_channel", title="Sentiment change by channel",
        columns=[Column(key="known", label="With sentiment", unit="count"),
                 Column(key="improved", label="Improved", unit="percent",
                        drill={"flag": "improved"}),
                 Column(key="worsened", label="Worsened", unit="percent",
                        drill={"flag": "worsened"})],
        rows=[Row(label=channel_label(c), drill={"channel": c} if c != "unknown" else None,
                  cells=[moves[c]["known"], ratio(moves[c]["improved"], moves[c]["known"]),
                         ratio(moves[c]["worsened"], moves[c]["known"])]) for c in by_channel]))
    return Dashboard(group=Group.feedback, title=TITLES[Group.feedback], filters=filters.query(),
                     metrics=metrics, charts=charts, tables=tables)
