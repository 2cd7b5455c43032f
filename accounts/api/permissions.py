"""Who may call which REST endpoint: the one permission class and the one account lookup every API view uses."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from accounts.selectors import accounts_for_user

# HEAD is answered by the GET handler, so it needs what GET needs.
_SAME_AS = {"HEAD": "GET"}


def account_for_request(request, appid):
    """The account named in the URL, if this API user may manage it; 404 otherwise. Looked up once per request."""
    cached = getattr(request, "_wxsite_account", None)
    if cached is not None and cached.appid == appid:
        return cached
    account = accounts_for_user(request.user).filter(appid=appid).first()
    if account is None:
        raise Http404(_("No such account for this user."))
    request._wxsite_account = account
    return account


class AccountPermission(permissions.BasePermission):
    """The model permission the view names for the HTTP method, then the grant on the account in the URL.

    Views declare ``required_perms = {"GET": "app.view_model", "POST": "app.add_model"}``. A method (or a view)
    without an entry is refused, so an endpoint added without declaring its permissions fails closed.
    Missing permission: 403. An account the user is not granted (or that does not exist): 404.
    """

    message = _("You do not have the permission this request needs.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        method = _SAME_AS.get(request.method, request.method)
        perm = (getattr(view, "required_perms", None) or {}).get(method)
        if not perm or not user.has_perm(perm):
            if perm:
                self.message = _("This request needs the permission “%(perm)s”.") % {"perm": perm}
            return False
        appid = view.kwargs.get("appid")
        if appid is not None:
            account_for_request(request, appid)
        return True
