"""Opening hours: "Ouvert maintenant · ferme à 19:00", computed on Paris's clock.

Shops' hours reach the index as schema.org ``openingHours`` strings, which the crawler
normalises (``crawler/extract/hours.py``) to ``"Mo-Fr 09:00-19:00"``, ``"Mo,We-Sa
14:00-18:30"``, ``"Sa 10:00-12:00"``; a lunch break is two entries for the same days.
Read here also: several ranges in one entry (``"Mo-Fr 09:00-12:00,14:00-19:00"``),
rules separated by ``;``, times without days (every day), ``"Su off"`` / ``"closed"``,
and hours past midnight (``"Fr-Sa 18:00-02:00"`` closes on the next day's night).

Hours are wall-clock times in Europe/Paris: on the nights the clocks change, 09:00 is
still 09:00, whatever the UTC offset. Comparisons are made in UTC instants so the
repeated hour of the autumn change is not confused. A string that cannot be read is
kept as text for the page (never an error); with nothing readable no status is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.i18n import _

PARIS = ZoneInfo("Europe/Paris")
DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
# msgids, translated when used
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MINUTES_PER_DAY = 24 * 60

_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_DAYS = re.compile(rf"^{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Opening:
    """Open on ``day`` (0 = Monday) from ``opens`` to ``closes`` minutes after its midnight;
    ``closes`` beyond 1440 reaches into the next day."""

    day: int
    opens: int
    closes: int


@dataclass
class Schedule:
    openings: list[Opening] = field(default_factory=list)
    closed_days: set[int] = field(default_factory=set)  # said explicitly ("Su off")
    unknown_hours_days: set[int] = field(default_factory=set)  # days named without hours
    unparsed: list[str] = field(default_factory=list)  # shown as they are

    @property
    def readable(self) -> bool:
        return bool(self.openings or self.closed_days or self.unknown_hours_days)


@dataclass(frozen=True)
class Status:
    is_open: bool
    text: str  # "Ouvert maintenant · ferme à 19:00"


def _parse_days(text: str) -> list[int] | None:
    if not _DAYS.match(text):
        return None
    codes = [c.lower() for c in DAY_CODES]
    days: list[int] = []
    for part in text.split(","):
        first, _dash, last = part.partition("-")
        start = codes.index(first.lower())
        end = codes.index(last.lower()) if last else start
        days.extend((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return days


def _parse_range(text: str) -> tuple[int, int] | None:
    match = _RANGE.match(text.strip())
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        return None
    opens, closes = h1 * 60 + m1, h2 * 60 + m2
    if opens >= MINUTES_PER_DAY:
        return None
    if closes <= opens:  # past midnight ("18:00-02:00"); "00:00-00:00" is the whole day
        closes += MINUTES_PER_DAY
    return opens, closes


_TOKEN = re.compile(
    rf"\s*(?:(?P<days>{_DAY}(?:-{_DAY})?(?:,{_DAY}(?:-{_DAY})?)*)(?![a-z])"
    r"|(?P<range>\d{1,2}:\d{2}\s*[-–]\s*\d{1,2}:\d{2})"
    r"|(?P<closed>off|closed|fermé|ferme)(?![a-zé])"
    r"|(?P<sep>[;,]))",
    re.IGNORECASE,
)


def _parse_entry(text: str, schedule: Schedule) -> bool:
    """Add the rules of one entry to ``schedule``; ``False`` (nothing added) when any part
    of it is unreadable. Rules are ``<days> <ranges>``; a new day list starts a new rule, so
    ``"Mo-Fr 09:00-12:00,14:00-19:00, Sa 10:00-18:00"`` reads like two entries."""
    rules: list[tuple[list[int] | None, list[tuple[int, int]], bool]] = []
    days: list[int] | None = None
    ranges: list[tuple[int, int]] = []
    closed = False
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip():
                return False
            break
        position = match.end()
        if match.group("days"):
            if ranges or closed:
                rules.append((days, ranges, closed))
                days, ranges, closed = None, [], False
            days = (days or []) + (_parse_days(match.group("days")) or [])
        elif match.group("range"):
            span = _parse_range(match.group("range"))
            if span is None:
                return False
            ranges.append(span)
        elif match.group("closed"):
            closed = True
        elif match.group("sep") == ";" and (days is not None or ranges or closed):
            rules.append((days, ranges, closed))
            days, ranges, closed = None, [], False
    if days is not None or ranges or closed:
        rules.append((days, ranges, closed))
    for rule_days, rule_ranges, rule_closed in rules:
        every = rule_days if rule_days is not None else list(range(7))  # times alone: every day
        if rule_closed:
            schedule.closed_days.update(every)
        elif rule_ranges:
            schedule.openings.extend(Opening(day, a, b) for day in every for a, b in rule_ranges)
        else:
            schedule.unknown_hours_days.update(every)
    return True


def parse_opening_hours(entries: object) -> Schedule:
    """Read ``openingHours`` strings; never raises, whatever the index holds."""
    schedule = Schedule()
    if not isinstance(entries, (list, tuple)):
        entries = [entries] if isinstance(entries, str) else []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            continue
        text = " ".join(entry.split())[:300]
        trial = Schedule()
        if _parse_entry(text, trial):
            schedule.openings.extend(trial.openings)
            schedule.closed_days |= trial.closed_days
            schedule.unknown_hours_days |= trial.unknown_hours_days
        else:
            schedule.unparsed.append(text)
    # "Su off" wins over hours given for every day.
    schedule.openings = [o for o in schedule.openings if o.day not in schedule.closed_days]
    schedule.unknown_hours_days -= schedule.closed_days
    return schedule


def clock(minutes: int) -> str:
    """``570`` -> ``"09:30"`` (past midnight wraps: ``1560`` -> ``"02:00"``)."""
    if minutes == MINUTES_PER_DAY:
        return "24:00"
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_name(day: int) -> str:
    return _(DAY_NAMES[day % 7])


def weekly_table(schedule: Schedule) -> list[tuple[str, str]]:
    """``[("lundi", "09:00 – 12:00, 14:00 – 19:00"), ..., ("dimanche", "Fermé")]``;
    empty when nothing could be read."""
    if not schedule.readable:
        return []
    rows = []
    for day in range(7):
        spans = sorted((o.opens, o.closes) for o in schedule.openings if o.day == day)
        if spans:
            text = ", ".join(f"{clock(a)} – {clock(b)}" for a, b in _merge(spans))
        elif day in schedule.unknown_hours_days:
            text = _("Ouvert, horaires non précisés")
        else:
            text = _("Fermé")
        rows.append((day_name(day), text))
    return rows


def _merge(spans):
    merged: list[list] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(span) for span in merged]


def _instant(day: date, minutes: int) -> datetime:
    """The UTC instant of a Paris wall-clock time (``minutes`` after that day's midnight).

    A time the spring change skips (02:30 that night) is the moment the clocks jump: a
    shop closing at 02:30 has closed at 03:00, not at 03:30.
    """
    extra_days, minutes = divmod(minutes, MINUTES_PER_DAY)
    wall = datetime.combine(day + timedelta(days=extra_days), time(minutes // 60, minutes % 60))
    while True:
        instant = wall.replace(tzinfo=PARIS).astimezone(UTC)
        if instant.astimezone(PARIS).replace(tzinfo=None) == wall:
            return instant
        wall += timedelta(minutes=1)  # inside the gap: at most an hour of steps, one night a year


def _when(moment: datetime, today: date) -> str:
    """How a local moment reads from ``today``: "19:00", "demain à 09:00", "lundi à 09:00"."""
    local = moment.astimezone(PARIS)
    hhmm = local.strftime("%H:%M")
    delta = (local.date() - today).days
    if delta == 0:
        return _("à %(time)s", time=hhmm)
    if delta == 1:
        if hhmm == "00:00":  # the end of today: "ferme à minuit", not "demain à 00:00"
            return _("à minuit")
        return _("demain à %(time)s", time=hhmm)
    return _("%(day)s à %(time)s", day=day_name(local.weekday()), time=hhmm)


def opening_status(schedule: Schedule, now: datetime) -> Status | None:
    """Open or closed at ``now`` (aware), and until / from when; ``None`` when unknown."""
    if not schedule.openings or schedule.unknown_hours_days:
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_utc = now.astimezone(UTC)
    today = now.astimezone(PARIS).date()
    spans = []
    for offset in range(-2, 9):  # yesterday's late hours ... next week's same day
        day = today + timedelta(days=offset)
        spans.extend(
            (_instant(day, o.opens), _instant(day, o.closes)) for o in schedule.openings if o.day == day.weekday()
        )
    spans = _merge(spans)
    horizon = _instant(today + timedelta(days=7), 0)
    for start, end in spans:
        if start <= now_utc < end:
            if end >= horizon:
                return Status(True, _("Ouvert maintenant · 24 h/24"))
            return Status(True, _("Ouvert maintenant · ferme %(when)s", when=_when(end, today)))
    upcoming = [start for start, _end in spans if start > now_utc]
    if not upcoming:
        return Status(False, _("Fermé"))
    return Status(False, _("Fermé · ouvre %(when)s", when=_when(min(upcoming), today)))


def now_in_paris() -> datetime:
    return datetime.now(PARIS)
