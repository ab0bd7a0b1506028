"""
Kamaelia.Apps.Grey.StatusPage: the greylist at a glance, as an HTML page and as text
===================================================================================

What an operator would rather look at than read logs: how many greylist
entries are pending, passed and auto-whitelisted, and a chart of the last 24
hours by outcome -- deferred, passed (after a retry), never retried,
whitelisted, refused. ``renderPage`` makes the HTML page that
``StatusServer`` serves on ``/``; ``renderStats`` the plain-text report of
``kamaelia-grey stats`` (``statsReport(store, now)`` reads the store and
renders it). Pure: the data and the time come in as arguments.

Example Usage
-------------
::

    >>> from Kamaelia.Apps.Grey.StatusPage import renderPage, renderStats, hourSlots
    >>> now = 1764644400.0 + 1800                      # 2025-12-02 03:30 UTC
    >>> summary = {"pending": 12, "passed": 340, "whitelistedClients": 5}
    >>> history = [(1764644400.0, "deferred", 7), (1764644400.0, "passed", 3)]
    >>> page = renderPage(summary, history, now)
    >>> 'data-outcome="deferred" data-count="7"' in page
    True
    >>> print(renderStats(summary, history, now).splitlines()[0])
    Greylist at 2025-12-02 03:30 UTC

How does it work?
-----------------
``history`` is what a store's ``outcomeHistory(since, until)`` returns:
``(hourStart, outcome, count)`` rows, ``hourStart`` in seconds since the
epoch. ``hourSlots(now)`` gives the 24 hours shown, oldest first, the last
being the hour ``now`` falls in (UTC); ``historyWindow(now)`` the
``(since, until)`` that covers them whole. ``tally(history, now)`` sums the
rows into those slots (a row's time is rounded down to its hour; rows
outside the 24 hours, and outcomes other than ``OUTCOMES``, are left out of
the chart).

The chart is inline SVG made here, so the page needs no script, no
stylesheet from elsewhere and no network: one stacked bar per hour, one
segment (``<rect>``) per outcome -- every outcome of every hour, a zero
being a segment of no height -- each with ``data-hour`` (e.g.
``2025-12-02T03:00Z``), ``data-outcome`` and ``data-count`` attributes and a
``<title>`` tooltip ("03:00-04:00 UTC: 7 deferred") for a mouse, a test or
a screen reader. Under it a legend gives each outcome's total over the 24
hours (``data-outcome``, ``data-total``), and a table holds the same numbers
hour by hour. Everything that comes from the data is escaped.

The summary is the store's ``summary(now)`` dictionary; the page shows
``pending`` (entries never passed), ``passed`` (passed triplets) and the
auto-whitelisted clients (``autoWhitelistedClients`` or
``whitelistedClients``) and domains (``autoWhitelistedDomains`` or
``whitelistedDomains``), "-" for what is missing.
"""

from __future__ import annotations

import html
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

__all__ = ["OUTCOMES", "LABELS", "hourSlots", "historyWindow", "tally", "hourText",
           "renderPage", "renderStats", "statsReport", "glance"]

OUTCOMES = ("deferred", "passed", "never-retried", "whitelisted", "refused")
LABELS = {"deferred": "Deferred", "passed": "Passed after retry",
          "never-retried": "Never retried", "whitelisted": "Whitelisted",
          "refused": "Refused"}
COLOURS = {"deferred": "#e6a23c", "passed": "#2e9d5b", "never-retried": "#9aa4ad",
           "whitelisted": "#3b7dd8", "refused": "#c8443a"}
HOUR = 3600
HOURS = 24

History = Iterable[Tuple[float, str, int]]


# -- time, without a clock module ----------------------------------------------------------

