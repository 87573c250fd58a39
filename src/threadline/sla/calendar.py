"""Business time: a calendar's opening hours in its time zone, minus its holidays, turned
into UTC intervals once, so that the two questions the clocks ask are a bisect each:

- `add(t, n)`: the instant `n` business seconds after `t` (a due time);
- `between(a, b)`: the business seconds from `a` to `b` (what a clock consumed).

The intervals are built from local wall-clock times with `zoneinfo`, day by day, so a
daylight-saving change is simply a day whose hours map to different UTC instants (a local
time skipped by the change starts at the first valid instant; an interval made empty by it
is dropped). Pure: no database, no clock; `now` is the caller's.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6
MAX_HOLIDAYS = 400
WINDOW_BEFORE = timedelta(days=400)
WINDOW_AFTER = timedelta(days=800)
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

Hours = Mapping[str, Sequence[Sequence[str]]]


class CalendarError(ValueError):
    """Bad calendar input; `field` names what is wrong (`time_zone`, `hours.mon.1`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; CalendarError("time_zone") when it is not one."""
    if not isinstance(name, str) or len(name) > 64 or not _ZONE.match(name):
        raise CalendarError("time_zone", "not an IANA time zone name (e.g. Europe/Madrid)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError("time_zone", f"unknown time zone {name!r}") from None


def _minutes(value: str, field: str) -> int:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise CalendarError(field, "a time is HH:MM, 00:00 to 24:00")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def clean_hours(hours: Hours) -> dict[str, list[list[str]]]:
    """Opening hours per weekday (`{"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}`):
    known days, at most six intervals a day, each start before its end, none overlapping;
    returned sorted. A day left out is closed."""
    if not isinstance(hours, Mapping):
        raise CalendarError("hours", "an object of weekdays (mon..sun)")
    out: dict[str, list[list[str]]] = {}
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            raise CalendarError(f"hours.{str(day)[:12]}", "days are mon, tue, wed, thu, fri, "
                                "sat, sun")
        if not isinstance(intervals, Sequence) or isinstance(intervals, str):
            raise CalendarError(f"hours.{day}", "a list of [start, end] pairs")
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            raise CalendarError(f"hours.{day}", f"at most {MAX_INTERVALS_PER_DAY} intervals")
        spans: list[tuple[int, int]] = []
        for index, pair in enumerate(intervals):
            field = f"hours.{day}.{index}"
            if (not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2):
                raise CalendarError(field, "an interval is [start, end], e.g. [\"09:00\", "
                                    "\"17:00\"]")
            start, end = _minutes(pair[0], field), _minutes(pair[1], field)
            if start >= end:
                raise CalendarError(field, "the start must be before the end")
            spans.append((start, end))
        spans.sort()
        for index in range(1, len(spans)):
            if spans[index][0] < spans[index - 1][1]:
                raise CalendarError(f"hours.{day}", "intervals overlap")
        out[day] = [[f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"]
                    for s, e in spans]
    return {day: out[day] for day in WEEKDAYS if day in out}


def clean_holidays(holidays: Iterable[str | date]) -> list[str]:
    """Holiday dates (ISO `YYYY-MM-DD`, local to the calendar), sorted, without repeats."""
    if isinstance(holidays, str | bytes) or not isinstance(holidays, Iterable):
        raise CalendarError("holidays", "a list of dates (YYYY-MM-DD)")
    days: set[date] = set()
    for index, value in enumerate(holidays):
        if isinstance(value, date):
            days.add(value)
            continue
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            days.add(date.fromisoformat(value))
        except ValueError:
            raise CalendarError(f"holidays.{index}", "a date is YYYY-MM-DD") from None
        if len(days) > MAX_HOLIDAYS:
            raise CalendarError("holidays", f"at most {MAX_HOLIDAYS} dates")
    return [d.isoformat() for d in sorted(days)]


class BusinessCalendar:
    """Business time of one calendar. `hours=None` is round the clock (24x7): business
    time is wall time. Intervals are precomputed over a window around `around` (400 days
    before, 800 after); outside it, time counts as wall time."""

    def __init__(self, time_zone: str = "UTC", hours: Hours | None = None,
                 holidays: Iterable[str | date] = (), *, around: datetime | None = None) -> None:
        self.always = hours is None
        if self.always:
            return
        tz = zone(time_zone)
        week = clean_hours(hours or {})
        closed = {date.fromisoformat(d) for d in clean_holidays(holidays)}
        centre = (around or datetime.now(UTC)).astimezone(tz).date()
        first, last = centre - WINDOW_BEFORE, centre + WINDOW_AFTER
        daily: list[list[tuple[time | None, time | None]]] = [
            [(_time(start), _time(end)) for start, end in week.get(name, [])]
            for name in WEEKDAYS]
        starts: list[float] = []
        ends: list[float] = []
        day = first
        while day <= last:
            if day not in closed:
                for start_t, end_t in daily[day.weekday()]:
                    begin = _instant(day, start_t, tz)
                    finish = _instant(day, end_t, tz)
                    if finish <= begin:
                        continue  # made empty by a daylight-saving change
                    if ends and begin <= ends[-1]:  # 22:00-24:00 then 00:00-06:00
                        ends[-1] = max(ends[-1], finish)
                    else:
                        starts.append(begin)
                        ends.append(finish)
            day += timedelta(days=1)
        self.starts = starts
        self.ends = ends
        cumulative = [0.0]
        for s, e in zip(starts, ends, strict=True):
            cumulative.append(cumulative[-1] + (e - s))
        self.before = cumulative[:-1]  # business seconds before each interval starts
        self.through = cumulative[1:]  # ... and once it ends
        self.low = starts[0] if starts else 0.0
        self.high = ends[-1] if ends else 0.0

    # --- on epoch seconds (the recomputation's hot path) ---------------------------------

    def position(self, t: float) -> float:
        """Business seconds from the window's start to `t` (wall time outside it)."""
        if self.always:
            return t
        if not self.starts or t <= self.low:
            return t - self.low
        if t >= self.high:
            return self.through[-1] + (t - self.high)
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        end = self.ends[i]
        return self.before[i] + ((t if t < end else end) - self.starts[i])

    def instant(self, p: float) -> float:
        """The first instant whose position is `p` (the inverse of `position`)."""
        if self.always:
            return p
        if not self.starts or p <= 0.0:
            return self.low + p
        total = self.through[-1]
        if p > total:
            return self.high + (p - total)
        i = bisect_left(self.through, p)
        return self.starts[i] + (p - self.before[i])

    def add_ts(self, t: float, seconds: float) -> float:
        if self.always:
            return t + seconds
        return self.instant(self.position(t) + seconds)

    def between_ts(self, a: float, b: float) -> float:
        if self.always:
            return b - a
        return self.position(b) - self.position(a)

    # --- on datetimes --------------------------------------------------------------------

    def add(self, t: datetime, seconds: float) -> datetime:
        """The instant `seconds` business seconds after `t` (before it when negative)."""
        return datetime.fromtimestamp(self.add_ts(t.timestamp(), seconds), UTC)

    def between(self, a: datetime, b: datetime) -> float:
        """Business seconds from `a` to `b` (negative when `b` is before `a`)."""
        return self.between_ts(a.timestamp(), b.timestamp())

    def is_open(self, t: datetime) -> bool:
        if self.always:
            return True
        ts = t.timestamp()
        i = bisect_right(self.starts, ts) - 1
        return i >= 0 and ts < self.ends[i]


ALWAYS = BusinessCalendar()


def _time(value: str) -> time | None:
    """None is the end of the day (24:00)."""
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _instant(day: date, at: time | None, tz: ZoneInfo) -> float:
    if at is None:
        day, at = day + timedelta(days=1), time(0, 0)
    return datetime.combine(day, at, tzinfo=tz).timestamp()
