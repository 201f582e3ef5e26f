"""The time-expression reader: every form people type, pinned to a fixed "now" and explicit zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.parse.compose import TimeReading, TimeWordsError, read_time
from handlers.parse.lexer import tokenize

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # a Sunday; Paris is UTC+1, New York UTC-5
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


def read(text: str, tz: ZoneInfo = UTC_ZONE, now: datetime = NOW) -> TimeReading:
    return read_time(tokenize(text), now, tz)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def window(reading: TimeReading) -> tuple[datetime, datetime]:
    return reading.start, reading.end


# ---------------------------------------------------------------------------------------- tokenising


def test_tokenize_keeps_ips_ids_clocks_and_zones_whole_and_strips_punctuation():
    tokens = tokenize("why did 203.0.113.10, vpn-0123456789abcdef0 (Europe/Paris) drop at 14:02?!")
    assert tokens == ["why", "did", "203.0.113.10", "vpn-0123456789abcdef0", "Europe/Paris", "drop", "at", "14:02"]


def test_tokenize_splits_a_glued_clock_range_into_a_range():
    assert tokenize("13:00-15:00") == ["13:00", "-", "15:00"]
    assert tokenize("2026-11-20") == ["2026-11-20"]


# ------------------------------------------------------------------------------------- single times


def test_bare_time_earlier_than_now_means_today():
    reading = read("at 09:15")
    assert reading.anchor == utc(2026, 11, 22, 9, 15)


def test_bare_time_later_than_now_means_yesterday():
    reading = read("at 14:02")
    assert reading.anchor == utc(2026, 11, 21, 14, 2)


def test_instant_gives_fifteen_minutes_either_side():
    reading = read("at 14:02")
    assert window(reading) == (utc(2026, 11, 21, 13, 47), utc(2026, 11, 21, 14, 17))
    assert reading.explicit is True


def test_instant_window_end_is_clipped_to_now():
    reading = read("at 10:25")
    assert window(reading) == (utc(2026, 11, 22, 10, 10), NOW)


@pytest.mark.parametrize("text", ["around 14:02", "about 14:02", "~14:02", "approximately 14:02", "14:02"])
def test_around_about_and_tilde_behave_like_at(text):
    assert window(read(text)) == window(read("at 14:02"))
    assert read(text).anchor == utc(2026, 11, 21, 14, 2)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("2pm", 14, 0), ("2:02 pm", 14, 2), ("2:02pm", 14, 2), ("2:02 p.m.", 14, 2), ("14h02", 14, 2),
     ("14:02:30", 14, 2), ("noon", 12, 0), ("midnight", 0, 0), ("12am", 0, 0), ("12pm", 12, 0), ("9am", 9, 0),
     ("at 14", 14, 0), ("at 0", 0, 0)],
)
def test_clock_spellings_all_mean_the_same_wall_time(text, hour, minute):
    anchor = read(text).anchor
    assert anchor is not None
    assert (anchor.hour, anchor.minute) == (hour, minute)
    assert anchor <= NOW


def test_yesterday_at_a_time_earlier_than_now_is_still_yesterday():
    assert read("yesterday at 09:00").anchor == utc(2026, 11, 21, 9, 0)
    assert read("09:00 yesterday").anchor == utc(2026, 11, 21, 9, 0)


def test_yesterday_around_2pm_is_yesterday_afternoon():
    assert read("yesterday around 2pm").anchor == utc(2026, 11, 21, 14, 0)


def test_hours_ago_is_an_instant():
    reading = read("2 hours ago")
    assert reading.anchor == utc(2026, 11, 22, 8, 30)
    assert window(reading) == (utc(2026, 11, 22, 8, 15), utc(2026, 11, 22, 8, 45))
    assert read("an hour ago").anchor == utc(2026, 11, 22, 9, 30)
    assert read("90m ago").anchor == utc(2026, 11, 22, 9, 0)


def test_days_ago_is_that_whole_day():
    reading = read("3 days ago")
    assert window(reading) == (utc(2026, 11, 19), utc(2026, 11, 20))
    assert reading.anchor is None


# -------------------------------------------------------------------------------------- dates, ISO


def test_iso_date_and_time():
    assert read("on 2026-11-20 at 14:02").anchor == utc(2026, 11, 20, 14, 2)
    assert read("2026-11-21 14:02").anchor == utc(2026, 11, 21, 14, 2)


def test_iso_instant_with_z_is_utc_whatever_the_asker_zone():
    reading = read("at 2026-11-21T14:02:00Z", PARIS)
    assert reading.anchor == utc(2026, 11, 21, 14, 2)
    assert reading.tz == ZoneInfo("UTC")


def test_iso_instant_with_offset_uses_that_offset():
    assert read("2026-11-21T14:02:00+02:00", NEW_YORK).anchor == utc(2026, 11, 21, 12, 2)


def test_iso_date_without_time_in_asker_zone_is_the_whole_local_day():
    reading = read("on 2026-11-20", PARIS)
    assert window(reading) == (utc(2026, 11, 19, 23), utc(2026, 11, 20, 23))


@pytest.mark.parametrize("text", ["on 20 Nov at 2:02pm", "Nov 20 14:02", "20th of November at 14:02",
                                  "November 20th 2026 14:02", "20 nov 2026, 2:02 PM"])
def test_month_name_dates(text):
    assert read(text).anchor == utc(2026, 11, 20, 14, 2)


def test_date_without_year_after_today_means_last_year():
    assert read("on 25 Dec at 10:00").anchor == utc(2025, 12, 25, 10, 0)


def test_weekday_means_the_latest_such_day():
    assert window(read("on friday")) == (utc(2026, 11, 20), utc(2026, 11, 21))
    assert window(read("sunday")) == (utc(2026, 11, 22), NOW)  # today is Sunday
    assert window(read("last sunday")) == (utc(2026, 11, 15), utc(2026, 11, 16))
    assert read("monday at 14:00").anchor == utc(2026, 11, 16, 14, 0)


def test_ordinal_day_after_on_or_since_is_this_month_or_the_latest_past_one():
    assert window(read("on the 20th")) == (utc(2026, 11, 20), utc(2026, 11, 21))
    assert read("on 20th at 14:02").anchor == utc(2026, 11, 20, 14, 2)
    assert window(read("since the 20th")) == (utc(2026, 11, 20), NOW)
    assert window(read("on the 23rd")) == (utc(2026, 10, 23), utc(2026, 10, 24))  # the 23rd of Nov is to come


def test_ordinal_that_is_not_a_date_is_left_alone():
    assert read("the 3rd drop").explicit is False


# ------------------------------------------------------------------------------------------- ranges


def test_between_range_is_exact_and_in_the_past():
    reading = read("between 13:00 and 15:00")
    assert window(reading) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))
    assert reading.anchor is None


def test_range_containing_now_is_clipped_to_now():
    assert window(read("between 10:00 and 11:00")) == (utc(2026, 11, 22, 10), NOW)


@pytest.mark.parametrize("text", ["from 13:00 to 15:00", "13:00-15:00", "13:00 - 15:00", "1pm to 3pm",
                                  "between 1pm and 3pm", "from 13:00 until 15:00"])
def test_range_spellings(text):
    assert window(read(text)) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))


def test_range_day_applies_to_both_ends():
    expected = (utc(2026, 11, 20, 13), utc(2026, 11, 20, 15))
    assert window(read("on 2026-11-20 between 13:00 and 15:00")) == expected
    assert window(read("between 13:00 and 15:00 on 2026-11-20")) == expected


def test_overnight_range_wraps_midnight():
    assert window(read("between 23:00 and 01:00")) == (utc(2026, 11, 21, 23), utc(2026, 11, 22, 1))


def test_range_borrows_am_pm_from_the_other_end():
    assert window(read("between 2 and 4pm")) == (utc(2026, 11, 21, 14), utc(2026, 11, 21, 16))
    assert window(read("between 11 and 1pm")) == (utc(2026, 11, 21, 11), utc(2026, 11, 21, 13))


def test_range_words_may_be_followed_by_around_or_the():
    assert window(read("between about 13:00 and around 15:00")) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))


def test_to_and_and_between_other_words_are_not_ranges():
    reading = read("what happened to paris and lyon at 14:02")
    assert reading.anchor == utc(2026, 11, 21, 14, 2)


def test_range_ends_may_have_different_zones():
    reading = read("between 13:00 CET and 13:30 UTC")
    assert window(reading) == (utc(2026, 11, 21, 12), utc(2026, 11, 21, 13, 30))


def test_reversed_range_is_refused():
    with pytest.raises(TimeWordsError, match="ends before it starts"):
        read("between 15:00 and 13:00")
    with pytest.raises(TimeWordsError, match="ends before it starts"):
        read("from 2026-11-21 15:00 to 2026-11-21 13:00")


def test_between_without_an_end_is_refused_with_an_example():
    with pytest.raises(TimeWordsError, match='"between 13:00 and 15:00"'):
        read("between 13:00")


def test_since_a_time_runs_to_now():
    assert window(read("since 09:00")) == (utc(2026, 11, 22, 9), NOW)
    assert window(read("since 09:00", PARIS)) == (utc(2026, 11, 22, 8), NOW)
    assert window(read("since monday")) == (utc(2026, 11, 16), NOW)
    assert window(read("since yesterday")) == (utc(2026, 11, 21), NOW)


def test_until_a_time_is_the_day_before_it():
    assert window(read("until 09:00")) == (utc(2026, 11, 21, 9), utc(2026, 11, 22, 9))


# ---------------------------------------------------------------------------------- relative spans


@pytest.mark.parametrize(
    ("text", "delta"),
    [("in the last hour", timedelta(hours=1)), ("last 30 minutes", timedelta(minutes=30)),
     ("past 2h", timedelta(hours=2)), ("last 3 days", timedelta(days=3)), ("over the past day", timedelta(days=1)),
     ("last couple of hours", timedelta(hours=2)), ("last 90 min", timedelta(minutes=90)),
     ("last week", timedelta(days=7))],
)
def test_last_n_units_ends_now(text, delta):
    reading = read(text)
    assert window(reading) == (NOW - delta, NOW)
    assert reading.anchor is None and reading.explicit


def test_today_runs_from_local_midnight_to_now():
    assert window(read("today")) == (utc(2026, 11, 22), NOW)
    assert window(read("today", PARIS)) == (utc(2026, 11, 21, 23), NOW)
    assert window(read("today", NEW_YORK)) == (utc(2026, 11, 22, 5), NOW)


def test_yesterday_is_the_whole_local_day():
    assert window(read("yesterday")) == (utc(2026, 11, 21), utc(2026, 11, 22))
    assert window(read("yesterday", NEW_YORK)) == (utc(2026, 11, 21, 5), utc(2026, 11, 22, 5))


def test_parts_of_the_day():
    assert window(read("this morning")) == (utc(2026, 11, 22, 6), NOW)
    assert window(read("yesterday afternoon")) == (utc(2026, 11, 21, 12), utc(2026, 11, 21, 18))
    assert window(read("last night")) == (utc(2026, 11, 21, 18), utc(2026, 11, 22, 6))
    assert read("this morning at 9").anchor == utc(2026, 11, 22, 9)


def test_no_time_words_gives_the_default_last_day():
    reading = read("why did paris drop")
    assert window(reading) == (NOW - timedelta(hours=24), NOW)
    assert reading.explicit is False and reading.anchor is None
    assert reading.used == frozenset()


def test_used_marks_only_the_time_tokens():
    assert read("why did paris drop at 14:02").used == frozenset({5})
    assert read("paris between 13:00 and 15:00 UTC").used == frozenset({1, 2, 3, 4, 5})


# ------------------------------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("text", "anchor"),
    [("at 14:02 UTC", utc(2026, 11, 21, 14, 2)), ("at 14:02 GMT", utc(2026, 11, 21, 14, 2)),
     ("at 14:02Z", utc(2026, 11, 21, 14, 2)), ("at 14:02 Europe/Paris", utc(2026, 11, 21, 13, 2)),
     ("at 14:02 CET", utc(2026, 11, 21, 13, 2)), ("at 14:02 CEST", utc(2026, 11, 21, 13, 2)),
     ("at 9:02 EST", utc(2026, 11, 21, 14, 2)), ("at 6:02am PST", utc(2026, 11, 21, 14, 2)),
     ("at 09:02 America/New_York", utc(2026, 11, 21, 14, 2)), ("at 16:02 UTC+2", utc(2026, 11, 21, 14, 2))],
)
def test_a_zone_named_in_the_text_wins_over_the_asker_zone(text, anchor):
    assert read(text, NEW_YORK).anchor == anchor


def test_reading_reports_the_zone_it_used():
    assert read("at 14:02 Europe/Paris", NEW_YORK).tz == PARIS
    assert read("at 14:02 EDT", PARIS).tz == NEW_YORK
    assert read("at 14:02", PARIS).tz == PARIS


def test_unknown_zone_is_refused_with_the_closest_name():
    with pytest.raises(TimeWordsError, match="did you mean Europe/Paris"):
        read("at 14:02 Europe/Pariss")


def test_zone_applies_to_the_latest_past_rule():
    # 14:02 in New York is 19:02 UTC: later than now (10:30 UTC) today, so it is yesterday's.
    assert read("at 14:02", NEW_YORK).anchor == utc(2026, 11, 21, 19, 2)
    # 05:00 in New York is 10:00 UTC: earlier than now, so today's.
    assert read("at 05:00", NEW_YORK).anchor == utc(2026, 11, 22, 10, 0)


# ------------------------------------------------------------------------------------ bad or future


@pytest.mark.parametrize("text", ["at 25:61", "13pm", "at 14:2", "at 24:00", "at 99"])
def test_impossible_time_is_refused_with_an_example_that_works(text):
    with pytest.raises(TimeWordsError) as caught:
        read(text)
    message = str(caught.value)
    assert message.startswith("can't read the time")
    assert '"at 14:02"' in message and "\n" not in message


def test_impossible_time_message_quotes_what_was_typed():
    with pytest.raises(TimeWordsError, match='can\'t read the time "25:61": try "at 14:02"'):
        read("at 25:61")


@pytest.mark.parametrize("text", ["on 2026-02-30", "31 Feb", "2026-13-01", "on 11/20", "2026-11-21T14:02:00+99:00"])
def test_impossible_or_ambiguous_date_is_refused(text):
    with pytest.raises(TimeWordsError, match="can't read the"):
        read(text)


@pytest.mark.parametrize("text", ["at 14:02 tomorrow", "tomorrow", "on 2026-12-01", "in 2 hours", "2026-11-22 11:00",
                                  "tonight"])
def test_time_in_the_future_is_refused(text):
    with pytest.raises(TimeWordsError, match="is in the future"):
        read(text)


def test_twelve_hour_number_without_am_pm_is_refused_not_guessed():
    with pytest.raises(TimeWordsError, match=r'is "3" 3am or 3pm\? try "at 3pm" or "at 15:00"'):
        read("at 3")


def test_two_different_times_in_one_question_are_refused():
    with pytest.raises(TimeWordsError, match="two different times"):
        read("at 14:02 and 15:00")
    with pytest.raises(TimeWordsError, match="two different times"):
        read("yesterday in the last hour")


def test_reaching_too_far_back_is_refused():
    with pytest.raises(TimeWordsError, match="too far back"):
        read("last 9999 days")
    with pytest.raises(TimeWordsError, match="last 30 minutes"):
        read("last 0 minutes")


def test_counts_are_not_read_as_hours():
    reading = read("did it drop about 3 times")
    assert reading.explicit is False


def test_unread_words_in_a_time_position_are_reported_not_guessed():
    assert read("at lunch").unread == ("lunch",)
    assert read("at around 14:02").unread == ()
    assert read("since the reboot").unread == ()


# -------------------------------------------------------------------------------------------- DST


def test_nonexistent_spring_forward_time_does_not_crash_and_is_shifted():
    now = utc(2026, 3, 29, 10)  # Paris jumped from 02:00 CET to 03:00 CEST at 01:00 UTC
    reading = read("at 02:30", PARIS, now)
    assert reading.anchor == utc(2026, 3, 29, 1, 30)
    assert reading.anchor.astimezone(PARIS).strftime("%H:%M") == "03:30"


def test_repeated_fall_back_time_covers_both_occurrences():
    now = utc(2026, 10, 25, 10)  # Paris fell back from 03:00 CEST to 02:00 CET at 01:00 UTC
    reading = read("at 02:30", PARIS, now)
    assert reading.anchor == utc(2026, 10, 25, 0, 30)  # the first 02:30 (CEST)
    assert window(reading) == (utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 1, 45))  # to the second, +15 min


def test_day_lengths_follow_dst():
    spring = read("yesterday", PARIS, utc(2026, 3, 30, 10))
    autumn = read("yesterday", PARIS, utc(2026, 10, 26, 10))
    assert spring.end - spring.start == timedelta(hours=23)
    assert autumn.end - autumn.start == timedelta(hours=25)


def test_times_after_the_change_use_the_new_offset():
    assert read("at 14:02", PARIS, utc(2026, 3, 29, 20)).anchor == utc(2026, 3, 29, 12, 2)  # CEST
    assert read("at 14:02", PARIS, utc(2026, 10, 25, 20)).anchor == utc(2026, 10, 25, 13, 2)  # CET


# --------------------------------------------------------------------------------------- properties


@given(hour=st.integers(0, 23), minute=st.integers(0, 59),
       zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
       now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_bare_time_is_always_the_latest_past_one(hour, minute, zone, now):
    tz = ZoneInfo(zone)
    reading = read(f"at {hour:02d}:{minute:02d}", tz, now)
    assert reading.anchor is not None
    assert now - timedelta(hours=25) < reading.anchor <= now
    assert reading.start <= reading.anchor and reading.end <= now
    local = reading.anchor.astimezone(tz)
    if (local.hour, local.minute) != (hour, minute):
        # Only a wall time that a DST jump skipped may read differently (it is shifted forward).
        wall = datetime.combine(local.date(), time(hour, minute), tzinfo=tz)
        assert wall.astimezone(UTC).astimezone(tz).time() != wall.time()


# ------------------------------------------------------------------------ loose forms (issue 14)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("at 1402", 14, 2), ("1402 yesterday", 14, 2), ("0930", 9, 30), ("14 02", 14, 2), ("at 9 05", 9, 5),
     ("at 14h", 14, 0), ("à 9h", 9, 0), ("14 Uhr", 14, 0), ("um 14.02 Uhr", 14, 2), ("at 14.02", 14, 2),
     ("2pmish", 14, 0), ("noonish", 12, 0), ("around 14:00-ish", 14, 0)],
)
def test_military_spaced_h_dotted_and_ish_clocks(text, hour, minute):
    anchor = read(text.replace("à", "at")).anchor
    assert anchor is not None and (anchor.hour, anchor.minute) == (hour, minute)


def test_a_four_digit_year_or_count_is_not_read_as_a_clock():
    assert read("drops since 2026").explicit is False  # a year: refused later as a leftover, not 20:26
    assert read("1000 tunnels").explicit is False
    assert read("at 2015").anchor == utc(2026, 11, 21, 20, 15)  # after "at" it is a clock


def test_a_lone_small_h_number_may_be_a_duration_and_is_left_alone():
    assert read("paris down 2h").explicit is False
    assert read("paris down for 2h").explicit is False  # how long, not when
    assert read("why was it down for 10 min at 14:00").anchor == utc(2026, 11, 21, 14, 0)


def test_h_clock_ranges():
    assert window(read("13h-15h")) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))
    assert window(read("13h–15h")) == (utc(2026, 11, 21, 13), utc(2026, 11, 21, 15))
    assert window(read("between 9h and 11h")) == (utc(2026, 11, 22, 9), utc(2026, 11, 22, 10, 30))


def test_after_and_before_look_at_the_hour_next_to_the_time_not_until_now():
    assert window(read("just after 2pm")) == (utc(2026, 11, 21, 14), utc(2026, 11, 21, 15))
    assert window(read("before 9am")) == (utc(2026, 11, 22, 8), utc(2026, 11, 22, 9))
    assert window(read("after yesterday")) == (utc(2026, 11, 22), NOW)  # a day: the day after it
    assert window(read("since 2pm")) == (utc(2026, 11, 21, 14), NOW)


def test_weekend_is_the_latest_saturday_and_sunday():
    sunday_now = read("over the weekend")  # NOW is a Sunday: this weekend, up to now
    assert window(sunday_now) == (utc(2026, 11, 21), NOW)
    assert window(read("last weekend")) == (utc(2026, 11, 14), utc(2026, 11, 16))
    monday = utc(2026, 11, 23, 10)
    assert window(read("last weekend", now=monday)) == (utc(2026, 11, 21), utc(2026, 11, 23))
    assert window(read("the weekend", now=monday)) == (utc(2026, 11, 21), utc(2026, 11, 23))


def test_weekend_with_a_clock_asks_which_day():
    with pytest.raises(TimeWordsError, match="which day"):
        read("over the weekend at 14:02")


def test_this_week_and_the_day_before_yesterday_and_todays():
    assert window(read("this week")) == (utc(2026, 11, 16), NOW)
    assert window(read("the day before yesterday")) == (utc(2026, 11, 20), utc(2026, 11, 21))
    assert window(read("today's")) == (utc(2026, 11, 22), NOW)
    assert window(read("yday")) == (utc(2026, 11, 21), utc(2026, 11, 22))
    assert window(read("on sat")) == (utc(2026, 11, 21), utc(2026, 11, 22))


def test_a_part_of_the_day_applies_to_both_ends_of_a_range():
    assert window(read("between 2 and 4 yesterday afternoon")) == (utc(2026, 11, 21, 14), utc(2026, 11, 21, 16))
    assert window(read("from 9 to 11 this morning")) == (utc(2026, 11, 22, 9), utc(2026, 11, 22, 10, 30))


def test_a_clock_outside_its_part_of_the_day_is_two_times():
    with pytest.raises(TimeWordsError, match="two different times"):
        read("14:02 in the morning")
    assert read("last night at 2am").anchor == utc(2026, 11, 22, 2)  # the night ends the next morning


def test_zone_abbreviations_count_only_next_to_a_clock():
    assert read("at 14:02 EST").tz == NEW_YORK
    assert read("EST 14:02").tz == NEW_YORK
    reading = read("paris est tombé hier à 14h02", PARIS)  # French "est" is "is", not New York
    assert reading.tz == PARIS and reading.anchor == utc(2026, 11, 21, 13, 2)
    assert read("yesterday UTC", PARIS).tz == UTC_ZONE  # UTC is no ordinary word: anywhere


@pytest.mark.parametrize(("asker", "text", "zone"),
                         [("Asia/Kolkata", "at 14:02 IST", "Asia/Kolkata"),
                          ("Europe/Dublin", "at 14:02 IST", "Europe/Dublin"),
                          ("America/New_York", "at 9:02 CST", "America/Chicago"),
                          ("Asia/Shanghai", "at 9:02 CST", "Asia/Shanghai"),
                          ("Europe/Paris", "at 9:02 BST", "Europe/London")])
def test_ambiguous_abbreviations_are_read_in_the_askers_region(asker, text, zone):
    assert read(text, ZoneInfo(asker)).tz == ZoneInfo(zone)


def test_ambiguous_abbreviation_outside_the_askers_region_is_refused_with_the_choices():
    with pytest.raises(TimeWordsError) as caught:
        read("at 14:02 IST", UTC_ZONE)
    assert all(zone in str(caught.value) for zone in ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"))


def test_ambiguous_abbreviation_is_refused_when_the_zone_given_is_not_the_askers():
    assert read("at 14:02 IST", ZoneInfo("Asia/Kolkata")).tz == ZoneInfo("Asia/Kolkata")
    with pytest.raises(TimeWordsError, match='"IST" may mean'):
        read_time(tokenize("at 14:02 IST"), NOW, ZoneInfo("Asia/Kolkata"), region=False)


def test_place_and_local_times():
    places = {"paris": "Europe/Paris", "dc2": ""}
    assert read_time(tokenize("at 3:02pm paris time"), NOW, NEW_YORK, places=places).anchor == utc(2026, 11, 21, 14, 2)
    assert read_time(tokenize("at 15h02 time in paris"), NOW, NEW_YORK, places=places).tz == PARIS
    no_zone = read_time(tokenize("at 14:02 dc2 time"), NOW, NEW_YORK, places=places)
    assert no_zone.tz == NEW_YORK and "dc2 has no timezone configured" in no_zone.notes[0]
    local = read_time(tokenize("at 14:02 local time"), NOW, NEW_YORK, local=PARIS)
    assert local.local and local.anchor == utc(2026, 11, 21, 13, 2)
    assert read_time(tokenize("at 14:02 my time"), NOW, NEW_YORK, local=PARIS).tz == NEW_YORK


def test_a_bare_hour_is_24_hour_in_languages_that_write_it_so():
    assert read_time(tokenize("at 9"), NOW, UTC_ZONE, clock24=True).anchor == utc(2026, 11, 22, 9)
    with pytest.raises(TimeWordsError, match="9am or 9pm"):
        read("at 9")


def test_ago_may_come_first_as_other_languages_write_it():
    assert read("ago 2 hours").anchor == utc(2026, 11, 22, 8, 30)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2-3pm", utc(2026, 11, 21, 14), utc(2026, 11, 21, 15)), ("14-15h", utc(2026, 11, 21, 14), utc(2026, 11, 21, 15)),
    ("9-11am", utc(2026, 11, 22, 9), NOW), ("11-1pm", utc(2026, 11, 21, 11), utc(2026, 11, 21, 13)),
])
def test_a_dash_range_of_bare_hours_takes_its_half_of_the_day_from_its_end(text, start, end):
    assert window(read(f"paris down {text}")) == (start, end)


def test_this_am_and_this_pm_are_this_morning_and_this_afternoon():
    assert window(read("did it drop this am")) == (utc(2026, 11, 22, 6), NOW)
    with pytest.raises(TimeWordsError, match="in the future"):
        read("did it drop this pm")


@pytest.mark.parametrize(("text", "anchor"), [("1h30 ago", utc(2026, 11, 22, 9)),
                                              ("2 hours back", utc(2026, 11, 22, 8, 30))])
def test_hours_and_minutes_ago_and_back(text, anchor):
    assert read(f"paris drop {text}").anchor == anchor


def test_a_hedge_between_at_and_a_bare_hour_still_asks_am_or_pm():
    with pytest.raises(TimeWordsError, match="2am or 2pm"):
        read("monday at like 2")
