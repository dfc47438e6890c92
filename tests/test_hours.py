"""Opening hours on Paris's clock: parsing what the crawler writes, and "ouvert maintenant"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.extract.hours import normalise_opening_hours
from portal.hours import PARIS, opening_status, parse_opening_hours, weekly_table

SHOP = ["Mo-Fr 09:00-12:00", "Mo-Fr 14:00-19:00", "Sa 10:00-18:00"]


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def status(entries, now):
    found = opening_status(parse_opening_hours(entries), now)
    return None if found is None else (found.is_open, found.text)


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (paris(2026, 11, 23, 8, 59), (False, "Fermé · ouvre à 09:00")),
        (paris(2026, 11, 23, 9, 0), (True, "Ouvert maintenant · ferme à 12:00")),
        (paris(2026, 11, 23, 12, 30), (False, "Fermé · ouvre à 14:00")),
        (paris(2026, 11, 23, 18, 59), (True, "Ouvert maintenant · ferme à 19:00")),
        (paris(2026, 11, 23, 19, 0), (False, "Fermé · ouvre demain à 09:00")),
        (paris(2026, 11, 28, 18, 30), (False, "Fermé · ouvre lundi à 09:00")),  # Saturday evening
        (paris(2026, 11, 29, 11, 0), (False, "Fermé · ouvre demain à 09:00")),  # Sunday
    ],
)
def test_status_through_a_week(now, expected):
    assert status(SHOP, now) == expected


def test_now_is_read_in_paris_whatever_zone_it_comes_in():
    # 08:30 UTC in November is 09:30 in Paris.
    assert status(SHOP, datetime(2026, 11, 23, 8, 30, tzinfo=UTC)) == (True, "Ouvert maintenant · ferme à 12:00")


def test_spring_forward_day_keeps_wall_clock_hours():
    # 29 March 2026: clocks go from 02:00 to 03:00 in Paris (UTC+1 -> UTC+2).
    hours = ["Su 09:00-12:00", "Mo 09:00-19:00"]
    assert status(hours, datetime(2026, 3, 29, 7, 30, tzinfo=UTC)) == (True, "Ouvert maintenant · ferme à 12:00")
    assert status(hours, datetime(2026, 3, 29, 6, 30, tzinfo=UTC)) == (False, "Fermé · ouvre à 09:00")  # 08:30
    # the day before, 07:30 UTC was 08:30 in Paris
    assert status(["Sa 09:00-12:00"], datetime(2026, 3, 28, 7, 30, tzinfo=UTC))[0] is False
    assert status(["Sa 09:00-12:00"], datetime(2026, 3, 28, 8, 0, tzinfo=UTC))[0] is True


def test_fall_back_day_and_its_repeated_hour():
    # 25 October 2026: clocks go back from 03:00 to 02:00 (UTC+2 -> UTC+1); 02:30 happens twice.
    night = ["Sa 22:00-03:00"]
    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert status(night, first_0230) == (True, "Ouvert maintenant · ferme à 03:00")
    assert status(night, second_0230) == (True, "Ouvert maintenant · ferme à 03:00")
    assert status(night, datetime(2026, 10, 25, 2, 0, tzinfo=UTC))[0] is False  # 03:00 CET
    assert status(["Su 09:00-12:00"], datetime(2026, 10, 25, 8, 30, tzinfo=UTC)) == (
        True,
        "Ouvert maintenant · ferme à 12:00",
    )  # 09:30 CET


def test_hours_past_midnight_belong_to_the_evening_they_start():
    bar = ["Fr-Sa 18:00-02:00"]
    assert status(bar, paris(2026, 11, 27, 23, 0)) == (True, "Ouvert maintenant · ferme demain à 02:00")
    assert status(bar, paris(2026, 11, 28, 1, 30)) == (True, "Ouvert maintenant · ferme à 02:00")  # Saturday night
    assert status(bar, paris(2026, 11, 30, 1, 30)) == (False, "Fermé · ouvre vendredi à 18:00")  # Monday night
    assert weekly_table(parse_opening_hours(bar))[4] == ("vendredi", "18:00 – 02:00")


def test_always_open_and_closed_days():
    assert status(["Mo-Su 00:00-24:00"], paris(2026, 11, 23, 3, 0)) == (True, "Ouvert maintenant · 24 h/24")
    assert status(["Mo-Su 09:00-19:00", "Su off"], paris(2026, 11, 29, 10, 0)) == (
        False,
        "Fermé · ouvre demain à 09:00",
    )
    table = dict(weekly_table(parse_opening_hours(["Mo-Su 09:00-19:00", "Su off"])))
    assert table["dimanche"] == "Fermé" and table["samedi"] == "09:00 – 19:00"


def test_weekly_table_in_french_with_lunch_breaks():
    assert weekly_table(parse_opening_hours(SHOP)) == [
        ("lundi", "09:00 – 12:00, 14:00 – 19:00"),
        ("mardi", "09:00 – 12:00, 14:00 – 19:00"),
        ("mercredi", "09:00 – 12:00, 14:00 – 19:00"),
        ("jeudi", "09:00 – 12:00, 14:00 – 19:00"),
        ("vendredi", "09:00 – 12:00, 14:00 – 19:00"),
        ("samedi", "10:00 – 18:00"),
        ("dimanche", "Fermé"),
    ]


@pytest.mark.parametrize(
    "entries",
    [
        ["Mo-Fr 09:00-12:00,14:00-19:00", "Sa 10:00-18:00"],
        ["Mo-Fr 09:00-12:00 14:00-19:00; Sa 10:00-18:00"],
        ["Mo,Tu,We,Th,Fr 09:00-12:00", "Mo-Fr 14:00-19:00", "Sa 10:00-18:00"],
        ["Mo-Fr 09:00-12:00,14:00-19:00, Sa 10:00-18:00"],
        ["Mo-Fr 09:00-12:00 14:00-19:00 Sa 10:00-18:00 Su off"],
        ["mo-fr 09:00-12:00; mo-fr 14:00-19:00;sa 10:00-18:00;"],
    ],
)
def test_other_spellings_of_the_same_hours(entries):
    assert weekly_table(parse_opening_hours(entries)) == weekly_table(parse_opening_hours(SHOP))


def test_day_ranges_wrap_around_the_week():
    table = dict(weekly_table(parse_opening_hours(["Sa-Mo 10:00-12:00"])))
    assert [d for d, t in table.items() if t != "Fermé"] == ["lundi", "samedi", "dimanche"]


def test_times_without_days_mean_every_day():
    assert all(t == "10:00 – 18:00" for _, t in weekly_table(parse_opening_hours(["10:00-18:00"])))


def test_unreadable_strings_are_kept_as_text_and_give_no_status():
    schedule = parse_opening_hours(["Ouvert tous les jours sauf le lundi", "PH off", "Mo 25:00-26:00", "Mo-Fr 9h-18h"])
    assert schedule.unparsed == ["Ouvert tous les jours sauf le lundi", "PH off", "Mo 25:00-26:00", "Mo-Fr 9h-18h"]
    assert weekly_table(schedule) == [] and opening_status(schedule, paris(2026, 11, 23, 10, 0)) is None


def test_days_without_hours_give_no_status_but_show_in_the_table():
    schedule = parse_opening_hours(["Mo-Fr"])
    assert opening_status(schedule, paris(2026, 11, 23, 10, 0)) is None
    assert dict(weekly_table(schedule))["lundi"] == "Ouvert, horaires non précisés"


def test_readable_entries_are_kept_beside_unreadable_ones():
    schedule = parse_opening_hours(["Mo-Sa 09:30-19:00", "PH off"])
    assert schedule.unparsed == ["PH off"]
    assert status(["Mo-Sa 09:30-19:00", "PH off"], paris(2026, 11, 23, 10, 0)) == (
        True,
        "Ouvert maintenant · ferme à 19:00",
    )


@pytest.mark.parametrize("junk", [None, 42, "Mo-Fr 09:00-19:00", [None, 3, {"a": 1}, ""], ["<script>"], [" " * 10]])
def test_any_value_in_the_index_is_survived(junk):
    schedule = parse_opening_hours(junk)
    weekly_table(schedule)
    opening_status(schedule, paris(2026, 11, 23, 10, 0))


def test_what_the_crawler_writes_is_readable():
    written = normalise_opening_hours(
        ["Lundi au vendredi 9h00-12h00", "Mo-Fr 14:00-19:00"],
        [(["Saturday"], "10:00", "18:00"), (["Sunday"], None, None)],
    )
    schedule = parse_opening_hours(written)
    assert not schedule.unparsed, written
    table = dict(weekly_table(schedule))
    assert table["lundi"] == "09:00 – 12:00, 14:00 – 19:00" and table["samedi"] == "10:00 – 18:00"


@given(
    st.lists(st.text(max_size=40), max_size=5),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_never_crashes(entries, now):
    schedule = parse_opening_hours(entries)
    weekly_table(schedule)
    opening_status(schedule, now)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su", "Mo-Fr", "Sa-Su", "Fr-Mo"]),
            st.integers(0, 23),
            st.sampled_from([0, 15, 30, 45]),
            st.integers(0, 24),
            st.sampled_from([0, 30]),
        ),
        min_size=1,
        max_size=4,
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
)
def test_status_is_always_given_for_readable_hours(rules, now):
    entries = [f"{d} {h1:02d}:{m1:02d}-{h2:02d}:{0 if h2 == 24 else m2:02d}" for d, h1, m1, h2, m2 in rules]
    found = opening_status(parse_opening_hours(entries), now)
    assert found is not None and found.text.startswith("Ouvert maintenant" if found.is_open else "Fermé")


def test_closing_at_midnight_reads_as_midnight_not_tomorrow():
    schedule = parse_opening_hours(["Mo-Sa 09:00-24:00"])
    saturday_evening = datetime(2026, 11, 28, 20, 0, tzinfo=PARIS)
    assert opening_status(schedule, saturday_evening).text == "Ouvert maintenant · ferme à minuit"


def test_a_closing_time_the_spring_change_skips_is_the_jump():
    schedule = parse_opening_hours(["Mo-Su 01:00-02:30"])
    before_jump = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)  # 01:50 CET
    assert opening_status(schedule, before_jump).text == "Ouvert maintenant · ferme à 03:00"
    after_jump = datetime(2026, 3, 29, 1, 10, tzinfo=UTC)  # 03:10 CEST
    assert opening_status(schedule, after_jump).is_open is False
