from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import account_for_request
from wechat import tokens


class AccessTokenView(APIView):
    """The account's current access_token, so other services share the one central token."""

    required_perms = {"GET": "accounts.borrow_access_token"}

    def get(self, request, appid):
        account = account_for_request(request, appid)
        row = tokens.access_token_info(account=account)
        return Response(
            {
                "appid": account.appid,
                "access_token": row.value,
                "expires_at": row.expires_at,
                "expires_in": int((row.expires_at - timezone.now()).total_seconds()),
            }
        )
