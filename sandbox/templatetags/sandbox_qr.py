"""``{% sandbox_qr_codes app openid %}``: the simulator's list of the account's QR codes to scan."""

from django import template

from ..simulator_qr import codes_for

register = template.Library()


@register.inclusion_tag("sandbox/_qr_scenes.html")
def sandbox_qr_codes(app, openid):
    return {"app": app, "openid": openid, "codes": codes_for(app) if app else []}
