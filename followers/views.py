from django.http import HttpResponsePermanentRedirect

# Admin pages of these models lived under /admin/accounts/ before followers became its own app.
LEGACY_ADMIN_MODELS = ("tag", "follower", "followeroperation", "syncjob")


def legacy_admin_redirect(request, model: str, rest: str = ""):
    """Send a bookmark of /admin/accounts/<model>/… to /admin/followers/<model>/…, query string kept."""
    target = request.path.replace(f"/admin/accounts/{model}/", f"/admin/followers/{model}/", 1)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)
