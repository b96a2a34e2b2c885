"""Project-wide middleware: the Permissions-Policy header, and readable 4xx bodies (JSON for
the API, text where Django answers with an empty body, e.g. 405 from require_http_methods)."""
import json

from django.conf import settings
from django.http import HttpResponse

from classifier.errors import error_page

EMPTY_ERROR_MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method {method} is not allowed here; use {allowed}.",
    413: "The request is too large.",
}


class PermissionsPolicyMiddleware:
    """Add the Permissions-Policy header (settings.PERMISSIONS_POLICY) to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class ReadableErrorsMiddleware:
    """Make every 4xx readable: API errors (/api/...) always JSON {"error": ...}; page errors
    that Django sends with an empty body (e.g. 405) get the site's error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not 400 <= response.status_code < 500 or response.streaming:
            return response
        api = request.path.startswith("/api/")
        if api and response.get("Content-Type", "").startswith("application/json"):
            return response
        if not api and response.content:
            return response
        text = response.content.decode(errors="replace").strip()
        template = EMPTY_ERROR_MESSAGES.get(response.status_code, "The request was refused.")
        message = text if text and "<" not in text and len(text) < 200 else template.format(
            method=request.method, allowed=response.headers.get("Allow", "another method"))
        if api:
            readable = HttpResponse(json.dumps({"error": message}), status=response.status_code,
                                    content_type="application/json")
        else:
            readable = error_page(request, response.status_code, message)
        for name, value in response.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                readable.headers[name] = value
        readable.cookies = response.cookies
        return readable
