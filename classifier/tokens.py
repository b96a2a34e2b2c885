"""Personal API tokens: `Authorization: Bearer <token>` makes the API act for an account.

A token is "ser_" + 32 random bytes (URL-safe base64). Only its SHA-256 digest is stored (the
secret is shown once, when it is made); the first characters are kept to tell tokens apart.
"""
import hashlib
import secrets

from django.utils import timezone
from ninja.security import HttpBearer

from .models import ApiToken
from .owners import Owner

PREFIX = "ser_"


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def create(user, name):
    """Make a token for user; returns (ApiToken, secret). The secret is not stored."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:64] or "token",
                                    prefix=secret[:len(PREFIX) + 6], digest=_digest(secret))
    return token, secret


def user_for(secret):
    """The active account a token secret belongs to, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


class TokenAuth(HttpBearer):
    """django-ninja auth: a valid personal token authenticates as its account."""

    def authenticate(self, request, token):
        return user_for(token)


def api_owner(request):
    """The Owner of an API request (its token's account), or None without a valid token."""
    user = getattr(request, "auth", None)
    return Owner(user_id=user.pk) if getattr(user, "pk", None) else None
