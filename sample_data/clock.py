"""Time as integers: days and seconds since 1970-01-01 UTC.

Millions of events are formatted, so timestamps are built by hand from integers instead of
through datetime objects.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

DAY = 86_400
HOUR = 3_600
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

# How a match's tools write timestamps (see format_timestamp).
UTC_Z, UTC_MILLIS, WITH_OFFSET, NO_OFFSET = range(4)


def day_number(date: datetime.date) -> int:
    return date.toordinal() - _EPOCH_ORDINAL


def to_date(day: int) -> datetime.date:
    return datetime.date.fromordinal(day + _EPOCH_ORDINAL)


@cache  # a history spans a few thousand days at most
def date_text(day: int) -> str:
    return to_date(day).isoformat()


def weekday(day: int) -> int:
    """Monday = 0; 1970-01-01 was a Thursday."""
    return (day + 3) % 7


def offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def format_timestamp(epoch: int, style: int, offset_minutes: int = 0) -> str:
    """ISO-8601 in one of four styles: ...Z, ....000Z, ...+hh:mm (local wall time), no offset.

    Timestamps without an offset are written in UTC wall time: the pipeline reads them in
    the program time zone, UTC by default, so they keep their meaning there.
    """
    if style == WITH_OFFSET:
        epoch += offset_minutes * 60
        suffix = offset_text(offset_minutes)
    elif style == UTC_MILLIS:
        suffix = ".000Z"  # as JavaScript's toISOString writes whole seconds
    elif style == NO_OFFSET:
        suffix = ""
    else:
        suffix = "Z"
    day, seconds = divmod(epoch, DAY)
    hours, seconds = divmod(seconds, HOUR)
    minutes, seconds = divmod(seconds, 60)
    return f"{date_text(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}{suffix}"


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    first_day: int
    last_day: int

    @property
    def key(self) -> int:
        """Months since year 0: sortable, and the same for every run."""
        return self.year * 12 + self.month - 1

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> int:
        return self.first_day * DAY

    @property
    def end(self) -> int:
        """First second after the month."""
        return (self.last_day + 1) * DAY

    def last_weekday(self) -> int:
        day = self.last_day
        while weekday(day) >= 5:
            day -= 1
        return day


def month_of(key: int) -> Month:
    year, month_index = divmod(key, 12)
    first = datetime.date(year, month_index + 1, 1)
    following = datetime.date(year + (month_index + 1) // 12, (month_index + 1) % 12 + 1, 1)
    return Month(year, month_index + 1, day_number(first), day_number(following) - 1)


def month_key_of_day(day: int) -> int:
    date = to_date(day)
    return date.year * 12 + date.month - 1
