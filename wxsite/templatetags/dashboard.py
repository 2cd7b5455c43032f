from datetime import timedelta

from django import template
from django.db.models import Count, Q
from django.utils import timezone

from accounts.selectors import accounts_for_user
from messaging.inbound import selectors as inbound_selectors
from wechat.models import AccessToken

register = template.Library()


@register.inclusion_tag("wxsite/dashboard.html", takes_context=True)
def account_dashboard(context):
    """One row per account the operator manages: followers, today's messages, API errors, token state."""
    user = context["request"].user
    now = timezone.now()
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    accounts = accounts_for_user(user).annotate(
        follower_total=Count("followers", filter=Q(followers__subscribed=True), distinct=True),
    )
    rows = []
    for account in accounts[:20]:
        token = AccessToken.objects.filter(account=account, kind=AccessToken.Kind.ACCESS_TOKEN).first()
        rows.append(
            {
                "account": account,
                "followers": account.follower_total,
                "messages_today": inbound_selectors.follower_message_count(account=account, since=day_start),
                "api_errors": account.api_calls.filter(created_at__gte=now - timedelta(hours=24)).exclude(errcode=0).count(),
                "token_minutes": int(token.seconds_left(now) // 60) if token and token.value else None,
                "token_error": token.last_error if token else "",
            }
        )
    return {"rows": rows}
