import json

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import core

# Marks a response that the transport must turn into a read timeout (see transport.py).
TIMEOUT_HEADER = "X-Sandbox-Timeout"


@csrf_exempt
def api(request, api):
    multipart = request.content_type == "multipart/form-data"
    files = {name: f.read() for name, f in request.FILES.items()} if multipart else {}
    call = core.Call(
        api=api.strip("/"),
        method=request.method,
        query=request.GET.dict(),
        body=b"" if multipart else request.body,
        files=files,
        post=request.POST.dict() if multipart else {},
    )
    try:
        status, body = core.handle(call)
    except core.Timeout:
        response = HttpResponse(status=504)
        response[TIMEOUT_HEADER] = "1"
        return response
    if isinstance(body, HttpResponse):
        return body
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8")


def article_image(request, key):
    """An image uploaded with media/uploadimg, at the URL the sandbox answered (WeChat serves these from mmbiz)."""
    from .endpoints.drafts import image_response

    return image_response(key)
