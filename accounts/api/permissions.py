from django.http import Http404

from accounts.selectors import accounts_for_user


def account_for_request(request, appid):
    """The account named in the URL, if this API user may manage it; 404 otherwise."""
    account = accounts_for_user(request.user).filter(appid=appid).first()
    if account is None:
        raise Http404("No such account for this user.")
    return account
