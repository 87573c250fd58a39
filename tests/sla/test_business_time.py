"""Business time by hand: opening hours with a lunch break, a weekend, a holiday and the
daylight-saving changes of Europe/Madrid (last Sunday of March and of October) and
America/New_York (second Sunday of March, first Sunday of November). Every expected value
below was worked out on paper from the calendar, in local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from threadline.sla.calendar import ALWAYS, BusinessCalendar, CalendarError, clean_hours, zone
from threadline.sla.clocks import Facts, Targets, due_times, schedule, step
from threadline.sla.models import SlaClock

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                "fri")}
EVERY_DAY = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
HOUR = 3600


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


@pytest.fixture(scope="module")
def office() -> BusinessCalendar:
    # 2026-12-08 (Tuesday) is a holiday in Spain (la Inmaculada)
    return BusinessCalendar("Europe/Madrid", OFFICE, ["2026-12-08"],
                            around=datetime(2026, 12, 1, tzinfo=UTC))


class TestOfficeHours:
    def test_inside_one_interval(self, office):
        assert office.add(madrid(2026, 12, 2, 9, 30), 2 * HOUR) == madrid(2026, 12, 2, 11, 30)

    def test_across_the_lunch_break(self, office):
        # Wednesday 12:00 + 2 h: 12:00-13:00 (1 h), closed 13:00-14:00, 14:00-15:00 (1 h)
        assert office.add(madrid(2026, 12, 2, 12, 0), 2 * HOUR) == madrid(2026, 12, 2, 15, 0)

    def test_written_at_night_counts_from_the_opening(self, office):
        # Wednesday 22:00 + 1 h: nothing until Thursday 09:00, due 10:00
        assert office.add(madrid(2026, 12, 2, 22, 0), HOUR) == madrid(2026, 12, 3, 10, 0)

    def test_over_the_weekend(self, office):
        # Friday 17:00 + 2 h: 17:00-18:00 (1 h), Saturday and Sunday closed, Monday 09:00-10:00
        assert office.add(madrid(2026, 12, 4, 17, 0), 2 * HOUR) == madrid(2026, 12, 7, 10, 0)

    def test_over_a_holiday(self, office):
        # Monday 17:30 + 1 h: 17:30-18:00 (30 min), Tuesday 8th is a holiday, Wed 09:00-09:30
        assert office.add(madrid(2026, 12, 7, 17, 30), HOUR) == madrid(2026, 12, 9, 9, 30)

    def test_between_over_weekend_and_holiday(self, office):
        # Fri 12:00 -> Wed 10:00: Fri 1 h + 4 h, Mon 8 h, Tue holiday, Wed 1 h = 14 h
        assert office.between(madrid(2026, 12, 4, 12, 0), madrid(2026, 12, 9, 10, 0)) == \
            14 * HOUR

    def test_a_due_time_at_closing_is_the_closing_time(self, office):
        assert office.add(madrid(2026, 12, 2, 14, 0), 4 * HOUR) == madrid(2026, 12, 2, 18, 0)

    def test_open_or_closed(self, office):
        assert office.is_open(madrid(2026, 12, 2, 9, 0))
        assert not office.is_open(madrid(2026, 12, 2, 13, 30))
        assert not office.is_open(madrid(2026, 12, 8, 10, 0))  # the holiday
        assert not office.is_open(madrid(2026, 12, 5, 10, 0))  # Saturday


class TestDaylightSaving:
    def test_madrid_spring_forward_last_sunday_of_march(self):
        cal = BusinessCalendar("Europe/Madrid", EVERY_DAY, around=datetime(2027, 3, 1,
                                                                          tzinfo=UTC))
        # Saturday 27 March 2027 16:00 CET + 2 h: 16:00-17:00, then Sunday 28th (CEST from
        # 02:00) 09:00-10:00 local = 07:00-08:00 UTC
        due = cal.add(madrid(2027, 3, 27, 16, 0), 2 * HOUR)
        assert due == madrid(2027, 3, 28, 10, 0)
        assert due == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
        # the night of the change is 16 h of wall time but 15 h of real time: no business
        assert cal.between(madrid(2027, 3, 27, 17, 0), madrid(2027, 3, 28, 9, 0)) == 0

    def test_madrid_fall_back_last_sunday_of_october(self):
        cal = BusinessCalendar("Europe/Madrid", EVERY_DAY, around=datetime(2026, 10, 1,
                                                                          tzinfo=UTC))
        # Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET; 09:00-17:00 is still 8 h
        assert cal.between(madrid(2026, 10, 25, 0, 0), madrid(2026, 10, 26, 0, 0)) == 8 * HOUR
        assert cal.add(madrid(2026, 10, 24, 16, 0), 2 * HOUR) == madrid(2026, 10, 25, 10, 0)
        assert cal.add(madrid(2026, 10, 24, 16, 0), 2 * HOUR) == datetime(
            2026, 10, 25, 9, 0, tzinfo=UTC)

    def test_new_york_spring_forward_second_sunday_of_march(self):
        hours = {"fri": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}
        cal = BusinessCalendar("America/New_York", hours, around=datetime(2027, 3, 1,
                                                                          tzinfo=UTC))
        # Friday 12 March 2027 16:00 EST + 2 h: 1 h Friday, the clocks go forward on Sunday
        # the 14th, Monday 15th 09:00-10:00 EDT = 13:00-14:00 UTC
        due = cal.add(new_york(2027, 3, 12, 16, 0), 2 * HOUR)
        assert due == new_york(2027, 3, 15, 10, 0)
        assert due == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)

    def test_new_york_overnight_hours_on_the_night_clocks_go_back(self):
        # a night shift 22:00-24:00 and 00:00-06:00 every day; on Sunday 1 November 2026 at
        # 02:00 EDT the clocks go back to 01:00 EST: that night has 9 h of business time
        night = {d: [["00:00", "06:00"], ["22:00", "24:00"]] for d in (
            "mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        cal = BusinessCalendar("America/New_York", night, around=datetime(2026, 10, 1,
                                                                          tzinfo=UTC))
        assert cal.between(new_york(2026, 10, 31, 22, 0), new_york(2026, 11, 1, 6, 0)) == \
            9 * HOUR
        assert cal.between(new_york(2026, 11, 7, 22, 0), new_york(2026, 11, 8, 6, 0)) == \
            8 * HOUR


class TestRoundTheClock:
    def test_24x7_is_wall_time(self):
        t = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
        assert ALWAYS.add(t, 5 * HOUR) == t + timedelta(hours=5)
        assert ALWAYS.between(t, t + timedelta(days=2)) == 48 * HOUR


class TestValidation:
    @pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "Europe/",
                                      "x" * 80, "/etc/localtime"])
    def test_bad_time_zones(self, name):
        with pytest.raises(CalendarError) as caught:
            zone(name)
        assert caught.value.field == "time_zone"

    @pytest.mark.parametrize(("hours", "field"), [
        ({"mon": [["09:00", "08:00"]]}, "hours.mon.0"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "hours.mon"),
        ({"funday": [["09:00", "12:00"]]}, "hours.funday"),
        ({"tue": [["9", "12:00"]]}, "hours.tue.0"),
        ({"wed": [["09:00", "24:01"]]}, "hours.wed.0"),
    ])
    def test_bad_hours_name_the_field(self, hours, field):
        with pytest.raises(CalendarError) as caught:
            clean_hours(hours)
        assert caught.value.field == field


class TestClocksByHand:
    """A clock through the office calendar: written Friday 17:00 with a 2 h first-response
    target and 80% warning; the agent answers on Monday at 09:30."""

    def test_first_response_over_the_weekend(self, office):
        clock = SlaClock(response_cycle=0, response_used=0.0, resolution_used=0.0)
        targets = Targets(first=2 * HOUR, resolution=16 * HOUR, warn_percent=80)
        written = madrid(2026, 12, 4, 17, 0)
        facts = Facts(status="open", waiting_since=written, first_reply_at=None,
                      replied_at=None, resolved_at=None)
        assert step(clock, facts, written, office, targets, new=True) == []
        schedule(clock, office, targets)
        assert clock.response_due_at == madrid(2026, 12, 7, 10, 0)
        assert clock.response_warn_at == madrid(2026, 12, 7, 9, 36)  # 96 of 120 minutes
        # 16 business hours: Fri 1 h, Mon 8 h, Tue holiday, Wed 09-13 and 14-17 -> Wed 17:00
        assert clock.resolution_due_at == madrid(2026, 12, 9, 17, 0)
        answered = madrid(2026, 12, 7, 9, 30)
        facts = Facts(status="pending", waiting_since=None, first_reply_at=answered,
                      replied_at=answered, resolved_at=None)
        [outcome] = step(clock, facts, answered, office, targets)
        assert outcome["target"] == "first_response" and outcome["status"] == "met"
        assert outcome["business_seconds"] == 1.5 * HOUR  # 1 h Friday, 30 min Monday
        schedule(clock, office, targets)
        assert clock.paused == "waiting_on_customer"
        assert clock.resolution_used == 1.5 * HOUR and clock.resolution_due_at is None

    def test_due_times_agree_with_add(self, office):
        since = madrid(2026, 12, 3, 16, 0).timestamp()
        r_due, _, s_due, _ = due_times(office, Targets(first=3 * HOUR, resolution=HOUR),
                                       "first", 1800.0, since, 0.0, since)
        assert datetime.fromtimestamp(r_due, UTC) == madrid(2026, 12, 4, 9, 30)
        assert datetime.fromtimestamp(s_due, UTC) == madrid(2026, 12, 3, 17, 0)
