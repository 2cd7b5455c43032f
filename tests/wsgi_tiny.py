"""A WSGI application of two lines for tests that start gunicorn itself: /read reads the request body, any other
path answers without reading it."""


def application(environ, start_response):
    if environ["PATH_INFO"] == "/read":
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