def _civil(days: int) -> Tuple[int, int, int]:
    """(year, month, day) of a day number since 1970-01-01 (proleptic Gregorian)."""
    days += 719468
    era = days // 146097
    dayOfEra = days - era * 146097
    yearOfEra = (dayOfEra - dayOfEra // 1460 + dayOfEra // 36524 - dayOfEra // 146096) // 365
    dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra // 4 - yearOfEra // 100)
    monthIndex = (5 * dayOfYear + 2) // 153
    day = dayOfYear - (153 * monthIndex + 2) // 5 + 1
    month = monthIndex + 3 if monthIndex < 10 else monthIndex - 9
    return yearOfEra + era * 400 + (1 if month <= 2 else 0), month, day


def _dateTime(when: float) -> Tuple[int, int, int, int, int]:
    seconds = int(when // 1)
    days, rest = divmod(seconds, 86400)
    year, month, day = _civil(days)
    return year, month, day, rest // 3600, rest % 3600 // 60


def hourText(hourStart: float) -> str:
    """``2025-12-02T03:00Z``: the hour's start in UTC, as the bars' ``data-hour``."""
    year, month, day, hour, _ = _dateTime(hourStart)
    return "%04d-%02d-%02dT%02d:00Z" % (year, month, day, hour)


def _minuteText(when: float) -> str:
    year, month, day, hour, minute = _dateTime(when)
    return "%04d-%02d-%02d %02d:%02d UTC" % (year, month, day, hour, minute)


def hourSlots(now: float) -> List[float]:
    """The starts of the 24 hours shown, oldest first; the last holds ``now``."""
    current = (int(now) // HOUR) * HOUR
    return [float(current - HOUR * (HOURS - 1 - i)) for i in range(HOURS)]


def historyWindow(now: float) -> Tuple[float, float]:
    """``(since, until)`` to ask ``outcomeHistory`` for: the 24 hours shown, whole."""
    slots = hourSlots(now)
    return slots[0], slots[-1] + HOUR


def tally(history: History, now: float) -> Dict[float, Dict[str, int]]:
    """hour start -> outcome -> count, for every slot and every outcome (see the module docs)."""
    slots = hourSlots(now)
    counts = {slot: {outcome: 0 for outcome in OUTCOMES} for slot in slots}
    for hourStart, outcome, count in history:
        slot = float((int(hourStart) // HOUR) * HOUR)
        if slot in counts and outcome in counts[slot]:
            counts[slot][outcome] += max(0, int(count))
    return counts


def _totals(counts: Mapping[float, Mapping[str, int]]) -> Dict[str, int]:
    return {outcome: sum(hour[outcome] for hour in counts.values()) for outcome in OUTCOMES}


# -- the summary -------------------------------------------------------------------------

def _pick(summary: Mapping, *names: str):
    for name in names:
        if summary.get(name) is not None:
            return summary[name]
    return "-"


def glance(summary: Mapping) -> List[Tuple[str, str, object]]:
    """(key, label, value) of the summary figures shown, in order."""
    return [
        ("pending", "Entries pending (never passed)", _pick(summary, "pending")),
        ("passed", "Triplets passed", _pick(summary, "passed")),
        ("auto-whitelisted-clients", "Auto-whitelisted clients",
         _pick(summary, "autoWhitelistedClients", "whitelistedClients")),
        ("auto-whitelisted-domains", "Auto-whitelisted domains",
         _pick(summary, "autoWhitelistedDomains", "whitelistedDomains")),
    ]


# -- HTML ------------------------------------------------------------------------------------

def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
dl.glance { display: grid; grid-template-columns: max-content max-content; gap: .3em 1.5em; }
dl.glance dd { margin: 0; font-weight: bold; text-align: right; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1.2em; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em; }
table.hours { border-collapse: collapse; font-size: .85em; }
table.hours td, table.hours th { padding: .1em .6em; text-align: right; }
svg text { font-size: 11px; fill: #444; }
"""


def _chart(slots: Sequence[float], counts: Mapping[float, Mapping[str, int]]) -> str:
    barWidth, gap, height, left, bottom, top = 22, 6, 220, 44, 24, 10
    width = left + len(slots) * (barWidth + gap)
    highest = max([sum(counts[slot].values()) for slot in slots] + [0])
    scale = _niceCeiling(highest)
    plot = height - top - bottom
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" id="chart" role="img" '
             'width="%d" height="%d" viewBox="0 0 %d %d" aria-labelledby="chart-title">'
             % (width, height, width, height),
             '<title id="chart-title">Greylist outcomes per hour, last 24 hours (UTC)</title>']
    for fraction in (0, 0.5, 1):
        y = top + plot - plot * fraction
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                     % (left - 4, width, y, y))
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                     % (left - 6, y + 4, _e(_tick(scale * fraction))))
    for index, slot in enumerate(slots):
        x = left + index * (barWidth + gap)
        hour = hourText(slot)
        clock = hour[11:16]
        nextClock = hourText(slot + HOUR)[11:16]
        y = float(top + plot)
        parts.append('<g class="hour" data-hour="%s">' % _e(hour))
        for outcome in OUTCOMES:
            count = counts[slot][outcome]
            segment = plot * count / scale if scale else 0.0
            y -= segment
            parts.append(
                '<rect class="bar" x="%d" y="%.2f" width="%d" height="%.2f" fill="%s" '
                'data-hour="%s" data-outcome="%s" data-count="%d"><title>%s-%s UTC: %d %s'
                '</title></rect>' % (x, y, barWidth, segment, COLOURS[outcome], _e(hour),
                                     _e(outcome), count, _e(clock), _e(nextClock), count,
                                     _e(LABELS[outcome].lower())))
        parts.append('</g>')
        if index % 3 == 0 or index == len(slots) - 1:
            parts.append('<text x="%d" y="%d" text-anchor="middle">%s</text>'
                         % (x + barWidth // 2, height - 8, _e(clock)))
    parts.append('</svg>')
    return "\n".join(parts)


def _niceCeiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that is at least ``value`` (0 for 0)."""
    if value <= 0:
        return 0
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _tick(value: float) -> str:
    return "%d" % value if value == int(value) else "%.1f" % value


def renderPage(summary: Mapping, history: History, now: float,
               title: str = "Kamaelia Grey", refresh: int = 60) -> str:
    """The status page (HTML5, self-contained). See the module docs."""
    slots = hourSlots(now)
    counts = tally(history, now)
    totals = _totals(counts)
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">']
    if refresh > 0:
        out.append('<meta http-equiv="refresh" content="%d">' % refresh)
    out += ['<title>%s: greylist status</title>' % _e(title),
            '<style>%s</style></head><body>' % _STYLE,
            '<h1>%s: greylist status</h1>' % _e(title),
            '<p id="generated">At %s</p>' % _e(_minuteText(now)),
            '<h2>At a glance</h2><dl class="glance" id="glance">']
    for key, label, value in glance(summary):
        out.append('<dt>%s</dt><dd data-key="%s">%s</dd>' % (_e(label), _e(key), _e(value)))
    out += ['</dl>', '<h2>Last 24 hours</h2>', _chart(slots, counts),
            '<ul class="legend" id="legend">']
    for outcome in OUTCOMES:
        out.append('<li data-outcome="%s" data-total="%d"><span class="swatch" '
                   'style="background:%s"></span>%s: <strong>%d</strong></li>'
                   % (_e(outcome), totals[outcome], COLOURS[outcome], _e(LABELS[outcome]),
                      totals[outcome]))
    out += ['</ul>', '<details><summary>The numbers, hour by hour</summary>',
            '<table class="hours" id="hours"><thead><tr><th scope="col">Hour (UTC)</th>']
    out += ['<th scope="col">%s</th>' % _e(LABELS[outcome]) for outcome in OUTCOMES]
    out.append('</tr></thead><tbody>')
    for slot in slots:
        out.append('<tr><th scope="row">%s</th>%s</tr>' % (
            _e(hourText(slot)), "".join("<td>%d</td>" % counts[slot][o] for o in OUTCOMES)))
    out += ['</tbody></table></details>',
            '<p><a href="/status.json">status.json</a> &middot; '
            '<a href="/metrics">metrics</a></p>', '</body></html>', '']
    return "\n".join(out)


# -- text -------------------------------------------------------------------------------------

def renderStats(summary: Mapping, history: History, now: float) -> str:
    """The plain-text report of ``kamaelia-grey stats`` (the same figures as the page)."""
    slots = hourSlots(now)
    counts = tally(history, now)
    totals = _totals(counts)
    lines = ["Greylist at %s" % _minuteText(now)]
    figures = glance(summary)
    width = max(len(label) for _, label, _ in figures) + 1
    for _, label, value in figures:
        lines.append("  %-*s  %s" % (width, label + ":", _printable(value)))
    lines.append("")
    lines.append("Last 24 hours (UTC)")
    columns = [LABELS[outcome].lower() for outcome in OUTCOMES]
    widths = [max(len(c), 6) for c in columns]
    lines.append("  %-16s  %s" % ("hour", "  ".join(c.rjust(w) for c, w in zip(columns, widths))))
    for slot in slots:
        hour = hourText(slot)
        lines.append("  %-16s  %s" % (hour[:10] + " " + hour[11:16], "  ".join(
            str(counts[slot][o]).rjust(w) for o, w in zip(OUTCOMES, widths))))
    lines.append("  %-16s  %s" % ("total", "  ".join(
        str(totals[o]).rjust(w) for o, w in zip(OUTCOMES, widths))))
    return "\n".join(lines) + "\n"


def statsReport(source, now: float) -> str:
    """``renderStats`` of what ``source`` (a greylist store) holds at ``now``."""
    since, until = historyWindow(now)
    return renderStats(source.summary(now), source.outcomeHistory(since, until), now)


def _printable(value: object) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(value))
