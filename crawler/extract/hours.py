"""Opening hours into schema.org ``openingHours`` syntax (``Mo-Fr 09:00-19:00``).

Shops declare hours as clean strings, as malformed strings
(``"Mo, Tu, We, Th,Fr08:00-17:00"``, ``", , , , , Sa 10:00-14:00, "``), as
English or French day names, or as ``openingHoursSpecification`` with one node
per day. All of them are read into (days, time range) pairs, days sharing the
same hours are grouped, and runs of days are written as ranges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_WORDS = {
    **{code.lower(): index for index, code in enumerate(DAY_CODES)},
    "mon": 0,
    "monday": 0,
    "lun": 0,
    "lundi": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "mar": 1,
    "mardi": 1,
    "wed": 2,
    "wednesday": 2,
    "mer": 2,
    "mercredi": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "jeu": 3,
    "jeudi": 3,
    "fri": 4,
    "friday": 4,
    "ven": 4,
    "vendredi": 4,
    "sat": 5,
    "saturday": 5,
    "sam": 5,
    "samedi": 5,
    "sun": 6,
    "sunday": 6,
    "dim": 6,
    "dimanche": 6,
}
_RANGE_WORDS = {"-", "–", "to", "through", "thru", "au", "à", "a"}
_CLOSED_WORDS = {"closed", "fermé", "ferme"}
_TIME = r"(\d{1,2})\s*(?:[:.]\s*(\d{2})(?::\d{2})?|[hH]\s*(\d{2})?)"
_TOKENS = re.compile(rf"(?P<range>{_TIME}\s*(?:-|–|to|à|a)\s*{_TIME})|(?P<word>[^\W\d_]+)|(?P<dash>[-–])")
_SINGLE_TIME = re.compile(rf"^\s*{_TIME}|^\s*(\d{{1,2}})\s*$")


def _time(hours: str, minutes: str | None) -> str | None:
    h, m = int(hours), int(minutes or 0)
    if h > 24 or m > 59:
        return None
    return f"{h:02d}:{m:02d}"


def _parse_text(text: str) -> list[tuple[frozenset, str | None]]:
    groups: list[tuple[frozenset, str | None]] = []
    days: list[int] = []
    pending_range = False
    for match in _TOKENS.finditer(text.rsplit("/", 1)[-1] if text.startswith("http") else text):
        if match.group("range"):
            start = _time(match.group(2), match.group(3) or match.group(4))
            end = _time(match.group(5), match.group(6) or match.group(7))
            if start and end:
                groups.append((frozenset(days), f"{start}-{end}"))
            days, pending_range = [], False
            continue
        word = (match.group("word") or match.group("dash") or "").lower()
        if word in _DAY_WORDS:
            day = _DAY_WORDS[word]
            if pending_range and days:
                first = days[-1]
                days.extend((first + offset) % 7 for offset in range(1, (day - first) % 7 + 1))
            else:
                days.append(day)
            pending_range = False
        elif word in _RANGE_WORDS:
            pending_range = bool(days)
        elif word in _CLOSED_WORDS:
            days, pending_range = [], False
    if days:
        groups.append((frozenset(days), None))
    return groups


def _spec_time(value) -> str | None:
    if not isinstance(value, str):
        return None
    match = _SINGLE_TIME.match(value)
    if not match:
        return None
    if match.group(1):
        return _time(match.group(1), match.group(2) or match.group(3))
    return _time(match.group(4), None)


def _format_days(days: frozenset) -> str:
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(DAY_CODES[run[0]] if len(run) == 1 else f"{DAY_CODES[run[0]]}-{DAY_CODES[run[-1]]}" for run in runs)


def normalise_opening_hours(texts: list[str], specifications: Sequence[tuple] = ()) -> list[str]:
    """Opening hours as a list of ``openingHours`` strings (empty when none usable).

    ``specifications`` are ``(dayOfWeek, opens, closes)`` triples from
    ``openingHoursSpecification``.
    """
    pairs: list[tuple[frozenset, str | None]] = []
    for text in texts:
        pairs.extend(_parse_text(text))
    for day_of_week, opens, closes in specifications:
        days: set[int] = set()
        for value in day_of_week if isinstance(day_of_week, list) else [day_of_week]:
            if isinstance(value, dict):
                value = value.get("name") or value.get("@id")
            if isinstance(value, str):
                for group_days, _ in _parse_text(value):
                    days |= group_days
        start, end = _spec_time(opens), _spec_time(closes)
        time = f"{start}-{end}" if start and end else None
        if days or time:
            pairs.append((frozenset(days), time))
    # days with the same hours are one entry: "Mo-Fr 09:00-19:00"
    by_time: dict[str | None, set[int]] = {}
    for group, time in pairs:
        by_time.setdefault(time, set()).update(group)
    entries = sorted(by_time.items(), key=lambda item: (min(item[1]) if item[1] else 7, item[0] or ""))
    result = []
    for time, days in entries:
        text = " ".join(part for part in (_format_days(frozenset(days)) if days else "", time or "") if part)
        if text and text not in result:
            result.append(text)
    return result
