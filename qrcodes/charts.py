"""A small stacked bar chart of scans per day as inline SVG, rendered on the server (no script, no CDN)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from .selectors import DayCount

NEW_COLOUR = "#07c160"
EXISTING_COLOUR = "#576b95"


def scans_chart(days: list[DayCount], *, width: int = 640, height: int = 160) -> str:
    """Bars of new followers (green) over scans by existing followers (blue), one per day, with a legend."""
    top = max((d.new + d.existing for d in days), default=0) or 1
    plot_h = height - 34
    step = width / max(len(days), 1)
    bar_w = max(step * 0.7, 1)
    bars = []
    for i, d in enumerate(days):
        x = round(i * step + (step - bar_w) / 2, 1)
        new_h = round(d.new / top * plot_h, 1)
        existing_h = round(d.existing / top * plot_h, 1)
        title = f"{d.day.isoformat()}: {_('new followers')} {d.new}, {_('existing followers')} {d.existing}"
        bars.append((x, plot_h - new_h - existing_h, bar_w, existing_h, EXISTING_COLOUR, title))
        bars.append((x, plot_h - new_h, bar_w, new_h, NEW_COLOUR, title))
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        ((x, y, round(w, 1), h, colour, title) for x, y, w, h, colour, title in bars if h > 0),
    )
    first, last = (days[0].day.isoformat(), days[-1].day.isoformat()) if days else ("", "")
    return format_html(
        '<svg class="qr-chart" role="img" aria-label="{label}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'xmlns="http://www.w3.org/2000/svg" style="font:11px sans-serif;background:#fafafa">'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#ccc"/>{rects}'
        '<text x="0" y="{ty}" fill="#666">{first}</text><text x="{w}" y="{ty}" fill="#666" text-anchor="end">{last}</text>'
        '<text x="{mid}" y="{ty}" fill="#666" text-anchor="middle">'
        '<tspan fill="{nc}">■</tspan> {new} <tspan fill="{ec}">■</tspan> {existing} · max {top}</text></svg>',
        label=_("Scans per day"),
        w=width,
        h=height,
        base=plot_h,
        rects=rects,
        ty=height - 8,
        first=first,
        last=last,
        mid=width // 2,
        nc=NEW_COLOUR,
        ec=EXISTING_COLOUR,
        new=_("new followers"),
        existing=_("existing followers"),
        top=top,
    )
