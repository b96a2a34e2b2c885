"""Rate limits per client with django-ratelimit over the shared cache (settings.CACHES).

The client is the account when signed in (or the API token's account), else the address
(an anonymous visitor can drop its cookie; its address stays). Limits come from settings
(`SER_RATE_*`, e.g. "30/10m"; "off" for no limit; a malformed one fails `manage.py check`).
A refused request gets 429 with `Retry-After` and a message (JSON for the API and Live mode).

    @limited("analyse", "SER_RATE_ANALYSE")
    def analyse(request): ...
"""
import functools
import json
import re

from django.conf import settings
from django.core import checks
from django.http import HttpResponse
from django_ratelimit.core import get_usage

from .errors import error_page
from .uploads import wants_json


RATE_SETTINGS = ("SER_RATE_ANALYSE", "SER_RATE_API", "SER_RATE_LIVE_START",
                 "SER_RATE_LIVE_CHUNK", "SER_RATE_SIGN_IN")
RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")   # count / [number of] second|minute|hour|day
UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
OFF = ("", "off", "0")


@checks.register()
def check_rates(app_configs, **kwargs):
    """System check: every SER_RATE_* setting is "N/[M]unit" or "off"."""
    return [checks.Error(f"{name}={getattr(settings, name)!r} is not a rate",
                         hint='Use e.g. "30/10m" (30 per 10 minutes; units s, m, h, d) or "off".',
                         id="classifier.E001")
            for name in RATE_SETTINGS
            if getattr(settings, name).strip().lower() not in OFF
            and not RATE.match(getattr(settings, name).strip())]


def client_ip(request):
    """The client's address: REMOTE_ADDR, or the entry SER_PROXY_HOPS proxies from the right
    of X-Forwarded-For (what the platform's own router saw)."""
    hops = settings.SER_PROXY_HOPS
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if p.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def client_key(group, request):
    """Rate-limit key: "user:<id>" for an account (page session or API token), else the IP."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    return f"user:{user_id}" if user_id else f"ip:{client_ip(request)}"


def check(request, group, setting):
    """Count this request against the limit; None if allowed, else the 429 response."""
    rate = getattr(settings, setting).strip()
    if rate.lower() in OFF:
        return None
    usage = get_usage(request, group=group, key=client_key, rate=rate,
                      method=get_usage.UNSAFE, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    # The counter's window covers whole seconds up to and including its end second.
    wait = max(1, usage["time_left"] + 1)
    message = (f"Too many requests: the limit is {usage['limit']} per "
               f"{_period(rate)}. Try again in {wait} s.")
    if wants_json(request) or request.path.startswith("/live/"):
        response = HttpResponse(json.dumps({"error": message}), status=429,
                                content_type="application/json")
    else:
        response = error_page(request, 429, message)
    response["Retry-After"] = str(wait)
    return response


def _period(rate):
    _, number, unit = RATE.match(rate).groups()
    return UNITS[unit] if number in ("", "1") else f"{number} {UNITS[unit]}s"


def limited(group, setting):
    """View decorator: answer 429 when the client went over settings.<setting> in group
    (POST and other unsafe methods count; GET is free)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            return check(request, group, setting) or view(request, *args, **kwargs)
        return wrapper
    return decorate
