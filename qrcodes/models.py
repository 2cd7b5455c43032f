"""Models of qrcodes."""
