"""Error pages styled like the site, each saying what went wrong and what to do next (the API
answers JSON instead: classifier/api.py and sersite.middleware.ReadableErrorsMiddleware)."""
from django.template.loader import render_to_string
from django.http import HttpResponse

PAGES = {  # status: (title, what to do next)
    400: ("The request could not be understood",
          "Go back, check what you sent and try again, or start over from the home page."),
    403: ("This request was refused",
          "If you submitted a form, reload the page it came from (your session may have expired) "
          "and try again."),
    404: ("Page not found",
          "The address may be mistyped, or the analysis was deleted. See your history or start a "
          "new analysis."),
    405: ("This address does not accept that request",
          "Open the page from the site's navigation instead."),
    413: ("The upload is too large",
          "Choose a smaller or shorter recording (cut it, or save it as MP3 or Opus) and try again."),
    429: ("Too many requests",
          "Wait a minute, then try again; the limits keep the service usable for everyone."),
    500: ("Something went wrong on our side",
          "The error was logged. Try again in a minute; if it keeps happening, try another file."),
}


def error_page(request, status, message=""):
    """An HTML error page for status with message (what was wrong) and the next step."""
    title, next_step = PAGES.get(status, PAGES[400] if status < 500 else PAGES[500])
    html = render_to_string("error.html", {"status": status, "title": title, "message": message,
                                           "next_step": next_step}, request=request)
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


def bad_request(request, exception=None):
    """handler400."""
    return error_page(request, 400)


def permission_denied(request, exception=None):
    """handler403."""
    return error_page(request, 403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form was posted without a valid CSRF token."""
    return error_page(request, 403, "The form's security token was missing or out of date.")


def page_not_found(request, exception=None):
    """handler404 (the exception's message is shown when it was written for people)."""
    text = exception.args[0] if exception and exception.args else ""
    readable = isinstance(text, str) and text.endswith(".") and "given query" not in text
    message = text if readable else ""
    return error_page(request, 404, message)


def server_error(request):
    """handler500."""
    return error_page(request, 500)
