"""The school calendar's cards: the closures ahead (what routine reminders wait for) and what a change saved."""

from __future__ import annotations

from datetime import date, timedelta

from dialogs.kit.cards import Card, card, facts, heading, plain, say, text
from services.breach.facts import ICO_CLOCK_RULE
from services.school.calendar import NATIONS, SchoolCalendar, Span, holidays_between, school_year
from services.school.calendar_dates import EXAMPLE, Reading
from storage.calendar_models import DayKind

AHEAD = timedelta(days=365)
SHOWN = 20  # closures listed on one card
NEVER_PAUSE = (f"**Breach alerts and the ICO deadline never pause: {ICO_CLOCK_RULE}.** "
               "Routine reminders (post housekeeping, removal nags after the first, training reminders, the weekly "
               "digest, account reviews) wait for the next school day's morning.")


def _days(first: date, last: date) -> str:
    return f"{first:%a %d %b %Y}" if first == last else f"{first:%a %d %b} \u2013 {last:%a %d %b %Y}"


def calendar_card(calendar: SchoolCalendar, today: date, *, is_dpo: bool) -> Card:
    """The school days ahead: closures for a year (weekends aside), INSET days, and where the dates come from."""
    typical = calendar.is_typical(school_year(today))
    source = ("England's typical term dates (your school hasn't given its own for this school year yet)" if typical
              else "your school's own dates (England's typical ones where it hasn't given them)")
    closures = holidays_between(calendar, today, today + AHEAD)
    insets = [s for s in calendar.own if s.kind is DayKind.INSET and today <= s.ends_on <= today + AHEAD]
    body = [
        heading("School calendar"),
        text(f"From {source}, with the bank holidays of {NATIONS[calendar.region]}.", subtle=True),
        facts([(_days(first, last), plain(why)) for first, last, why in closures[:SHOWN]]),
    ]
    if len(closures) > SHOWN:
        body.append(text(f"\u2026 and {len(closures) - SHOWN} more.", subtle=True))
    if insets:
        body += [text("**INSET days** (staff are in, so reminders go):"), facts([(_days(s.starts_on, s.ends_on), plain(s.label))
                                                                               for s in insets])]
    body.append(text(NEVER_PAUSE))
    if not is_dpo:
        return card(body)
    body.append(text(f"To change them, type **term dates** and the ranges, one per line, {EXAMPLE}; or attach your local "
                     "authority's term dates file (CSV or .ics) to a message saying **term dates**. "
                     "**term dates clear** goes back to the typical dates.", subtle=True))
    return card(body, [say("Go back to typical dates", "term dates clear")] if not typical else [])


def _line(span: Span) -> tuple[str, str]:
    return _days(span.starts_on, span.ends_on), f"{plain(span.label)} ({span.kind.value})"


def saved_card(reading: Reading, calendar: SchoolCalendar, today: date) -> Card:
    """What was saved, what was not used, and the next closure."""
    body = [heading(f"Term dates saved: {len(reading.spans)} range{'s' if len(reading.spans) != 1 else ''}"),
            facts([_line(s) for s in sorted(reading.spans, key=lambda s: s.starts_on)[:SHOWN]])]
    if len(reading.spans) > SHOWN:
        body.append(text(f"\u2026 and {len(reading.spans) - SHOWN} more.", subtle=True))
    if reading.not_used:
        listed = "; ".join(plain(line) for line in reading.not_used[:10])
        body.append(text(f"Not used (not a term, holiday or INSET day): {listed}", subtle=True))
    upcoming = holidays_between(calendar, today, today + AHEAD)[:1]
    if upcoming:
        first, last, why = upcoming[0]
        body.append(text(f"Next closure: {_days(first, last)} ({plain(why)}). Type **term dates** to see them all."))
    body.append(text(NEVER_PAUSE, subtle=True))
    return card(body)
