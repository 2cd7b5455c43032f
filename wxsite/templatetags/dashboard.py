from django import template

from wxsite import dashboard

register = template.Library()


@register.inclusion_tag("wxsite/dashboard.html", takes_context=True)
def account_dashboard(context):
    """The summary of every account the operator manages, then the charts of the chosen one (``?account=<id>``)."""
    request = context["request"]
    rows = dashboard.account_rows(user=request.user)
    chosen = next((r["account"] for r in rows if str(r["account"].pk) == request.GET.get("account")), None)
    if chosen is None and rows:
        chosen = rows[0]["account"]
    return {
        "rows": rows,
        "chosen": chosen,
        "board": dashboard.account_dashboard(account=chosen) if chosen else None,
        "request": request,
    }
