"""Small HTML pieces of the admin (status badges, progress bars), free of admin imports so template tags may use them."""

from django.utils.html import format_html

SYNC_COLOURS = {"pending": "#b7791f", "synced": "#2f855a", "failed": "#c53030", "syncing": "#2b6cb0"}


def badge(colour: str, label: str, title: str = ""):
    """A small coloured label; ``title`` (e.g. the last WeChat error) shows on hover."""
    return format_html(
        '<span class="wx-badge" title="{}" style="background:{};color:#fff;border-radius:8px;padding:1px 8px;'
        'font-size:11px;white-space:nowrap;display:inline-block">{}</span>',
        title or "",
        colour or "#4a5568",
        label,
    )


def sync_badge(status: str, label: str, error: str = ""):
    return badge(SYNC_COLOURS.get(status, "#4a5568"), label, error)


def progress_bar(done: int, total: int):
    pct = int(done * 100 / total) if total else 0
    return format_html(
        '<span class="wx-progress" style="white-space:nowrap;display:inline-flex;align-items:center;gap:6px">'
        '<span style="width:120px;background:#e2e8f0;border-radius:4px;height:12px;display:inline-block" title="{} / {}">'
        '<span style="width:{}%;background:#38a169;height:12px;border-radius:4px;display:block"></span></span> {}%</span>',
        done,
        total,
        pct,
        pct,
    )
