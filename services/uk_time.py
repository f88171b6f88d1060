"""A thin pre-normaliser for the times UK staff type ("10.15", "half past nine", "at 3", "this morning about 8.45").

It splits a phrase into the day words (left to dateparser) and one clock time it has read fully; anything vague
("just before lunch") or contradictory is refused here, so nothing is silently dropped or replaced by now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from services.errors import DomainError

EXAMPLES = "for example 03/04/2026 14:30, today 10.15, yesterday at 4.30pm, half past nine or last Friday 3pm"

_HOURS = {w: i for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), start=1)}
_MINUTES = {"five": 5, "ten": 10, "quarter": 15, "twenty": 20, "twenty five": 25, "half": 30}
_HOUR = r"(?P<h>\d{1,2}|" + "|".join(_HOURS) + ")"
_MIN_WORD = r"(?P<m>\d{1,2}|twenty[ -]five|" + "|".join(_MINUTES) + ")"
_AMPM = r"\s*(?P<ampm>[ap])\.?\s?m\b\.?"
_HALF_HOUR = re.compile(rf"\bhalf {_HOUR}\b(?:{_AMPM})?")  # British "half nine" = 9:30
_TIMES = (  # tried in order; each yields hour, minutes (or none) and am/pm (or none)
    re.compile(rf"(?<![\d/.:])(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?::\d{{2}})?(?![\d/.:]\d)(?:{_AMPM})?"),
    # 0845, 1430hrs (not 2015: a year)
    re.compile(r"(?<![\d/.:])(?P<h>0\d|1\d|2[0-3])(?P<m>[0-5]\d)(?: ?(?:hrs|hours|h)\b|(?<=0\d\d\d)(?![\d/.:]))"),
    re.compile(rf"\b{_MIN_WORD}(?: minutes?)? (?P<dir>past|to) {_HOUR}\b(?:{_AMPM})?"),
    _HALF_HOUR,
    re.compile(rf"\b{_HOUR}(?: o'? ?clock\b|{_AMPM})"),
    re.compile(rf"\b(?:at|about|around) {_HOUR}\b(?![/.:]\d| ?(?:days?|weeks?|hours?|minutes?)\b)"),
    re.compile(r"(?<=day )(?P<h>\d{1,2})$"),  # "yesterday 3"
)
_BARE_HOUR = re.compile(rf"^(?P<before>.*?)\b{_HOUR}\b(?P<after>.*)$")  # "9 in the morning", with a part of the day
_JUST_A_DAY = re.compile(r"^(?:yesterday|today|tomorrow|(?:last |this )?(?:mon|tues|wednes|thurs|fri|satur|sun)day)?$")
_NOON = re.compile(r"\b(?:12 )?(?:noon|midday)\b")
_MIDNIGHT = re.compile(r"\bmidnight\b")
# Parts of the day: (pattern, day words for dateparser, "am" | "pm" | "night"); "yesterday morning" keeps "yesterday".
_PERIODS = (
    (re.compile(r"\blast night\b"), "yesterday", "night"),
    (re.compile(r"\btonight\b"), "today", "night"),
    (re.compile(r"\bthis (?P<p>morning|afternoon|evening)\b"), "today", ""),
    (re.compile(r"\b(?:in the )?(?P<p>morning|afternoon|evening|night)\b"), "", ""),
)
_ZONE = re.compile(r"\b(bst|gmt)\b")
_FILLER = re.compile(r"\b(?:about|around|approx(?:imately)?|roughly|circa|at|on|just gone|ish)\b|-ish\b|[?!,]")
_VAGUE = re.compile(r"\b(?:before|after|lunch\w*|break\w*|play\w*|assembly|registration|home ?time|school|earlier|later|"
                    r"recently|sometime|some time|few|couple|week|weeks|month|months|weekend|first thing|end|start|or|"
                    r"between|since)\b")
_SPELLING = ((r"\b(?:the )?day before yesterday\b", "2 days ago"), (r"\bweds\b", "wednesday"), (r"\bthurs?\b", "thursday"),
             (r"\bhalf an hour\b", "30 minutes"),
             (r"\ban hour and a half\b", "90 minutes"), (r"\bmins?\b", "minutes"), (r"\bhrs?\b", "hours"),
             (r"(?<=[\d a-z])-?ish\b", ""))
_ELAPSED = re.compile(r"^\d+ (?:minutes?|hours?) ago$|^an hour ago$")


class DateNotUnderstood(DomainError):
    """The text is not a date we can be sure of."""


@dataclass(frozen=True)
class Phrase:
    """What was typed, split: day words for dateparser, the clock time read (if any), and a BST/GMT hint."""

    day: str
    at: time | None = None
    zone: str = ""  # "bst" | "gmt" | ""
    elapsed: bool = False  # "20 minutes ago": an exact instant, no day or clock time


def refuse(typed: str, why: str = "") -> DateNotUnderstood:
    """The standard refusal, always with an example."""
    reason = f" {why}" if why else ""
    return DateNotUnderstood(f"Sorry, I couldn't read \u201c{typed}\u201d fully as a date and time.{reason} "
                             f"Try again, {EXAMPLES}.")


def read_phrase(typed: str) -> Phrase:
    """Split `typed` (already trimmed) into day words and one fully read clock time, or refuse it."""
    text = " ".join(typed.lower().split()).rstrip(".")
    for pattern, replacement in _SPELLING:
        text = re.sub(pattern, replacement, text)
    if _ELAPSED.match(bare := " ".join(_FILLER.sub(" ", text).split())):
        return Phrase(bare, elapsed=True)
    if _VAGUE.search(text):
        raise refuse(typed, "I need the clock time, even roughly.")
    zone = _ZONE.search(text)
    text, period = _take_period(_ZONE.sub(" ", text))
    text, at = _take_time(text, typed, period)
    if _take_time(text, typed, period)[1] is not None:
        raise refuse(typed, "I need just one time.")
    if period and at is None:
        raise refuse(typed, "I need the clock time too, e.g. this morning 8.45.")
    day = " ".join(_FILLER.sub(" ", text).split())
    if period == "night" and at is not None and at.hour < 6:  # "last night at 2am" is early this morning
        day = day.replace("yesterday", "today")
    return Phrase(day, at, zone.group(1) if zone else "")


def _take_period(text: str) -> tuple[str, str]:
    for pattern, day, fixed in _PERIODS:
        match = pattern.search(text)
        if match:
            part = fixed or match.groupdict().get("p") or ""
            period = "night" if part == "night" else "am" if part == "morning" else "pm"
            return f"{text[: match.start()]} {day} {text[match.end():]}", period
    return text, ""


def _take_time(text: str, typed: str, period: str) -> tuple[str, time | None]:
    """Remove the first clock time from `text`: (the rest, the time read)."""
    if match := _MIDNIGHT.search(text):
        rest = " ".join(_FILLER.sub(" ", text[: match.start()] + " " + text[match.end():]).split())
        if rest not in ("", "yesterday") or period not in ("", "night") or (rest == "yesterday") != (period == "night"):
            raise refuse(typed, "Midnight at which end of the day? Type 00:00 or 23:59 with the date.")
        return "", time(0, 0)  # the midnight just gone
    if match := _NOON.search(text):
        return text[: match.start()] + " " + text[match.end():], time(12, 0)
    for pattern in _TIMES:
        if match := pattern.search(text):
            break
    else:
        bare = _BARE_HOUR.match(" ".join(text.split())) if period else None
        rest = " ".join(_FILLER.sub(" ", f"{bare['before']} {bare['after']}").split()) if bare else ""
        if bare is None or not _JUST_A_DAY.match(rest):
            return text, None
        match, pattern, text = bare, _BARE_HOUR, f"{bare['before']}{bare['after']}"
    groups = match.groupdict()
    hour = int(groups["h"]) if groups["h"].isdigit() else _HOURS[groups["h"]]
    minute = 30 if pattern is _HALF_HOUR else _minute(groups.get("m"))
    if groups.get("dir") == "to":
        hour, minute = (hour - 1) or 12, 60 - minute
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise refuse(typed, "That isn't a time on the clock.")
    hour = _clock_hour(hour, groups.get("ampm"), period, padded=groups["h"].startswith("0"), typed=typed)
    rest = text if pattern is _BARE_HOUR else text[: match.start()] + " " + text[match.end():]
    return rest, time(hour, minute)


def _minute(word: str | None) -> int:
    if word is None:
        return 0
    return int(word) if word.isdigit() else _MINUTES[word.replace("-", " ")]


def _clock_hour(hour: int, ampm: str | None, period: str, *, padded: bool, typed: str) -> int:
    """24-hour clock: am/pm first, then the part of the day, then the school day (1-6 without am/pm is afternoon)."""
    clash = refuse(typed, "The time and the part of the day don't agree.")
    if ampm:
        if not 1 <= hour <= 12 or (period == "am" and ampm == "p") or (period == "pm" and ampm == "a"):
            raise clash
        return hour % 12 + (12 if ampm == "p" else 0)
    if hour > 12 or hour == 0 or padded:
        if (period == "am" and hour >= 12) or (period == "pm" and hour < 12):
            raise clash
        return hour
    if period == "am":
        return hour % 12
    if period == "pm":
        return hour % 12 + 12
    if period == "night":
        return hour + 12 if 6 <= hour < 12 else hour % 12
    return hour + 12 if 1 <= hour <= 6 else hour
