"""Writes of the QR codes app: scenes and their PNGs (scenes), channel campaigns (campaigns), scans (scans)."""
