"""Timestamps of a block (`exclude-newer`): RFC 3339 date-times or dates, told in UTC."""

from __future__ import annotations

import datetime as dt
import re

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def utc_text(value: str) -> str:
    """The timestamp in UTC as `YYYY-MM-DDTHH:MM:SSZ`, four-digit year; ValueError if invalid or if
    it leaves the calendar in UTC (`0001-01-01T00:00:00+01:00` is in year 0 there)."""
    try:
        moment = parse_timestamp(value).astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValueError(f"{value!r} is outside the calendar in UTC") from None
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")  # fmt: skip


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 date-time, or a date meaning its midnight UTC; naive times are UTC."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = dt.date.fromisoformat(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
