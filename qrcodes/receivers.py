"""Inbound effects of QR codes, connected in QrcodesConfig.ready(): scans recorded and acted on after the reply."""

from messaging.inbound.effects import effect_register

from .services.scans import scan_record


def _inbound_scan(inbound):
    scan_record(inbound=inbound)


# After followers.event (10): a follow through a code has created the follower the actions tag.
effect_register(name="qrcodes.scan", run=_inbound_scan, order=50)
