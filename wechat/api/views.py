from django.utils import timezone
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import account_for_request
from wechat import tokens
from wechat.errors import WeChatError


class CanBorrowAccessToken(permissions.BasePermission):
    message = "This user is not granted 'Can read the account's access_token through the API'."

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("accounts.borrow_access_token"))


class AccessTokenView(APIView):
    """The account's current access_token, so other services share the one central token."""

    permission_classes = [permissions.IsAuthenticated, CanBorrowAccessToken]

    def get(self, request, appid):
        account = account_for_request(request, appid)
        try:
            row = tokens.access_token_info(account=account)
        except WeChatError as exc:
            return Response(exc.as_dict(), status=status.HTTP_502_BAD_GATEWAY)
        return Response(
            {
                "appid": account.appid,
                "access_token": row.value,
                "expires_at": row.expires_at,
                "expires_in": int((row.expires_at - timezone.now()).total_seconds()),
            }
        )
