"""Parametric QR codes (带参数二维码): scenes, tickets, PNGs, channel campaigns, scan tracking and actions (API.md §7)."""
